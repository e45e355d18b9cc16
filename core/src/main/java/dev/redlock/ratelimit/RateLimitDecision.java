package dev.redlock.ratelimit;

import java.time.Duration;

/**
 * What a limiter answered to one request: what an HTTP handler needs for {@code 429 Too Many Requests} and its
 * {@code Retry-After} header.
 *
 * <pre>{@code
 * limiter.tryAcquire(1).flatMap(d -> d.allowed()
 *         ? handler.handle(request)
 *         : ServerResponse.status(429).header("Retry-After", Long.toString(d.retryAfterSeconds())).build());
 * }</pre>
 *
 * @param allowed whether the permits were granted
 * @param remaining when allowed, how many more permits the limiter would grant at once right after this request
 *     (as the deciding nodes saw it); 0 when refused
 * @param retryAfter when refused, how long until the same request would be granted if nobody else took permits in
 *     between (the node's clock); {@link Duration#ZERO} when allowed
 * @since 0.1.0
 */
public record RateLimitDecision(boolean allowed, long remaining, Duration retryAfter) {

    /**
     * Checks the values.
     *
     * @param allowed whether the permits were granted
     * @param remaining permits that remain
     * @param retryAfter when to come back
     * @throws IllegalArgumentException when {@code remaining} is negative, or {@code retryAfter} is null or negative
     */
    public RateLimitDecision {
        if (remaining < 0) {
            throw new IllegalArgumentException("remaining must not be negative, got " + remaining);
        }
        if (retryAfter == null || retryAfter.isNegative()) {
            throw new IllegalArgumentException("retryAfter must be zero or positive, got " + retryAfter);
        }
    }

    /**
     * {@link #retryAfter()} in whole seconds, rounded up, as the HTTP {@code Retry-After} header wants it.
     *
     * @return 0 when allowed, otherwise at least 1
     */
    public long retryAfterSeconds() {
        long s = retryAfter.getSeconds();
        return retryAfter.getNano() > 0 ? s + 1 : s;
    }
}
