package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.redlock.ratelimit.RateLimit;
import dev.redlock.ratelimit.RateLimitDecision;
import dev.redlock.ratelimit.RateLimitExceededException;
import dev.redlock.ratelimit.RedRateLimiter;
import dev.redlock.testkit.RedisServer;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Flux;

/** The rate limiter against real redis-server processes, on 1 and 5 nodes. */
class RateLimiterIT {

    /**
     * A client whose nodes get 1 s each: the suite shares two cores with five nodes, and a reply slower than the
     * default 100 ms is not what these tests are about.
     */
    static ReactiveRedLock client(RedisServers servers) {
        return RedisFixtures.builder(servers).defaults(LockOptions.builder().nodeTimeout(Duration.ofSeconds(1)).build())
                .build();
    }

    /** One permit per 10 s, bursts of 5: nothing comes back during a test step. */
    private static final RateLimit SLOW = RateLimit.perMinute(6).burst(5);

    @ParameterizedTest(name = "{0} node(s)")
    @ValueSource(ints = {1, 5})
    void burstThenRefusals(int nodes) {
        for (RateLimit.Mode mode : RateLimit.Mode.values()) {
            try (RedisServers servers = RedisServers.start(nodes);
                    ReactiveRedLock client = client(servers)) {
                RedRateLimiter limiter = client.rateLimiter("api:" + mode, SLOW.mode(mode));
                for (int i = 4; i >= 0; i--) {
                    RateLimitDecision d = limiter.tryAcquire(1).block(Duration.ofSeconds(5));
                    assertThat(d).as("%s: request %d", mode, 5 - i).isEqualTo(new RateLimitDecision(true, i, Duration.ZERO));
                }
                RateLimitDecision refused = limiter.tryAcquire(1).block(Duration.ofSeconds(5));
                assertThat(refused.allowed()).isFalse();
                assertThat(refused.remaining()).isZero();
                // the first permit comes back 10 s after the first request, which was moments ago
                assertThat(refused.retryAfter()).isBetween(Duration.ofSeconds(8), Duration.ofSeconds(10));
                assertThat(refused.retryAfterSeconds()).isBetween(9L, 10L);
                RateLimitDecision two = limiter.tryAcquire(2).block(Duration.ofSeconds(5));
                assertThat(two.allowed()).isFalse();
                assertThat(two.retryAfter()).isBetween(Duration.ofSeconds(18), Duration.ofSeconds(20));

                // the key: on every node in quorum mode, on one node in strict mode, with the TTL of a full bucket
                String key = "lock:rate:{api:" + mode + "}"; // the default key prefix is "lock:"
                List<List<String>> keys = servers.keys(key);
                long holding = keys.stream().filter(k -> !k.isEmpty()).count();
                assertThat(holding).isEqualTo(mode == RateLimit.Mode.STRICT ? 1 : nodes);
                for (RedisServer server : servers) {
                    Long pttl = server.admin().pttl(key);
                    assertThat(pttl).as("TTL").satisfiesAnyOf(
                            t -> assertThat(t).isEqualTo(-2L),
                            t -> assertThat(t).isBetween(40_000L, 50_000L));
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} node(s)")
    @ValueSource(ints = {1, 5})
    void acquireWaitsForItsTurnAndFailsAtOnceBeyondMaxWait(int nodes) {
        try (RedisServers servers = RedisServers.start(nodes);
                ReactiveRedLock client = client(servers)) {
            RedRateLimiter fast = client.rateLimiter("fast", RateLimit.perSecond(5).burst(1));
            assertThat(fast.tryAcquire(1).block().allowed()).isTrue();
            long start = System.nanoTime();
            RateLimitDecision waited = fast.acquire(1, Duration.ofSeconds(2)).block(Duration.ofSeconds(5));
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(waited.allowed()).isTrue();
            assertThat(tookMs).as("waited for the next permit (200 ms apart)").isBetween(100L, 1_000L);

            RedRateLimiter slow = client.rateLimiter("slow", SLOW.burst(1));
            assertThat(slow.tryAcquire(1).block().allowed()).isTrue();
            start = System.nanoTime();
            assertThatThrownBy(() -> slow.acquire(1, Duration.ofSeconds(3)).block(Duration.ofSeconds(5)))
                    .isInstanceOfSatisfying(RateLimitExceededException.class, e -> {
                        assertThat(e.name()).isEqualTo("slow");
                        assertThat(e.permits()).isEqualTo(1);
                        assertThat(e.maxWait()).isEqualTo(Duration.ofSeconds(3));
                        assertThat(e.retryAfter()).isBetween(Duration.ofSeconds(8), Duration.ofSeconds(10));
                        assertThat(e.getMessage()).contains("slow", "PT3S");
                    });
            assertThat((System.nanoTime() - start) / 1_000_000)
                    .as("failed at once: the retry-after lies beyond maxWait, no sleep first").isLessThan(1_000L);
        }
    }

    @Test
    void cancelledWaitSendsNothingMore() throws InterruptedException {
        try (RedisServers servers = RedisServers.start(1);
                ReactiveRedLock client = quietClient(servers)) {
            RedRateLimiter limiter = client.rateLimiter("cancelled", RateLimit.perSecond(2).burst(1));
            assertThat(limiter.tryAcquire(1).block().allowed()).isTrue();
            resetStats(servers);
            reactor.core.Disposable waiting = limiter.acquire(1).subscribe();
            await().until(() -> scriptCalls(servers) == 1); // refused: the next call is due in 500 ms
            waiting.dispose();
            Thread.sleep(1_000);
            assertThat(scriptCalls(servers)).as("no call after the cancel").isEqualTo(1);
        }
    }

    /**
     * Waits are scheduled from the retry-after, not polled: one acquirer taking 30 permits at 20/s with no burst
     * makes one script call for the first and two for each other (a refusal, then the call at its retry-after, which
     * the node's clock has reached by then: the delay starts after the refusal was read). Counted on the nodes
     * ({@code INFO commandstats}), with the client's health checks off so that only the limiter runs scripts. On 5
     * nodes the count also holds the follow-ups of split votes: a request that lands just as a permit comes back
     * finds it back on some nodes and not yet on others, and is then charged or refunded on those in the minority
     * (and, when refused, asked again). Hence at most 2.5 per admitted request; a poll would add one call per node
     * per poll interval for every wait.
     */
    @ParameterizedTest(name = "{0} node(s)")
    @ValueSource(ints = {1, 5})
    void waitsAreScheduled(int nodes) {
        try (RedisServers servers = RedisServers.start(nodes);
                ReactiveRedLock client = quietClient(servers)) {
            RedRateLimiter limiter = client.rateLimiter("paced", RateLimit.perSecond(20).burst(1));
            assertThat(limiter.tryAcquire(1).block().allowed()).isTrue(); // the nodes learn the script
            resetStats(servers);
            int admitted = 30;
            Flux.range(0, admitted).concatMap(i -> limiter.acquire(1, Duration.ofSeconds(5))).blockLast(Duration.ofSeconds(20));
            double perAdmitted = scriptCalls(servers) / (double) nodes / admitted;
            assertThat(perAdmitted).as("script calls per admitted request and node").isBetween(1.0, nodes == 1 ? 2.0 : 2.5);
        }
    }

    /** {@link #client} without health checks: the nodes run no script but the limiter's. */
    private static ReactiveRedLock quietClient(RedisServers servers) {
        return RedisFixtures.builder(servers).healthCheckInterval(Duration.ZERO)
                .defaults(LockOptions.builder().nodeTimeout(Duration.ofSeconds(1)).build())
                .build();
    }

    private static void resetStats(RedisServers servers) {
        servers.forEach(server -> server.admin().configResetstat());
    }

    /** Scripts the nodes ran since {@link #resetStats} ({@code EVALSHA}, and {@code EVAL} after a NOSCRIPT). */
    private static long scriptCalls(RedisServers servers) {
        long calls = 0;
        for (RedisServer server : servers) {
            calls += RedisFixtures.calls(server, "evalsha") + RedisFixtures.calls(server, "eval");
        }
        return calls;
    }
}
