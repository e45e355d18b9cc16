/**
 * Events and metrics (not API): {@link dev.redlock.internal.event.EventBus} hands events to {@code events()}
 * subscribers without ever calling them on a lock operation's thread, and feeds the metrics recorder through
 * {@link dev.redlock.internal.event.GuardedRecorder}, which keeps a failing recorder from failing a lock.
 */
package dev.redlock.internal.event;
