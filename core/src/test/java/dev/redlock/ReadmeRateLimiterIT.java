package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.ratelimit.RateLimit;
import dev.redlock.ratelimit.RateLimitDecision;
import dev.redlock.ratelimit.RedRateLimiter;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The README's rate limiter snippet, verbatim between the markers, so it stays true. */
class ReadmeRateLimiterIT {

    @Test
    void rateLimiter() {
        try (RedisServers servers = RedisServers.start(3);
                ReactiveRedLock redlock = ReactiveRedLock.builder()
                        .nodes(servers.uris().toArray(String[]::new))
                        .restartGuard(RestartGuard.RUN_ID)
                        // 1 s per node: the suite shares two cores with the nodes (the snippet does not depend on it)
                        .defaults(LockOptions.builder().nodeTimeout(Duration.ofSeconds(1)).build())
                        .build()) {
            // --- README ---
            RedRateLimiter api = redlock.rateLimiter("api:key-42", RateLimit.perSecond(2).burst(10));

            RateLimitDecision first = api.tryAcquire(1).block(Duration.ofSeconds(5));
            System.out.println(first);                     // allowed=true, remaining=9, retryAfter=PT0S

            RateLimitDecision big = api.tryAcquire(10).block(Duration.ofSeconds(5));
            System.out.println(big);                       // allowed=false, remaining=0, retryAfter=PT0.498S

            RateLimitDecision waited = api.acquire(10, Duration.ofSeconds(1)).block(Duration.ofSeconds(5));   // waits ~0.5 s
            // --- README ---
            assertThat(first).isEqualTo(new RateLimitDecision(true, 9, Duration.ZERO));
            assertThat(big.allowed()).isFalse();
            assertThat(big.retryAfter()).isPositive().isLessThanOrEqualTo(Duration.ofMillis(500));
            assertThat(waited.allowed()).isTrue();
            assertThat(waited.remaining()).isZero();
        }
    }
}
