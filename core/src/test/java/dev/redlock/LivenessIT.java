package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.testkit.FaultProxies;
import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Liveness figures with faulty nodes (reliability goals G6 and G7): with a minority faulty, uncontended acquires stay
 * fast (p99 within the node timeout + 20 ms); with a majority faulty, every acquire ends with the quorum error within
 * maxWait + 100 ms — no hang.
 */
class LivenessIT {

    private static final Duration NODE_TIMEOUT = Duration.ofMillis(100);
    private static final int ACQUIRES = 300;

    private static ReactiveRedLock client(FaultProxies proxies, Duration maxWait) {
        return ReactiveRedLock.builder()
                .nodes(proxies.uris().toArray(String[]::new))
                .restartGuard(RestartGuard.RUN_ID) // nodes the test kit just started (RedisFixtures.builder)
                .defaults(LockOptions.builder()
                        .leaseTime(Duration.ofSeconds(5))
                        .nodeTimeout(NODE_TIMEOUT)
                        .maxWait(maxWait)
                        .build())
                .build();
    }

    /** Uncontended acquire + release on fresh keys; returns the acquire latencies in nanoseconds, sorted. */
    private static long[] uncontendedAcquires(ReactiveRedLock lock, String prefix) {
        long[] nanos = new long[ACQUIRES];
        for (int i = 0; i < ACQUIRES; i++) {
            long start = System.nanoTime();
            Lease lease = lock.acquire(prefix + i).block(Duration.ofSeconds(5));
            nanos[i] = System.nanoTime() - start;
            lease.release().block(Duration.ofSeconds(5));
        }
        Arrays.sort(nanos);
        return nanos;
    }

    private static double millis(long nanos) {
        return nanos / 1e6;
    }

    private void minorityFaulty(RedisServers servers, String fault, Consumer<FaultProxies> inject, Runnable heal) {
        try (FaultProxies proxies = FaultProxies.inFrontOf(servers);
                ReactiveRedLock lock = client(proxies, Duration.ofSeconds(2))) {
            lock.connect().block(Duration.ofSeconds(5));
            uncontendedAcquires(lock, "warm-"); // connections, scripts, JIT
            inject.accept(proxies);
            try {
                long[] nanos = uncontendedAcquires(lock, fault + "-");
                long p50 = nanos[nanos.length / 2];
                long p99 = nanos[(int) Math.ceil(nanos.length * 0.99) - 1];
                System.out.printf("liveness minority-%s acquires=%d p50=%.2fms p99=%.2fms max=%.2fms%n",
                        fault, ACQUIRES, millis(p50), millis(p99), millis(nanos[nanos.length - 1]));
                assertThat(TimeUnit.NANOSECONDS.toMillis(p99))
                        .as("uncontended acquire p99 with 2 of 5 nodes %s (ms)", fault)
                        .isLessThanOrEqualTo(NODE_TIMEOUT.toMillis() + 20);
            } finally {
                heal.run();
            }
        }
    }

    @Test
    void minorityKilled(@RedisNodes(5) RedisServers servers) {
        minorityFaulty(servers, "killed", p -> {
            servers.get(1).kill();
            servers.get(3).kill();
        }, () -> {});
    }

    @Test
    void minorityStopped(@RedisNodes(5) RedisServers servers) {
        minorityFaulty(servers, "sigstop", p -> {
            servers.get(0).pause();
            servers.get(4).pause();
        }, () -> {
            servers.get(0).resume();
            servers.get(4).resume();
        });
    }

    @Test
    void minorityPartitioned(@RedisNodes(5) RedisServers servers) {
        minorityFaulty(servers, "blackholed", p -> {
            p.get(2).blackhole(true);
            p.get(3).blackhole(true);
        }, () -> {});
    }

    @Test
    void minoritySlowerThanTheNodeTimeout(@RedisNodes(5) RedisServers servers) {
        minorityFaulty(servers, "slow", p -> {
            p.get(0).latency(Duration.ofMillis(300), Duration.ofMillis(50), dev.redlock.testkit.FaultProxy.Direction.BOTH);
            p.get(1).latency(Duration.ofMillis(300), Duration.ofMillis(50), dev.redlock.testkit.FaultProxy.Direction.BOTH);
        }, () -> {});
    }

    @Test
    void majorityFaultyFailsEveryAcquireWithTheQuorumErrorInTime(@RedisNodes(5) RedisServers servers) {
        Duration maxWait = Duration.ofMillis(300);
        int attempts = 50;
        try (FaultProxies proxies = FaultProxies.inFrontOf(servers);
                ReactiveRedLock lock = client(proxies, maxWait)) {
            lock.connect().block(Duration.ofSeconds(5));
            lock.acquire("warm-up").flatMap(Lease::release).block(Duration.ofSeconds(5));
            proxies.get(0).blackhole(true);
            servers.get(2).kill();
            servers.get(4).pause();
            long worst = 0;
            int quorumErrors = 0;
            try {
                for (int i = 0; i < attempts; i++) {
                    long start = System.nanoTime();
                    try {
                        lock.acquire("k" + i).block(Duration.ofSeconds(5));
                    } catch (QuorumUnavailableException expected) {
                        quorumErrors++;
                    }
                    worst = Math.max(worst, System.nanoTime() - start);
                }
            } finally {
                servers.get(4).resume();
            }
            System.out.printf("liveness majority-faulty acquires=%d quorum-errors=%d worst=%.2fms (maxWait %d ms)%n",
                    attempts, quorumErrors, millis(worst), maxWait.toMillis());
            assertThat(quorumErrors).isEqualTo(attempts);
            assertThat(TimeUnit.NANOSECONDS.toMillis(worst)).isLessThanOrEqualTo(maxWait.toMillis() + 100);
        }
    }
}
