/**
 * The lock, the first primitive on the engine SPI (not API): its {@link dev.redlock.internal.lock.LockSpec}, the
 * client facade {@link dev.redlock.internal.lock.LockClient} and the per-name handle.
 */
package dev.redlock.internal.lock;
