package dev.redlock.ratelimit;

import dev.redlock.LockException;
import java.time.Duration;

/**
 * {@link RedRateLimiter#acquire(int, Duration)} could not get its permits within its maximum wait: the limiter's
 * answer was to come back after {@link #retryAfter()}, later than what was left of the wait. Raised as soon as that
 * is known, not at the end of the wait. Its {@link #key()} is the limiter's name.
 *
 * @since 0.1.0
 */
public final class RateLimitExceededException extends LockException {

    private static final long serialVersionUID = 1L;

    /** The limiter's name. */
    private final String name;
    /** Permits requested. */
    private final int permits;
    /** The last retry-after the limiter answered. */
    private final Duration retryAfter;
    /** The maximum wait of the acquire. */
    private final Duration maxWait;

    /**
     * Creates the exception, as the limiter does.
     *
     * @param name the limiter's name
     * @param permits permits requested
     * @param retryAfter the last retry-after the limiter answered
     * @param maxWait the maximum wait of the acquire
     */
    public RateLimitExceededException(String name, int permits, Duration retryAfter, Duration maxWait) {
        super(name, "rate limit '" + name + "': " + permits + " permit(s) not available within maxWait " + maxWait
                + ", retry after " + retryAfter, null);
        this.name = name;
        this.permits = permits;
        this.retryAfter = retryAfter;
        this.maxWait = maxWait;
    }

    /**
     * The limiter's name.
     *
     * @return the name given to {@code rateLimiter(name, limit)}
     */
    public String name() {
        return name;
    }

    /**
     * Permits requested.
     *
     * @return the {@code n} of the acquire
     */
    public int permits() {
        return permits;
    }

    /**
     * How long until the request would have been granted, as the limiter last answered.
     *
     * @return the retry-after, for a {@code Retry-After} header
     */
    public Duration retryAfter() {
        return retryAfter;
    }

    /**
     * The maximum wait of the acquire.
     *
     * @return the wait the acquire was given
     */
    public Duration maxWait() {
        return maxWait;
    }
}
