/**
 * Fair and priority locks over the same nodes as the lock: {@link dev.redlock.fair.RedFairLock}, made by
 * {@link dev.redlock.ReactiveRedLock#fairLock(String)}.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.redlock.fair;

import org.jspecify.annotations.NullMarked;
