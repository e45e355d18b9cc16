/**
 * The Lua scripts (not API), as values: a {@link dev.redlock.internal.script.Script} has its text, digest and kind.
 * Production nodes load only the scripts named here.
 */
package dev.redlock.internal.script;
