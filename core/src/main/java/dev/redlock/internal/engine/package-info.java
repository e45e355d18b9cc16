/**
 * The engine and its SPI (not API): {@link dev.redlock.internal.engine.Engine} wires the nodes, health, events and
 * scheduler together and runs every lease operation; {@link dev.redlock.internal.engine.LeaseSpec} is what a
 * primitive gives it (scripts, quorum rule, renewal). A new primitive implements {@code LeaseSpec} in its own
 * package and copies no engine code.
 */
package dev.redlock.internal.engine;
