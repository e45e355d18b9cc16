package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.internal.lock.LockClient;
import dev.redlock.internal.script.LockScript;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * Quorum, validity, waiting and cancellation logic in virtual time over in-memory nodes. The same behaviours are
 * tested against real Redis servers in {@code QuorumLockIT}.
 */
class QuorumAcquireTest {

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final FakeCluster cluster = new FakeCluster(5, vts);

    private static LockOptions options(Duration lease, Duration maxWait) {
        return LockOptions.builder().leaseTime(lease).maxWait(maxWait).nodeTimeout(Duration.ofMillis(100)).build();
    }

    @Test
    void grantsOnQuorumWithValidityLeaseMinusElapsedMinusDrift() {
        cluster.nodes.forEach(n -> n.latency(Duration.ofMillis(3)));
        LockClient lock = cluster.client(options(Duration.ofSeconds(10), Duration.ZERO));
        AtomicReference<Lease> lease = new AtomicReference<>();

        StepVerifier.withVirtualTime(() -> lock.acquire("orders:42"), () -> vts, Long.MAX_VALUE)
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(3))
                .assertNext(lease::set)
                .verifyComplete();

        // drift = 10 s × 0.01 + 2 ms = 102 ms; elapsed = 3 ms (T1 before sending, T2 after the deciding reply)
        assertThat(lease.get().remaining()).isEqualTo(Duration.ofMillis(10_000 - 102 - 3));
        assertThat(lease.get().grantedNodes()).isGreaterThanOrEqualTo(3);
        assertThat(lease.get().token()).hasSize(32).matches("[0-9a-f]{32}");
        assertThat(lease.get().isValid()).isTrue();
    }

    @Test
    void twoOfFiveDownStillAcquires() {
        cluster.node(0).down = true;
        cluster.node(3).down = true;
        LockClient lock = cluster.client(options(Duration.ofSeconds(1), Duration.ZERO));

        StepVerifier.withVirtualTime(() -> lock.acquire("k"), () -> vts, Long.MAX_VALUE)
                .expectSubscription()
                .assertNext(l -> assertThat(l.grantedNodes()).isEqualTo(3))
                .verifyComplete();
    }

    @Test
    void silentMinorityDoesNotDelayTheDecision() {
        cluster.nodes.forEach(n -> n.latency(Duration.ofMillis(1)));
        cluster.node(1).blackhole = true;
        cluster.node(2).blackhole = true;
        LockClient lock = cluster.client(options(Duration.ofSeconds(1), Duration.ZERO));

        // decided at the third grant (1 ms), not at the 100 ms node timeout of the silent nodes
        StepVerifier.withVirtualTime(() -> lock.acquire("k"), () -> vts, Long.MAX_VALUE)
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(1))
                .expectNextCount(1)
                .verifyComplete();
    }

    @Test
    void liveNodesThatCouldNotAnswerInTheRestOfMaxWaitAreNotReportedAsFailed() {
        cluster.node(0).latency(Duration.ofMillis(5));
        cluster.node(1).latency(Duration.ofMillis(5));
        cluster.node(2).down = true;
        cluster.node(3).blackhole = true;
        cluster.node(4).blackhole = true;
        LockClient lock = cluster.client(maxWait300NodeTimeout100Backoff80());

        // full attempts at 0 and 180 ms end at their 100 ms timeout (one refusal, two silent nodes, two grants);
        // the last, at 300 ms, gets 1 ms: too short for the live nodes' 5 ms
        StepVerifier.withVirtualTime(() -> lock.acquire("k"), () -> vts, Long.MAX_VALUE)
                .expectSubscription()
                .thenAwait(Duration.ofMillis(302))
                .expectErrorSatisfies(e -> {
                    assertThat(e).isInstanceOf(QuorumUnavailableException.class);
                    assertThat(((QuorumUnavailableException) e).nodeFailures())
                            .containsOnlyKeys(cluster.node(2).name(), cluster.node(3).name(), cluster.node(4).name());
                })
                .verify();
    }

    @Test
    void theQuorumErrorReportsTheLastFullAttemptNotTheTimeoutsOfOneCutShortByMaxWait() {
        for (int i = 0; i < 3; i++) {
            cluster.node(i).down = true; // refused: "connection refused by nX"
        }
        LockClient lock = cluster.client(maxWait300NodeTimeout100Backoff80());
        // attempts at 0, 80, 160 and 240 ms are refused; the last one, at 300 ms, gets 1 ms and sees only silence
        vts.schedule(() -> cluster.nodes.forEach(n -> {
            n.down = false;
            n.blackhole = true;
        }), 290, java.util.concurrent.TimeUnit.MILLISECONDS);

        StepVerifier.withVirtualTime(() -> lock.acquire("k"), () -> vts, Long.MAX_VALUE)
                .expectSubscription()
                .thenAwait(Duration.ofMillis(301))
                .expectErrorSatisfies(e -> {
                    assertThat(e).isInstanceOf(QuorumUnavailableException.class);
                    assertThat(((QuorumUnavailableException) e).nodeFailures().values())
                            .hasSize(3)
                            .allSatisfy(cause -> assertThat(cause).hasMessageContaining("connection refused"));
                })
                .verify();
    }

    @Test
    void majorityDownFailsWithQuorumErrorWithinMaxWaitPlusNodeTimeout() {
        cluster.node(0).blackhole = true;
        cluster.node(1).down = true;
        cluster.node(2).down = true;
        LockClient lock = cluster.client(options(Duration.ofSeconds(1), Duration.ofMillis(500)));

        StepVerifier.withVirtualTime(() -> lock.acquire("k"), () -> vts, Long.MAX_VALUE)
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(500))
                .thenAwait(Duration.ofMillis(100))
                .expectErrorSatisfies(e -> {
                    assertThat(e).isInstanceOf(QuorumUnavailableException.class);
                    QuorumUnavailableException q = (QuorumUnavailableException) e;
                    assertThat(q.required()).isEqualTo(3);
                    assertThat(q.nodeFailures()).containsOnlyKeys("127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003");
                    assertThat(q.getMessage()).contains("reached", "quorum is 3", "127.0.0.1:7002");
                })
                .verify(Duration.ofSeconds(5));
        vts.advanceTimeBy(Duration.ofSeconds(2));
        assertThat(cluster.liveLockKeys()).isZero();
    }

    @Test
    void contendedLockTimesOutAfterMaxWaitAndLeavesTheHolderAlone() {
        LockClient lock = cluster.client(options(Duration.ofSeconds(30), Duration.ofSeconds(2)));
        Lease holder = lock.acquire("k").block();

        StepVerifier.withVirtualTime(() -> lock.acquire("k"), () -> vts, Long.MAX_VALUE)
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(2))
                .expectErrorSatisfies(e -> assertThat(e)
                        .isInstanceOf(LockAcquireTimeoutException.class)
                        .hasMessageContaining("'k'")
                        .hasMessageContaining("PT2S"))
                .verify(Duration.ofSeconds(5));
        assertThat(holder.isValid()).isTrue();
        assertThat(cluster.liveLockKeys()).isEqualTo(5);
    }

    /** A 300 ms maxWait that the attempts at a constant 80 ms backoff and a 100 ms node timeout cut short. */
    private static LockOptions maxWait300NodeTimeout100Backoff80() {
        return LockOptions.builder()
                .leaseTime(Duration.ofSeconds(1))
                .maxWait(Duration.ofMillis(300))
                .nodeTimeout(Duration.ofMillis(100))
                .backoff(Backoff.constant(Duration.ofMillis(80)))
                .build();
    }

    /** Long waits, 10 s backoff: a waiter that gets the lock sooner was woken by a release. */
    private LockClient clientWaitingOnNotifications() {
        return cluster.client(options(Duration.ofSeconds(30), Duration.ofSeconds(20)).mutate()
                .backoff(Backoff.constant(Duration.ofSeconds(10)))
                .build());
    }

    @Test
    void releaseNotificationWakesWaiterLongBeforeItsBackoff() {
        LockClient lock = clientWaitingOnNotifications();
        Lease holder = lock.acquire("k").block();

        Mono.delay(Duration.ofSeconds(1), vts).then(holder.release()).subscribe();

        StepVerifier.withVirtualTime(() -> lock.acquire("k"), () -> vts, Long.MAX_VALUE)
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(1))
                .expectNextCount(1)
                .expectComplete()
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void aWaiterOfTheSameClientGoesRightAfterTheReleaseWithoutWaitingForItsReplies() {
        LockClient lock = clientWaitingOnNotifications();
        Lease holder = lock.acquire("k").block();
        cluster.nodes.forEach(n -> n.latency(Duration.ofMillis(5)));

        Mono.delay(Duration.ofSeconds(1), vts).then(holder.release()).subscribe();

        // the release is written to every node at 1,000 ms and the waiter's next attempt right behind it, answered at
        // 1,005 ms; waiting for the published message (sent at 1,005 ms, arriving 1,010 ms) would give 1,015 ms
        StepVerifier.withVirtualTime(() -> lock.acquire("k"), () -> vts, Long.MAX_VALUE)
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(1_004))
                .thenAwait(Duration.ofMillis(1))
                .expectNextCount(1)
                .expectComplete()
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void theNextInLineWaitsForTheLocalHolderInsteadOfTryingWhileItHolds() {
        LockClient lock = clientWaitingOnNotifications();
        Lease holder = lock.acquire("k").block();
        cluster.nodes.forEach(n -> n.latency(Duration.ofMillis(5)));
        AtomicReference<Lease> first = new AtomicReference<>();
        AtomicReference<Lease> second = new AtomicReference<>();
        lock.acquire("k").subscribe(first::set); // refused, then waits at the head of the line
        lock.acquire("k").subscribe(second::set); // waits in line behind it
        vts.advanceTimeBy(Duration.ofMillis(100));
        int acquires = cluster.node(0).commands(LockScript.ACQUIRE);

        holder.release().subscribe();
        vts.advanceTimeBy(Duration.ofMillis(5));
        assertThat(first.get()).as("the head took over").isNotNull();
        vts.advanceTimeBy(Duration.ofSeconds(2));

        // the next in line knows the lock is held here: no attempt (each would be refused and cost a cleanup on every
        // node), and the holder's release notification, arriving after the handover, does not make it try either
        assertThat(cluster.node(0).commands(LockScript.ACQUIRE)).isEqualTo(acquires + 1);
        assertThat(second.get()).isNull();

        first.get().release().subscribe();
        vts.advanceTimeBy(Duration.ofMillis(5)); // its attempt goes right behind the release
        assertThat(second.get()).isNotNull();
        assertThat(cluster.node(0).commands(LockScript.ACQUIRE)).isEqualTo(acquires + 2);
        second.get().release().subscribe();
        vts.advanceTimeBy(Duration.ofMillis(5));
        assertThat(cluster.nodes).allMatch(n -> n.liveLockKeys() == 0);
    }

    @Test
    void cancelledAcquireLeavesNoKeyOnAnyNode() {
        cluster.nodes.forEach(n -> n.latency(Duration.ofMillis(10)));
        LockClient lock = cluster.client(options(Duration.ofSeconds(30), Duration.ZERO));

        // subscribed by hand, not through StepVerifier.withVirtualTime: that one resets the virtual clock when it
        // ends, and the grant that the cancel must undo comes after the cancel
        Disposable acquire = lock.acquire("k").subscribe();
        vts.advanceTimeBy(Duration.ofMillis(5));
        acquire.dispose();
        vts.advanceTimeBy(Duration.ofMillis(50));
        assertThat(cluster.nodes).allMatch(n -> n.commands(LockScript.RELEASE) == 1);
        assertThat(cluster.liveLockKeys()).isZero();
        assertThat(lock.activeLeases()).isZero();
    }

    @Test
    void cancelledTryAcquireLeavesNoKeyOnAnyNode() {
        cluster.nodes.forEach(n -> n.latency(Duration.ofMillis(10)));
        LockClient lock = cluster.client(options(Duration.ofSeconds(30), Duration.ZERO));

        Disposable attempt = lock.tryAcquire("k").subscribe();
        vts.advanceTimeBy(Duration.ofMillis(5));
        attempt.dispose();
        vts.advanceTimeBy(Duration.ofMillis(50));
        assertThat(cluster.nodes).allMatch(n -> n.commands(LockScript.RELEASE) == 1);
        assertThat(cluster.liveLockKeys()).isZero();
        assertThat(lock.activeLeases()).isZero();
    }

    @Test
    void pauseBetweenRepliesAndValidityCheckFailsTheAttemptAndCleansUp() {
        LockClient lock = cluster.client(options(Duration.ofMillis(500), Duration.ZERO));
        EngineAccess.installHooks(lock).pauseAfterReplies(Duration.ofMillis(600));

        StepVerifier.withVirtualTime(() -> lock.acquire("k"), () -> vts, Long.MAX_VALUE)
                .expectSubscription()
                .thenAwait(Duration.ofMillis(600))
                .expectErrorSatisfies(e -> assertThat(((QuorumUnavailableException) e).validityExpired()).isTrue())
                .verify(Duration.ofSeconds(5));
        vts.advanceTimeBy(Duration.ofMillis(10));
        assertThat(cluster.liveLockKeys()).isZero();
    }

    @Test
    void releasingAnExpiredLeaseReportsItAndKeepsTheNewOwnersKey() {
        LockClient lock = cluster.client(options(Duration.ofSeconds(1), Duration.ZERO));
        Lease first = lock.acquire("k").block();
        vts.advanceTimeBy(Duration.ofMillis(1500));
        Lease second = lock.acquire("k").block();

        StepVerifier.create(first.release())
                .expectErrorSatisfies(e -> assertThat(((LeaseLostException) e).reason())
                        .isEqualTo(LeaseLostException.Reason.EXPIRED))
                .verify(Duration.ofSeconds(5));
        assertThat(second.isValid()).isTrue();
        assertThat(cluster.liveLockKeys()).isEqualTo(5);
        StepVerifier.create(second.release()).verifyComplete();
        assertThat(cluster.liveLockKeys()).isZero();
    }

    @Test
    void releaseIsIdempotent() {
        LockClient lock = cluster.client(options(Duration.ofSeconds(1), Duration.ZERO));
        Lease lease = lock.acquire("k").block();
        StepVerifier.create(lease.release()).verifyComplete();
        int commands = cluster.commands();
        StepVerifier.create(lease.release()).verifyComplete();
        StepVerifier.create(lease.release().then(lease.release())).verifyComplete();
        assertThat(cluster.commands()).isEqualTo(commands);
        assertThat(lease.isValid()).isFalse();
    }

    @Test
    void extendMovesTheDeadlineAndNeverResurrectsAnExpiredKey() {
        LockClient lock = cluster.client(options(Duration.ofSeconds(1), Duration.ZERO));
        Lease lease = lock.acquire("k").block();
        vts.advanceTimeBy(Duration.ofMillis(500));
        StepVerifier.create(lease.extend(Duration.ofSeconds(2))).expectNext(lease).verifyComplete();
        assertThat(lease.remaining()).isEqualTo(Duration.ofMillis(2000 - 22));

        vts.advanceTimeBy(Duration.ofSeconds(3));
        StepVerifier.create(lease.extend(Duration.ofSeconds(2)))
                .expectError(LeaseLostException.class)
                .verify(Duration.ofSeconds(5));
        assertThat(cluster.liveLockKeys()).isZero();
    }

    @Test
    void extendFindingTheKeysGoneIsALoss() {
        LockClient lock = cluster.client(options(Duration.ofSeconds(10), Duration.ZERO));
        Lease lease = lock.acquire("k").block();
        for (int i = 0; i < 3; i++) {
            cluster.node(i).del("lock:{k}");
        }
        StepVerifier.create(lease.extend(Duration.ofSeconds(10)))
                .expectErrorSatisfies(e -> assertThat(((LeaseLostException) e).reason())
                        .isEqualTo(LeaseLostException.Reason.KEY_LOST))
                .verify(Duration.ofSeconds(5));
        assertThat(lease.isValid()).isFalse();
    }

    @Test
    void isLockedAnswersFromAQuorum() {
        LockClient lock = cluster.client(options(Duration.ofSeconds(10), Duration.ZERO));
        assertThat(lock.isLocked("k").block()).isFalse();
        Lease lease = lock.acquire("k").block();
        assertThat(lock.isLocked("k").block()).isTrue();
        lease.release().block();
        assertThat(lock.isLocked("k").block()).isFalse();
        cluster.node(0).down = true;
        cluster.node(1).down = true;
        cluster.node(2).down = true;
        StepVerifier.create(lock.isLocked("k")).expectError(QuorumUnavailableException.class).verify(Duration.ofSeconds(5));
    }

    @Test
    void closeReleasesEveryActiveLease() {
        LockClient lock = cluster.client(options(Duration.ofSeconds(10), Duration.ZERO));
        lock.acquire("a").block();
        lock.acquire("b").block();
        assertThat(lock.activeLeases()).isEqualTo(2);
        lock.closeAsync().block();
        assertThat(cluster.liveLockKeys()).isZero();
        assertThat(lock.activeLeases()).isZero();
        StepVerifier.create(lock.acquire("c")).expectError(IllegalStateException.class).verify(Duration.ofSeconds(5));
    }
}
