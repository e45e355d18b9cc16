/**
 * Read-write locks and the lock modes they share with hierarchical locks: {@link dev.redlock.rw.RedReadWriteLock},
 * made by {@link dev.redlock.ReactiveRedLock#readWriteLock(String)}, and {@link dev.redlock.rw.LockMode}.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.redlock.rw;

import org.jspecify.annotations.NullMarked;
