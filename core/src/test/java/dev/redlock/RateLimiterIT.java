package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redlock.internal.lock.LockClient;
import dev.redlock.internal.node.NodeChannel;
import dev.redlock.internal.script.Script;
import dev.redlock.ratelimit.RateLimit;
import dev.redlock.ratelimit.RateLimitDecision;
import dev.redlock.ratelimit.RateLimitExceededException;
import dev.redlock.ratelimit.RedRateLimiter;
import dev.redlock.testkit.RedisServer;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

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
    void cancelledWaitSendsNothingMore() {
        try (RedisServers servers = RedisServers.start(1);
                ReactiveRedLock client = client(servers)) {
            ScriptCounter counter = ScriptCounter.install(client);
            RedRateLimiter slow = client.rateLimiter("cancelled", SLOW.burst(1));
            assertThat(slow.tryAcquire(1).block().allowed()).isTrue();
            Mono<RateLimitDecision> waiting = slow.acquire(1);
            reactor.core.Disposable d = waiting.subscribe();
            org.awaitility.Awaitility.await().until(() -> counter.acquires() == 2);
            d.dispose();
            assertThat(counter.acquires()).isEqualTo(2);
        }
    }

    /**
     * Waits are scheduled from the retry-after, not polled: one acquirer taking 30 permits at 20/s with no burst
     * makes one script call for the first and two for each other (a refusal, then the call at its retry-after, which
     * the node's clock has reached by then: the delay starts after the refusal was read).
     */
    @ParameterizedTest(name = "{0} node(s)")
    @ValueSource(ints = {1, 5})
    void waitsAreScheduled(int nodes) {
        try (RedisServers servers = RedisServers.start(nodes);
                ReactiveRedLock client = client(servers)) {
            ScriptCounter counter = ScriptCounter.install(client);
            RedRateLimiter limiter = client.rateLimiter("paced", RateLimit.perSecond(20).burst(1));
            int admitted = 30;
            Flux.range(0, admitted).concatMap(i -> limiter.acquire(1, Duration.ofSeconds(5))).blockLast(Duration.ofSeconds(20));
            double perAdmitted = counter.acquires() / (double) nodes / admitted;
            assertThat(perAdmitted).as("script calls per admitted request").isBetween(1.0, 2.0);
        }
    }

    /** Counts the rate limiter's acquire scripts sent to the nodes (the engine's node decorator seam). */
    static final class ScriptCounter {
        private final AtomicLong acquires = new AtomicLong();

        static ScriptCounter install(ReactiveRedLock client) {
            ScriptCounter counter = new ScriptCounter();
            ((LockClient) client).engine().decorateNodes(node -> new Counted(node, counter));
            return counter;
        }

        long acquires() {
            return acquires.get();
        }

        private record Counted(NodeChannel node, ScriptCounter counter) implements NodeChannel {
            @Override
            public String name() {
                return node.name();
            }

            @Override
            public NodeConnection ready() {
                NodeConnection c = node.ready();
                return c == null ? null : new CountedConnection(c, counter);
            }

            @Override
            public CompletionStage<NodeConnection> connect() {
                return node.connect().thenApply(c -> new CountedConnection(c, counter));
            }

            @Override
            public CompletionStage<Void> subscribe(String channel, Runnable onMessage) {
                return node.subscribe(channel, onMessage);
            }

            @Override
            public void unsubscribe(String channel, Runnable onMessage) {
                node.unsubscribe(channel, onMessage);
            }

            @Override
            public CompletionStage<Void> closeAsync() {
                return node.closeAsync();
            }
        }

        private record CountedConnection(NodeChannel.NodeConnection connection, ScriptCounter counter)
                implements NodeChannel.NodeConnection {
            @Override
            public CompletionStage<Long> eval(Script script, String[] keys, String[] args) {
                if (script.name().equals("rate-acquire")) {
                    counter.acquires.incrementAndGet();
                }
                return connection.eval(script, keys, args);
            }

            @Override
            public dev.redlock.NodeHeldOutException heldOut(long nowNanos) {
                return connection.heldOut(nowNanos);
            }

            @Override
            public CompletionStage<Void> closed() {
                return connection.closed();
            }
        }
    }
}
