package dev.redlock;

import java.time.Duration;

/**
 * The lock stayed held by another owner until {@code maxWait} ran out. The nodes themselves answered: had they
 * not, the error would be a {@link QuorumUnavailableException}.
 */
public final class LockAcquireTimeoutException extends LockException {

    private static final long serialVersionUID = 1L;

    private final Duration maxWait;
    private final int attempts;

    public LockAcquireTimeoutException(String key, Duration maxWait, int attempts) {
        super(key, "lock '" + key + "' is held by another owner: acquire gave up after maxWait " + maxWait + " and "
                + attempts + (attempts == 1 ? " attempt" : " attempts"), null);
        this.maxWait = maxWait;
        this.attempts = attempts;
    }

    /** The configured wait that ran out. */
    public Duration maxWait() {
        return maxWait;
    }

    /** How many quorum attempts were made. */
    public int attempts() {
        return attempts;
    }
}
