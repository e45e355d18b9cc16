package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redlock.internal.lock.LockClient;
import dev.redlock.ratelimit.RateLimit;
import dev.redlock.ratelimit.RateLimitDecision;
import dev.redlock.ratelimit.RedRateLimiter;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import reactor.test.scheduler.VirtualTimeScheduler;

/** Every bad argument of the rate limiter fails at call time with an {@link IllegalArgumentException} naming it. */
class RateLimitArgumentsTest {

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final FakeCluster cluster = new FakeCluster(3, vts);
    private final LockClient client = cluster.client(LockOptions.defaults());

    @AfterEach
    void noIoHappened() {
        assertThat(cluster.commands()).as("commands sent to nodes").isZero();
    }

    private static void rejects(Executable call, String... messageParts) {
        assertThatThrownBy(call::execute).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll(messageParts);
    }

    @Test
    void limits() {
        rejects(() -> RateLimit.perSecond(0), "permits must be at least 1", "0");
        rejects(() -> RateLimit.perMinute(-5), "permits", "-5");
        rejects(() -> RateLimit.per(10, null), "period must not be null");
        rejects(() -> RateLimit.per(10, Duration.ZERO), "period must be positive", "PT0S");
        rejects(() -> RateLimit.per(10, Duration.ofSeconds(-1)), "period must be positive", "PT-1S");
        rejects(() -> RateLimit.per(10, Duration.ofNanos(999)), "period", "1 µs");
        rejects(() -> RateLimit.per(10, Duration.ofDays(2)), "period", "PT48H");
        rejects(() -> RateLimit.perSecond(10).burst(0), "burst must be at least 1", "0");
        rejects(() -> RateLimit.perSecond(10).burst(-3), "burst", "-3");
        rejects(() -> RateLimit.perSecond(10).mode(null), "mode must not be null");
        rejects(() -> RateLimit.per(1, Duration.ofDays(1)).burst(50_000), "100 years", "50000");
    }

    @Test
    void limitIsAnImmutableValue() {
        RateLimit base = RateLimit.perSecond(100);
        RateLimit refined = base.burst(20).strict();
        assertThat(base).isEqualTo(new RateLimit(100, Duration.ofSeconds(1), 100, RateLimit.Mode.QUORUM));
        assertThat(refined).isEqualTo(new RateLimit(100, Duration.ofSeconds(1), 20, RateLimit.Mode.STRICT));
        assertThat(RateLimit.perMinute(6).period()).isEqualTo(Duration.ofMinutes(1));
    }

    @Test
    void names() {
        RateLimit limit = RateLimit.perSecond(10);
        rejects(() -> client.rateLimiter(null, limit), "name must not be null");
        rejects(() -> client.rateLimiter("", limit), "name must not be blank");
        rejects(() -> client.rateLimiter("   ", limit), "name must not be blank", "'   '");
        rejects(() -> client.rateLimiter("a\nb", limit), "control characters");
        rejects(() -> client.rateLimiter("api", null), "limit must not be null");
    }

    @Test
    void permitsAndWaits() {
        RedRateLimiter limiter = client.rateLimiter("api", RateLimit.perSecond(100).burst(20));
        rejects(() -> limiter.tryAcquire(0), "permits must be at least 1", "0");
        rejects(() -> limiter.tryAcquire(-1), "permits", "-1");
        rejects(() -> limiter.tryAcquire(21), "at most the burst 20", "21");
        rejects(() -> limiter.acquire(0), "permits", "0");
        rejects(() -> limiter.acquire(21), "burst 20", "21");
        rejects(() -> limiter.acquire(1, null), "maxWait");
        rejects(() -> limiter.acquire(1, Duration.ofMillis(-1)), "maxWait must not be negative", "PT-0.001S");
        rejects(() -> limiter.acquire(30, Duration.ofSeconds(1)), "burst 20", "30");
    }

    @Test
    void lazyUntilSubscribed() {
        RedRateLimiter limiter = client.rateLimiter("api", RateLimit.perSecond(100));
        limiter.tryAcquire(1);
        limiter.acquire(1);
        limiter.acquire(1, Duration.ofSeconds(1));
        // noIoHappened checks that nothing was sent
    }

    @Test
    void decisions() {
        rejects(() -> new RateLimitDecision(true, -1, Duration.ZERO), "remaining", "-1");
        rejects(() -> new RateLimitDecision(false, 0, Duration.ofMillis(-1)), "retryAfter");
        assertThat(new RateLimitDecision(false, 0, Duration.ofMillis(1500)).retryAfterSeconds()).isEqualTo(2);
        assertThat(new RateLimitDecision(false, 0, Duration.ofSeconds(3)).retryAfterSeconds()).isEqualTo(3);
        assertThat(new RateLimitDecision(true, 4, Duration.ZERO).retryAfterSeconds()).isZero();
    }
}
