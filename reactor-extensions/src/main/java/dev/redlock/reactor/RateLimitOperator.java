package dev.redlock.reactor;

import dev.redlock.ratelimit.RateLimitDecision;
import dev.redlock.ratelimit.RateLimitExceededException;
import dev.redlock.ratelimit.RedRateLimiter;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Paces a publisher to a distributed rate limit, as an operator: each element takes one permit of the limiter and is
 * passed on once it has it, in order.
 *
 * <pre>{@code
 * Flux<Response> sent = requests.transform(RateLimitOperator.of(partnerLimiter, Duration.ofSeconds(30)))
 *         .concatMap(partner::send);
 * }</pre>
 *
 * <p>An element waits as {@link RedRateLimiter#acquire(int, Duration)} does: scheduled from the limiter's
 * retry-after, never polling; one element waits at a time (the next is requested from upstream only after it), so
 * order is kept and at most one element is held back. When an element cannot get its permit within the maximum wait,
 * the result fails with {@link RateLimitExceededException} (carrying the retry-after) and the upstream is cancelled.
 * Cancelling the result cancels the wait and the upstream; a request whose decision was still out is given back.
 * A {@code Mono} stays a {@code Mono}.
 *
 * @param <T> the element type
 * @since 0.1.0
 */
public final class RateLimitOperator<T> implements UnaryOperator<Publisher<T>> {

    private final RedRateLimiter limiter;
    private final @Nullable Duration maxWait;

    private RateLimitOperator(RedRateLimiter limiter, @Nullable Duration maxWait) {
        this.limiter = limiter;
        this.maxWait = maxWait;
    }

    /**
     * An operator whose elements wait for their permit as long as it takes.
     *
     * @param limiter the limiter whose permits the elements take
     * @param <T> the element type
     * @return the operator, for {@code transform}
     * @throws IllegalArgumentException for a null limiter
     */
    public static <T> RateLimitOperator<T> of(RedRateLimiter limiter) {
        if (limiter == null) {
            throw new IllegalArgumentException("limiter must not be null");
        }
        return new RateLimitOperator<>(limiter, null);
    }

    /**
     * An operator whose elements each wait at most {@code maxWait} for their permit.
     *
     * @param limiter the limiter whose permits the elements take
     * @param maxWait the longest wait of one element (see {@link RedRateLimiter#acquire(int, Duration)})
     * @param <T> the element type
     * @return the operator, for {@code transform}
     * @throws IllegalArgumentException for a null limiter, or a null, negative, fractional-millisecond or longer
     *     than a day {@code maxWait}
     */
    public static <T> RateLimitOperator<T> of(RedRateLimiter limiter, Duration maxWait) {
        if (limiter == null) {
            throw new IllegalArgumentException("limiter must not be null");
        }
        limiter.acquire(1, maxWait); // checks maxWait at call time (lazy: sends nothing)
        return new RateLimitOperator<>(limiter, maxWait);
    }

    private Mono<RateLimitDecision> permit() {
        return maxWait == null ? limiter.acquire(1) : limiter.acquire(1, maxWait);
    }

    /**
     * Wraps the upstream into a publisher of the same elements, each passed on once it has its permit.
     *
     * @param upstream the publisher to pace
     * @return a {@code Mono} for a {@code Mono}, otherwise a {@code Flux}
     */
    @Override
    public Publisher<T> apply(Publisher<T> upstream) {
        if (upstream instanceof Mono) {
            return ((Mono<T>) upstream).flatMap(v -> permit().thenReturn(v));
        }
        return Flux.from(upstream).concatMap(v -> permit().thenReturn(v), 0);
    }
}
