/**
 * The fair lock on the engine SPI: {@link dev.redlock.internal.fair.FairScript} (the waiter queue and heartbeats on
 * sorted sets), {@link dev.redlock.internal.fair.FairLockSpec} (one waiter) and the handle.
 */
package dev.redlock.internal.fair;
