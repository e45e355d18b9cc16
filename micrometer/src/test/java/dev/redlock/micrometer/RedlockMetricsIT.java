package dev.redlock.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.Lease;
import dev.redlock.LockAcquireTimeoutException;
import dev.redlock.LockOptions;
import dev.redlock.ReactiveRedLock;
import dev.redlock.RedLock;
import dev.redlock.RestartGuard;
import dev.redlock.ratelimit.RateLimit;
import dev.redlock.ratelimit.RateLimitDecision;
import dev.redlock.ratelimit.RedRateLimiter;
import dev.redlock.semaphore.RedSemaphore;
import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServer;
import dev.redlock.testkit.RedisServers;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** The binding's meters against a known workload on real nodes: counts exact, timers plausible. */
class RedlockMetricsIT {

    private static final LockOptions OPTIONS = LockOptions.builder()
            .leaseTime(Duration.ofSeconds(10))
            .maxWait(Duration.ofSeconds(5))
            .nodeTimeout(Duration.ofSeconds(1))
            .build();

    private static PrometheusMeterRegistry registry() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // Prometheus drops meters whose tag keys differ from an earlier meter of the same name: fail instead
        registry.throwExceptionOnRegistrationFailure();
        return registry;
    }

    private static ReactiveRedLock client(RedisServers servers, RedlockMetrics metrics) {
        return ReactiveRedLock.builder()
                .nodes(servers.uris().toArray(String[]::new))
                .restartGuard(RestartGuard.RUN_ID)
                .healthCheckInterval(Duration.ofMillis(200))
                .metricsRecorder(metrics)
                .defaults(OPTIONS)
                .build();
    }

    @Test
    void locksSemaphoresAndLimitersAreCountedExactly(@RedisNodes(3) RedisServers servers) {
        PrometheusMeterRegistry registry = registry();
        RedlockMetrics metrics = RedlockMetrics.builder(registry)
                .groupBy(name -> name.contains(":") ? name.substring(0, name.indexOf(':')) : name)
                .serviceLevelObjectives(Duration.ofMillis(50))
                .build();
        try (ReactiveRedLock redlock = client(servers, metrics)) {
            // 20 scopes of 20 ms on 20 keys of group "orders"
            StepVerifier.create(Flux.range(0, 20).concatMap(i -> redlock.lock("orders:" + i)
                            .withLockMono(lease -> Mono.delay(Duration.ofMillis(20)).thenReturn(i))))
                    .expectNextCount(20)
                    .verifyComplete();
            assertThat(gauge(registry, "redlock.leases.active", "orders")).isZero();

            // one lease held here: a try and a short wait on it are refused, the gauge shows it
            RedLock held = redlock.lock("orders:held");
            Lease lease = held.acquire().block(Duration.ofSeconds(5));
            assertThat(gauge(registry, "redlock.leases.active", "orders")).isEqualTo(1);
            StepVerifier.create(held.tryAcquire()).verifyComplete();
            StepVerifier.create(held.withOptions(LockOptions.builder().maxWait(Duration.ofMillis(200)).build())
                            .acquire())
                    .expectError(LockAcquireTimeoutException.class)
                    .verify(Duration.ofSeconds(5));
            StepVerifier.create(lease.release()).verifyComplete();

            // a semaphore: 2 permits held inside the scope, none after
            RedSemaphore partner = redlock.semaphore("partner:quotes", 3);
            StepVerifier.create(partner.withPermitsMono(2, p -> Mono.fromCallable(
                            () -> gauge(registry, "redlock.semaphore.permits.held", "partner"))))
                    .expectNext(2.0)
                    .verifyComplete();
            assertThat(gauge(registry, "redlock.semaphore.permits.held", "partner")).isZero();

            // a rate limiter of 3 per minute: 3 of 5 requests pass
            RedRateLimiter limiter = redlock.rateLimiter("api:key-1", RateLimit.perMinute(3));
            StepVerifier.create(Flux.range(0, 5).concatMap(i -> limiter.tryAcquire(1)).map(RateLimitDecision::allowed))
                    .expectNext(true, true, true, false, false)
                    .verifyComplete();

            Timer acquired = registry.get("redlock.acquire").tags("lock.group", "orders", "outcome", "acquired").timer();
            assertThat(acquired.count()).isEqualTo(21);
            assertThat(registry.get("redlock.acquire").tags("lock.group", "orders", "outcome", "timed_out").timer()
                    .count()).as("the try and the short wait").isEqualTo(2);
            Timer held20 = registry.get("redlock.held").tags("lock.group", "orders", "release", "confirmed").timer();
            assertThat(held20.count()).isEqualTo(21);
            assertThat(held20.totalTime(TimeUnit.MILLISECONDS)).as("20 scopes of at least 20 ms").isGreaterThanOrEqualTo(400);
            assertThat(held20.max(TimeUnit.SECONDS)).isLessThan(5);
            Timer validity = registry.get("redlock.lease.validity").tags("lock.group", "orders").timer();
            assertThat(validity.count()).isEqualTo(21);
            assertThat(validity.max(TimeUnit.MILLISECONDS)).isLessThanOrEqualTo(10_000).isGreaterThan(9_000);
            assertThat(registry.get("redlock.acquire").tags("lock.group", "partner", "outcome", "acquired").timer()
                    .count()).isEqualTo(1);
            assertThat(registry.get("redlock.ratelimit.decisions").tags("lock.group", "api", "decision", "allowed")
                    .counter().count()).isEqualTo(3);
            assertThat(registry.get("redlock.ratelimit.decisions").tags("lock.group", "api", "decision", "rejected")
                    .counter().count()).isEqualTo(2);

            // every node voted yes on each of the 21 lock grants and no on the 2 refused attempts (at least: the wait
            // may have tried again on a release notification that never came); a quorum decides before the last
            // node's vote, which is recorded when it comes
            Awaitility.await().atMost(Duration.ofSeconds(5)).ignoreExceptions()
                    .untilAsserted(() -> assertVotes(registry, servers));

            // the scrape carries them under Prometheus names, with SLO and percentile buckets
            String scrape = registry.scrape();
            assertThat(scrape).contains("redlock_acquire_seconds_bucket{lock_group=\"orders\",outcome=\"acquired\",le=\"0.05\"}")
                    .contains("redlock_held_seconds_count{lock_group=\"orders\",release=\"confirmed\"} 21")
                    .contains("redlock_node_replies_seconds_count");
        }
    }

    @Test
    void aKilledNodeShowsDownAndItsRepliesAsErrors(@RedisNodes(3) RedisServers servers) {
        PrometheusMeterRegistry registry = registry();
        RedlockMetrics metrics = RedlockMetrics.builder(registry).build();
        try (ReactiveRedLock redlock = client(servers, metrics)) {
            RedLock lock = redlock.lock("k");
            StepVerifier.create(lock.withLockMono(lease -> Mono.just(1))).expectNext(1).verifyComplete();
            RedisServer victim = servers.get(2);
            String node = victim.host() + ":" + victim.port();
            // the node's meters come with its first reported reply, which may follow the scope's end (a quorum of
            // replies decides the acquire and the release)
            Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> registry.find("redlock.node.up").tag("node", node).gauge() != null);
            assertThat(gauge(registry, "redlock.node.up", node)).isEqualTo(1);
            victim.kill();
            Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> gauge(registry, "redlock.node.up", node) == 0);
            // the lock goes on with 2 of 3; the dead node's replies are errors or skips, never yes
            StepVerifier.create(lock.withLockMono(lease -> Mono.just(2))).expectNext(2).verifyComplete();
            // the quorum decided on the two live nodes; the dead one's failure is recorded when it comes (at the
            // latest at the node timeout)
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> registry.find("redlock.node.replies")
                    .tags("node", node, "script", "acquire").timers().stream()
                    .filter(t -> !"yes".equals(t.getId().getTag("reply"))).mapToDouble(Timer::count).sum() >= 1);
            assertThat(registry.find("redlock.node.replies").tags("node", node, "script", "acquire", "reply", "yes")
                    .timers().stream().mapToDouble(Timer::count).sum()).as("yes votes of the dead node: the first acquire's")
                    .isEqualTo(1);
            assertThat(registry.get("redlock.acquire").tags("lock.group", "all", "outcome", "acquired").timer().count())
                    .isEqualTo(2);
        }
    }

    private static void assertVotes(PrometheusMeterRegistry registry, RedisServers servers) {
        for (RedisServer server : servers) {
            String node = server.host() + ":" + server.port();
            assertThat(registry.get("redlock.node.replies").tags("node", node, "script", "acquire", "reply", "yes")
                    .timer().count()).as("yes votes of %s", node).isEqualTo(21);
            assertThat(registry.get("redlock.node.replies").tags("node", node, "script", "acquire", "reply", "no")
                    .timer().count()).as("no votes of %s", node).isGreaterThanOrEqualTo(2);
            assertThat(registry.get("redlock.node.replies").tags("node", node, "script", "release", "reply", "yes")
                    .timer().count()).as("releases of %s", node).isEqualTo(21);
        }
    }

    private static double gauge(PrometheusMeterRegistry registry, String name, String tag) {
        Gauge gauge = registry.find(name).tag(name.startsWith("redlock.node") ? "node" : "lock.group", tag).gauge();
        return gauge == null ? 0 : gauge.value();
    }
}
