package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.internal.lock.LockClient;
import dev.redlock.metrics.LockMetricsRecorder;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.scheduler.VirtualTimeScheduler;

/** Adaptive lease times in virtual time over in-memory nodes: hold times recorded, the lease following them. */
class AdaptiveLeaseTest {

    private static final LockOptions ADAPTIVE = LockOptions.builder()
            .leaseTime(Duration.ofSeconds(1))
            .maxWait(Duration.ofSeconds(1))
            .adaptiveLeaseTime(true)
            .build();

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final FakeCluster cluster = new FakeCluster(3, vts);
    private final List<String> reported = new CopyOnWriteArrayList<>();

    private LockClient client(LockOptions defaults) {
        cluster.nodes.forEach(n -> n.latency(Duration.ofMillis(1)));
        return (LockClient) cluster.builder()
                .defaults(defaults)
                .adaptiveLeaseGroups(name -> name.substring(0, name.indexOf(':')))
                .metricsRecorder(new LockMetricsRecorder() {
                    @Override
                    public void adaptiveLeaseTime(String group, Duration leaseTime) {
                        reported.add(group + "=" + leaseTime.toMillis());
                    }
                })
                .build();
    }

    /** Eight scopes of the group "job" that each hold for {@code hold}, one after the other. */
    private void holdEightTimes(LockClient redlock, Duration hold) {
        List<Long> done = new CopyOnWriteArrayList<>();
        Flux.range(0, 8).concatMap(i -> redlock.withLockMono("job:" + i,
                        lease -> Mono.delay(hold, vts).thenReturn(lease.leaseTime().toMillis())))
                .subscribe(done::add);
        vts.advanceTimeBy(hold.multipliedBy(8).plusSeconds(1));
        assertThat(done).hasSize(8);
    }

    /** Acquires {@code key} manually and reports its lease time and the key's TTL on the first node. */
    private long[] acquireAndRelease(LockClient redlock, String key) {
        AtomicReference<Lease> lease = new AtomicReference<>();
        redlock.acquire(key).subscribe(lease::set);
        vts.advanceTimeBy(Duration.ofMillis(10));
        long[] seen = {lease.get().leaseTime().toMillis(), cluster.node(0).pttl("lock:{" + key + "}")};
        lease.get().release().subscribe();
        vts.advanceTimeBy(Duration.ofMillis(10));
        return seen;
    }

    @Test
    void afterEightLongHoldsTheGroupsLeaseCoversThreeTimesTheHold() {
        LockClient redlock = client(ADAPTIVE);
        List<LockEvent> events = new CopyOnWriteArrayList<>();
        Disposable subscription = redlock.events().subscribe(events::add);

        long[] before = acquireAndRelease(redlock, "report:first");
        assertThat(before[0]).as("lease time before any long hold").isEqualTo(1_000);

        holdEightTimes(redlock, Duration.ofSeconds(2));

        // holds of 2 s plus the acquire's round trip, all alike: (p95 + 2σ) × 3 is just over 6 s
        long[] after = acquireAndRelease(redlock, "job:next");
        assertThat(after[0]).as("adaptive lease time (ms)").isBetween(6_000L, 6_100L);
        assertThat(after[1]).as("PTTL of the key on a node (ms)").isBetween(after[0] - 10, after[0]);
        // another group has its own hold times (one of 10 ms)
        assertThat(acquireAndRelease(redlock, "report:1")[0]).isEqualTo(1_000);

        subscription.dispose();
        assertThat(reported).containsExactly("report=1000", "job=1000", "job=" + after[0]);
        assertThat(events).filteredOn(e -> e.type() == LockEvent.Type.ADAPTIVE_LEASE)
                .extracting(e -> e.key().orElseThrow() + "=" + e.duration().toMillis())
                .containsExactly("report:first=1000", "job:0=1000", "job:next=" + after[0]);
        assertThat(cluster.liveLockKeys()).isZero();
    }

    @Test
    void shortHoldsKeepTheBaseLeaseTime() {
        LockClient redlock = client(ADAPTIVE);
        holdEightTimes(redlock, Duration.ofMillis(100));
        assertThat(acquireAndRelease(redlock, "job:next")[0]).isEqualTo(1_000);
    }

    @Test
    void aFixedLeaseTimeIgnoresHoldTimes() {
        LockClient redlock = client(ADAPTIVE.mutate().adaptiveLeaseTime(false).build());
        holdEightTimes(redlock, Duration.ofSeconds(2));
        assertThat(acquireAndRelease(redlock, "job:next")[0]).isEqualTo(1_000);
        assertThat(reported).isEmpty();
        assertThat(redlock.engine().holdTimes().groups()).isZero();
    }

    @Test
    void leasesThatExpireUnderTheirHolderRaiseTheLeaseTime() {
        // no watchdog: a body of 2 s outlives its 1 s lease, which expires under it; each expiry counts as a hold of
        // at least the lease, and the next leases grow until the bodies fit
        LockClient redlock = client(ADAPTIVE.mutate().watchdog(false).build());
        List<String> outcomes = new CopyOnWriteArrayList<>();
        Flux.range(0, 12).concatMap(i -> redlock.withLockMono("job:" + i,
                                lease -> Mono.delay(Duration.ofSeconds(2), vts).thenReturn("held " + lease.leaseTime()))
                        .onErrorResume(LeaseLostException.class, e -> Mono.just("lost " + e.reason())))
                .subscribe(outcomes::add);
        for (int s = 0; s < 60 && outcomes.size() < 12; s++) {
            vts.advanceTimeBy(Duration.ofSeconds(1));
        }

        assertThat(outcomes).hasSize(12);
        assertThat(outcomes.subList(0, 8)).allMatch(o -> o.equals("lost EXPIRED"));
        assertThat(outcomes.subList(8, 12)).allMatch(o -> o.startsWith("held ")).doesNotContain("held PT1S");
        assertThat(cluster.liveLockKeys()).isZero();
    }

    @Test
    void theOptionIsPartOfTheOptionsValue() {
        LockOptions fixed = ADAPTIVE.mutate().adaptiveLeaseTime(false).build();
        assertThat(LockOptions.defaults().adaptiveLeaseTime()).isFalse();
        assertThat(ADAPTIVE.mutate().build()).isEqualTo(ADAPTIVE).hasSameHashCodeAs(ADAPTIVE);
        assertThat(fixed).isNotEqualTo(ADAPTIVE);
        assertThat(fixed.hashCode()).isNotEqualTo(ADAPTIVE.hashCode());
        assertThat(ADAPTIVE.toString()).contains("adaptiveLeaseTime=true");
    }

    @Test
    void semaphoresRejectAnAdaptiveLeaseTime() {
        LockClient redlock = client(ADAPTIVE);
        // the client's adaptive defaults are a lock's: its semaphores use fixed lease times
        assertThat(redlock.semaphore("pool", 3).options().adaptiveLeaseTime()).isFalse();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> redlock.semaphore("pool", 3).withOptions(ADAPTIVE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("adaptiveLeaseTime");
    }
}
