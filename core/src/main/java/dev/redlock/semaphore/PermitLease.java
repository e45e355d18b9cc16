package dev.redlock.semaphore;

import dev.redlock.Lease;

/**
 * Proof of holding {@link #permits()} permits of a {@link RedSemaphore}: a {@link Lease} whose {@link #key()} is the
 * semaphore's name. Everything else is the lease's: the token, the deadline, {@link #extend}, {@link #release()},
 * {@link #lost()}; no fencing token.
 *
 * @since 0.1.0
 */
public interface PermitLease extends Lease {

    /**
     * How many permits this lease holds.
     *
     * @return the {@code n} of the acquire, between 1 and the semaphore's permits
     */
    int permits();
}
