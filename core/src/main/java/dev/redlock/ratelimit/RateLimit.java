package dev.redlock.ratelimit;

import java.time.Duration;

/**
 * A rate limit: {@code permits} per {@code period}, with bursts of up to {@code burst} permits, enforced as
 * {@link Mode}. Immutable; each method that changes a setting returns a new instance, so a limit can be kept as a
 * constant and refined where it is used:
 *
 * <pre>{@code
 * RateLimit api = RateLimit.perSecond(100).burst(20);        // 100/s on average, at most 20 at once
 * RateLimit exact = RateLimit.perMinute(600).strict();       // held exactly, on one node
 * }</pre>
 *
 * <p>Bound: over any interval of length {@code t}, a limiter admits at most {@code permits · t / period + burst}
 * permits in {@link Mode#STRICT} mode; in {@link Mode#QUORUM} mode on N nodes with quorum q = N/2 + 1 that bound is
 * multiplied by N/q (under 2 for every N), because each admitted request consumed capacity on only q of the N nodes.
 *
 * @param permits permits per period, at least 1
 * @param period the period, at least 1 µs and at most a day
 * @param burst how many permits may be taken at once (the bucket's size), at least 1; a request for more than
 *     {@code burst} permits could never be admitted and is rejected at call time
 * @param mode how the nodes decide
 * @since 0.1.0
 */
public record RateLimit(int permits, Duration period, int burst, Mode mode) {

    /** The longest period. */
    private static final Duration MAX_PERIOD = Duration.ofDays(1);

    /** The longest span of a full bucket: the node's TAT in µs must stay an exact Lua number (below 2^53). */
    private static final double MAX_SPAN_NANOS = Duration.ofDays(36_500).toNanos();

    /**
     * How a limiter over N nodes decides.
     *
     * @since 0.1.0
     */
    public enum Mode {
        /**
         * The script runs on every node; a request is admitted when a majority admitted it. Survives the loss of a
         * minority of nodes; admits at most N/q times the limit (q = N/2 + 1). A request refused overall is refunded
         * on the nodes that admitted it.
         */
        QUORUM,
        /**
         * The script runs on one node, chosen by the limit's name (see {@link RedRateLimiter}); the limit holds
         * exactly, and the limiter fails while that node is down.
         */
        STRICT
    }

    /**
     * Checks the values.
     *
     * @param permits permits per period
     * @param period the period
     * @param burst how many permits may be taken at once
     * @param mode how the nodes decide
     * @throws IllegalArgumentException when {@code permits} or {@code burst} is below 1, the period is null, not
     *     positive, shorter than 1 µs or longer than a day, a full bucket ({@code burst · period / permits}) spans more than
     *     100 years, or the mode is null; the message names the value
     */
    public RateLimit {
        if (permits < 1) {
            throw new IllegalArgumentException("permits must be at least 1, got " + permits);
        }
        if (period == null) {
            throw new IllegalArgumentException("period must not be null");
        }
        if (period.isZero() || period.isNegative()) {
            throw new IllegalArgumentException("period must be positive, got " + period);
        }
        if (period.compareTo(Duration.ofNanos(1000)) < 0 || period.compareTo(MAX_PERIOD) > 0) {
            throw new IllegalArgumentException("period must be between 1 µs and " + MAX_PERIOD + ", got " + period);
        }
        if (burst < 1) {
            throw new IllegalArgumentException("burst must be at least 1, got " + burst);
        }
        if ((double) period.toNanos() / permits * burst > MAX_SPAN_NANOS) {
            throw new IllegalArgumentException("burst · period / permits must be at most 100 years (the scripts' exact"
                    + " range), got burst " + burst + " of " + permits + " per " + period);
        }
        if (mode == null) {
            throw new IllegalArgumentException("mode must not be null");
        }
    }

    /**
     * {@code permits} per {@code period}, with a burst of {@code permits} and {@link Mode#QUORUM}.
     *
     * @param permits permits per period, at least 1
     * @param period the period, positive, at least 1 µs and at most a day
     * @return the limit
     * @throws IllegalArgumentException for bad values, named in the message
     */
    public static RateLimit per(int permits, Duration period) {
        return new RateLimit(permits, period, Math.max(permits, 1), Mode.QUORUM);
    }

    /**
     * {@code permits} per second: {@link #per(int, Duration)}.
     *
     * @param permits permits per second, at least 1
     * @return the limit
     * @throws IllegalArgumentException when {@code permits} is below 1
     */
    public static RateLimit perSecond(int permits) {
        return per(permits, Duration.ofSeconds(1));
    }

    /**
     * {@code permits} per minute: {@link #per(int, Duration)}.
     *
     * @param permits permits per minute, at least 1
     * @return the limit
     * @throws IllegalArgumentException when {@code permits} is below 1
     */
    public static RateLimit perMinute(int permits) {
        return per(permits, Duration.ofMinutes(1));
    }

    /**
     * This limit with another burst.
     *
     * @param burst how many permits may be taken at once, at least 1
     * @return a new limit
     * @throws IllegalArgumentException when {@code burst} is below 1
     */
    public RateLimit burst(int burst) {
        return new RateLimit(permits, period, burst, mode);
    }

    /**
     * This limit in another mode.
     *
     * @param mode how the nodes decide
     * @return a new limit
     * @throws IllegalArgumentException when {@code mode} is null
     */
    public RateLimit mode(Mode mode) {
        return new RateLimit(permits, period, burst, mode);
    }

    /**
     * This limit in {@link Mode#STRICT} mode.
     *
     * @return a new limit
     */
    public RateLimit strict() {
        return mode(Mode.STRICT);
    }

}
