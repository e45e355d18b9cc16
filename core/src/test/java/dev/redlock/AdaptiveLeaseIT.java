package dev.redlock;

import static dev.redlock.RedisFixtures.client;
import static dev.redlock.RedisFixtures.lockKeys;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServer;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Adaptive lease times against real redis-server processes: the keys' TTL follows the hold times. */
class AdaptiveLeaseIT {

    private static final LockOptions ADAPTIVE = LockOptions.builder()
            .leaseTime(Duration.ofMillis(500))
            .maxWait(Duration.ofSeconds(2))
            .adaptiveLeaseTime(true)
            .build();

    /**
     * The key's PTTL on {@code server} once its grant landed there: the lease comes at the quorum, a third node's
     * grant may follow a moment later.
     */
    private static long grantedTtl(RedisServer server) {
        long[] ttl = new long[1];
        await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(5))
                .until(() -> (ttl[0] = server.admin().pttl("lock:{adaptive}")) > 0);
        return ttl[0];
    }

    @Test
    void afterLongHoldsTheKeysLiveForTheAdaptiveLeaseTime(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers, ADAPTIVE)) {
            RedLock lock = redlock.lock("adaptive");
            Lease first = lock.acquire().block(Duration.ofSeconds(5));
            long firstTtl = grantedTtl(servers.get(0));
            first.release().block(Duration.ofSeconds(5));
            assertThat(first.leaseTime()).isEqualTo(Duration.ofMillis(500));
            assertThat(firstTtl).as("PTTL under the base lease time (ms)").isBetween(1L, 500L);

            // eight holds of 400 ms (one manual, seven scoped, the watchdog renewing the 500 ms lease)
            Lease manual = lock.acquire().block(Duration.ofSeconds(5));
            Mono.delay(Duration.ofMillis(400)).then(manual.release()).block(Duration.ofSeconds(5));
            Flux.range(0, 7).concatMap(i -> lock.withLock(lease -> Mono.delay(Duration.ofMillis(400))))
                    .blockLast(Duration.ofSeconds(10));

            // nine holds: one of a few ms and eight of 400 ms, so (p95 + 2σ) × 3 is about 2 s (σ ≈ 125 ms)
            Lease adapted = lock.acquire().block(Duration.ofSeconds(5));
            long leaseMillis = adapted.leaseTime().toMillis();
            try {
                assertThat(leaseMillis).as("adaptive lease time (ms)").isBetween(1_500L, 3_000L);
                for (RedisServer server : servers) {
                    assertThat(grantedTtl(server)).as("PTTL on %s (ms)", server)
                            .isGreaterThan(leaseMillis - 300)
                            .isLessThanOrEqualTo(leaseMillis);
                }
            } finally {
                adapted.release().block(Duration.ofSeconds(5));
            }
            await().atMost(Duration.ofSeconds(2)).until(() -> lockKeys(servers) == 0);
        }
    }
}
