/**
 * The engine behind the public API in {@code dev.redlock}: not API, it may change in any release.
 *
 * <p>A primitive (the lock, later semaphores, rate limiters, ...) is its scripts, a quorum rule and a lease whose
 * renewal is a script: it implements {@link dev.redlock.internal.engine.LeaseSpec} and the engine does the rest. This
 * package holds the small helpers every part shares: argument checks, lease tokens, script digests and the count of
 * operations in flight.
 */
package dev.redlock.internal;
