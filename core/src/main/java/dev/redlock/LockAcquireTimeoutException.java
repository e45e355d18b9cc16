package dev.redlock;

import java.time.Duration;

/**
 * The lock stayed held by another owner until {@code maxWait} ran out. The nodes themselves answered: had they
 * not, the error would be a {@link QuorumUnavailableException}.
 *
 * @since 0.1.0
 */
public final class LockAcquireTimeoutException extends LockException {

    private static final long serialVersionUID = 1L;

    /** The configured wait that ran out. */
    private final Duration maxWait;
    /** How many quorum attempts were made. */
    private final int attempts;

    /**
     * Creates the exception, as the client does.
     *
     * @param key the lock key
     * @param maxWait the configured wait that ran out ({@link LockOptions#maxWait()})
     * @param attempts how many quorum attempts were made
     */
    public LockAcquireTimeoutException(String key, Duration maxWait, int attempts) {
        super(key, "lock '" + key + "' is held by another owner: acquire gave up after maxWait " + maxWait + " and "
                + attempts + (attempts == 1 ? " attempt" : " attempts"), null);
        this.maxWait = maxWait;
        this.attempts = attempts;
    }

    /**
     * The configured wait that ran out.
     *
     * @return {@link LockOptions#maxWait()} of the acquire
     */
    public Duration maxWait() {
        return maxWait;
    }

    /**
     * How many quorum attempts were made.
     *
     * @return the count; zero when the wait ran out while queued behind other waiters of this client on the key
     */
    public int attempts() {
        return attempts;
    }
}
