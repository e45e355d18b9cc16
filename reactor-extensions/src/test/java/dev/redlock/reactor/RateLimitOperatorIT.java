package dev.redlock.reactor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redlock.LockOptions;
import dev.redlock.ReactiveRedLock;
import dev.redlock.RestartGuard;
import dev.redlock.ratelimit.RateLimit;
import dev.redlock.ratelimit.RateLimitExceededException;
import dev.redlock.ratelimit.RedRateLimiter;
import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class RateLimitOperatorIT {

    private static ReactiveRedLock client(RedisServers servers) {
        return ReactiveRedLock.builder()
                .nodes(servers.uris().toArray(String[]::new))
                // the test kit started the nodes moments ago: no lease can exist that they could have forgotten
                .restartGuard(RestartGuard.RUN_ID)
                // 1 s per node: the build shares two cores with the nodes; slow replies are not the subject here
                .defaults(LockOptions.builder().nodeTimeout(Duration.ofSeconds(1)).build())
                .build();
    }

    @Test
    void pacesAFluxInOrder(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock client = client(servers)) {
            RedRateLimiter limiter = client.rateLimiter("paced", RateLimit.perSecond(20).burst(1));
            long start = System.nanoTime();
            List<Integer> out = Flux.range(0, 20)
                    .transform(RateLimitOperator.of(limiter, Duration.ofSeconds(5)))
                    .collectList()
                    .block(Duration.ofSeconds(10));
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(out).containsExactlyElementsOf(Flux.range(0, 20).collectList().block());
            assertThat(tookMs).as("20 elements at 20/s without burst: 19 intervals of 50 ms").isBetween(900L, 4_000L);
        }
    }

    @Test
    void failsWithTheRetryAfterWhenAnElementCannotWaitLongEnough(@RedisNodes(1) RedisServers servers) {
        try (ReactiveRedLock client = client(servers)) {
            RedRateLimiter limiter = client.rateLimiter("slow", RateLimit.perMinute(6).burst(2));
            AtomicInteger cancelled = new AtomicInteger();
            StepVerifier.create(Flux.range(0, 10)
                            .doOnCancel(cancelled::incrementAndGet)
                            .transform(RateLimitOperator.of(limiter, Duration.ofSeconds(1))))
                    .expectNext(0, 1)
                    .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(RateLimitExceededException.class,
                            x -> assertThat(x.retryAfter()).isBetween(Duration.ofSeconds(8), Duration.ofSeconds(10))))
                    .verify(Duration.ofSeconds(5));
            assertThat(cancelled).as("upstream cancelled").hasValue(1);
        }
    }

    @Test
    void cancellingStopsTheWait(@RedisNodes(1) RedisServers servers) {
        try (ReactiveRedLock client = client(servers)) {
            RedRateLimiter limiter = client.rateLimiter("cancelled", RateLimit.perMinute(6).burst(1));
            StepVerifier.create(Flux.range(0, 10).transform(RateLimitOperator.<Integer>of(limiter)))
                    .expectNext(0)
                    .expectNoEvent(Duration.ofMillis(300)) // the second waits for its permit, 10 s away
                    .thenCancel()
                    .verify(Duration.ofSeconds(5));
            // nothing was taken after the first: the permit comes back one interval (10 s) after it, not later
            assertThat(limiter.tryAcquire(1).block().retryAfter()).isLessThanOrEqualTo(Duration.ofSeconds(10));
        }
    }

    @Test
    void aMonoStaysAMono(@RedisNodes(1) RedisServers servers) {
        try (ReactiveRedLock client = client(servers)) {
            RedRateLimiter limiter = client.rateLimiter("mono", RateLimit.perSecond(10).burst(1));
            Mono<String> paced = Mono.just("x").transform(RateLimitOperator.of(limiter));
            assertThat(paced.block(Duration.ofSeconds(5))).isEqualTo("x");
        }
    }

    @Test
    void badArgumentsAtCallTime() {
        assertThatThrownBy(() -> RateLimitOperator.of(null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("limiter");
        assertThatThrownBy(() -> RateLimitOperator.of(null, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("limiter");
    }
}
