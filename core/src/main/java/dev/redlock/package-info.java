/**
 * Reactive, non-blocking distributed locks over independent Redis masters (Redlock).
 *
 * <p>Start at {@link dev.redlock.ReactiveRedLock#builder()}. A {@link dev.redlock.ReactiveRedLock} hands out
 * {@link dev.redlock.Lease}s for keys, runs publishers under a lock with {@code withLock}, and reports what happens
 * to leases and nodes through {@link dev.redlock.ReactiveRedLock#events()}. Per-call settings are
 * {@link dev.redlock.LockOptions}; errors are subtypes of {@link dev.redlock.LockException}.
 * {@link dev.redlock.FencedStore} lets data kept in Redis reject writes from superseded lease holders.
 *
 * <p>Everything else in this package is internal.
 */
package dev.redlock;
