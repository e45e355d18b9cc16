/**
 * Leased semaphores over the same nodes as the lock: {@link dev.redlock.semaphore.RedSemaphore}, made by
 * {@link dev.redlock.ReactiveRedLock#semaphore(String, int)}.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.redlock.semaphore;

import org.jspecify.annotations.NullMarked;
