package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.internal.lock.LockClient;
import dev.redlock.internal.lease.DefaultLease;
import dev.redlock.internal.script.LockScript;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/** withLock, the watchdog, lost leases and reentrancy, in virtual time over in-memory nodes. */
class ScopedLockTest {

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final FakeCluster cluster = new FakeCluster(5, vts);

    private LockClient lock(Duration lease) {
        cluster.nodes.forEach(n -> n.latency(Duration.ofMillis(1)));
        return cluster.client(LockOptions.builder().leaseTime(lease).maxWait(Duration.ofSeconds(1)).build());
    }

    @Test
    void thirtySecondLeaseHeldForFiveMinutesUnderTheWatchdog() {
        LockClient lock = lock(Duration.ofSeconds(30));
        List<LockEvent> events = new CopyOnWriteArrayList<>();
        Disposable subscription = lock.events().subscribe(events::add);

        StepVerifier.withVirtualTime(
                        () -> lock.withLockMono("k", lease -> Mono.delay(Duration.ofMinutes(5), vts).thenReturn("done")),
                        () -> vts,
                        Long.MAX_VALUE)
                .expectSubscription()
                .expectNoEvent(Duration.ofMinutes(5))
                .thenAwait(Duration.ofMillis(10))
                .expectNext("done")
                .verifyComplete();

        subscription.dispose();
        long renewals = events.stream().filter(e -> e.type() == LockEvent.Type.RENEWED).count();
        // renewed every lease/3 = 10 s for 300 s
        assertThat(renewals).isBetween(29L, 30L);
        assertThat(events).noneMatch(e -> e.type() == LockEvent.Type.LOST || e.type() == LockEvent.Type.RENEWAL_FAILED);
        assertThat(events).filteredOn(e -> e.type() == LockEvent.Type.RELEASED).hasSize(1);
        assertThat(lock.runningWatchdogs()).isZero();
        assertThat(cluster.liveLockKeys()).isZero();
    }

    @Test
    void renewalsSlowerThanTheNodeTimeoutButInsideTheValidityKeepTheLease() {
        LockClient lock = lock(Duration.ofSeconds(3)); // nodeTimeout 100 ms, renewed every second
        List<LockEvent> events = new CopyOnWriteArrayList<>();
        Disposable subscription = lock.events().subscribe(events::add);

        StepVerifier.withVirtualTime(
                        () -> lock.withLockMono("k", lease -> Mono.delay(Duration.ofSeconds(30), vts).thenReturn("done")),
                        () -> vts,
                        Long.MAX_VALUE)
                .expectSubscription()
                // after the acquire went out: from now on every node answers in 400 ms (a loaded machine)
                .then(() -> cluster.nodes.forEach(n -> n.latency(Duration.ofMillis(400))))
                .expectNoEvent(Duration.ofSeconds(30))
                .thenAwait(Duration.ofSeconds(1))
                .expectNext("done")
                .verifyComplete();

        subscription.dispose();
        assertThat(events).noneMatch(e -> e.type() == LockEvent.Type.LOST || e.type() == LockEvent.Type.RENEWAL_FAILED);
        assertThat(events.stream().filter(e -> e.type() == LockEvent.Type.RENEWED).count()).isBetween(28L, 30L);
        assertThat(cluster.liveLockKeys()).isZero();
    }

    @Test
    void watchdogRenewalsOfManyLeasesShareOneScriptPerNode() {
        LockClient lock = lock(Duration.ofSeconds(3)); // renewed every second
        List<LockEvent> events = new CopyOnWriteArrayList<>();
        Disposable subscription = lock.events().subscribe(events::add);

        StepVerifier.withVirtualTime(
                        () -> Flux.range(0, 200).flatMap(i -> lock.withLockMono("k" + i,
                                lease -> Mono.delay(Duration.ofSeconds(10), vts).thenReturn(i))),
                        () -> vts,
                        Long.MAX_VALUE)
                .expectSubscription()
                .thenAwait(Duration.ofSeconds(11))
                .expectNextCount(200)
                .verifyComplete();

        subscription.dispose();
        long renewals = events.stream().filter(e -> e.type() == LockEvent.Type.RENEWED).count();
        assertThat(renewals).isBetween(200L * 9, 200L * 10);
        assertThat(events).noneMatch(e -> e.type() == LockEvent.Type.LOST || e.type() == LockEvent.Type.RENEWAL_FAILED);
        for (FakeNode node : cluster.nodes) {
            assertThat(node.commands(LockScript.EXTEND)).isZero();
            // a first renewal lands somewhere in the last tenth of the period, so the 200 spread over 100 ms of
            // 2 ms windows; later ones keep their spacing
            assertThat(node.commands(LockScript.EXTEND_BATCH)).isPositive().isLessThan((int) renewals / 3);
        }
        assertThat(cluster.liveLockKeys()).isZero();
    }

    @Test
    void aBatchDecidesEachLeaseOnItsOwn() {
        LockClient lock = lock(Duration.ofSeconds(30));
        cluster.node(4).down = true; // one node down: the others still make a quorum for a and c
        List<Lease> leases = new CopyOnWriteArrayList<>();
        Flux.concat(lock.acquire("a"), lock.acquire("b"), lock.acquire("c")).subscribe(leases::add);
        vts.advanceTimeBy(Duration.ofMillis(10));
        DefaultLease a = (DefaultLease) leases.get(0);
        DefaultLease b = (DefaultLease) leases.get(1);
        DefaultLease c = (DefaultLease) leases.get(2);
        cluster.nodes.forEach(n -> n.del("lock:{b}")); // b's keys vanished on every node
        vts.advanceTimeBy(Duration.ofSeconds(1));
        Duration before = a.remaining();

        List<Object> outcomes = new CopyOnWriteArrayList<>();
        for (DefaultLease lease : List.of(a, b, c)) {
            lease.renewInBatch(Duration.ofSeconds(30)).subscribe(outcomes::add, outcomes::add);
        }
        vts.advanceTimeBy(Duration.ofMillis(10));

        assertThat(outcomes).hasSize(3).contains(a, c);
        assertThat(outcomes).filteredOn(o -> o instanceof LeaseLostException).singleElement()
                .satisfies(e -> assertThat(((LeaseLostException) e).reason()).isEqualTo(LeaseLostException.Reason.KEY_LOST));
        assertThat(a.remaining()).isGreaterThan(before);
        assertThat(cluster.nodes).allMatch(n -> n.commands(LockScript.EXTEND_BATCH) == 1);
        assertThat(b.isValid()).isFalse();
        assertThat(a.isValid()).isTrue();
        assertThat(c.isValid()).isTrue();
    }

    @Test
    void leaseLostWhenRenewalCannotReachAQuorumCancelsTheBodyAtTheDeadline() {
        LockClient lock = lock(Duration.ofSeconds(3));
        AtomicBoolean bodyCancelled = new AtomicBoolean();
        AtomicLong errorAtMillis = new AtomicLong();

        StepVerifier.withVirtualTime(
                        () -> lock.withLock("k", lease -> Flux.interval(Duration.ofMillis(500), vts)
                                        .doOnCancel(() -> bodyCancelled.set(true)))
                                .doOnError(e -> errorAtMillis.set(vts.now(TimeUnit.MILLISECONDS))),
                        () -> vts,
                        Long.MAX_VALUE)
                .expectSubscription()
                .thenAwait(Duration.ofMillis(900))
                .then(() -> {
                    cluster.node(0).blackhole = true;
                    cluster.node(1).blackhole = true;
                    cluster.node(2).down = true;
                })
                .thenAwait(Duration.ofSeconds(5))
                .thenConsumeWhile(x -> true)
                // sent at T1 = 0, so valid until 0 + 3000 ms lease - 32 ms drift
                .expectErrorSatisfies(e -> {
                    assertThat(e).isInstanceOf(LeaseLostException.class);
                    LeaseLostException lost = (LeaseLostException) e;
                    assertThat(lost.reason()).isEqualTo(LeaseLostException.Reason.RENEWAL_FAILED);
                    assertThat(lost.key()).isEqualTo("k");
                    assertThat(lost.lastRenewalFailure()).isInstanceOf(QuorumUnavailableException.class);
                    assertThat(errorAtMillis.get()).isEqualTo(3000 - 32);
                })
                .verify(Duration.ofSeconds(10));
        assertThat(bodyCancelled).isTrue();
        assertThat(lock.runningWatchdogs()).isZero();
        assertThat(lock.activeLeases()).isZero();
    }

    @Test
    void withoutWatchdogTheBodyIsCancelledWhenTheLeaseExpires() {
        LockClient lock = lock(Duration.ofSeconds(2));
        LockOptions noWatchdog = lock.defaults().mutate().watchdog(false).build();

        StepVerifier.withVirtualTime(
                        () -> lock.withLock("k", noWatchdog, Mono.delay(Duration.ofSeconds(10), vts)),
                        () -> vts,
                        Long.MAX_VALUE)
                .expectSubscription()
                .thenAwait(Duration.ofSeconds(2))
                .expectErrorSatisfies(e -> assertThat(((LeaseLostException) e).reason())
                        .isEqualTo(LeaseLostException.Reason.EXPIRED))
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void maxHoldTimeStopsRenewing() {
        LockClient lock = lock(Duration.ofSeconds(3));
        LockOptions bounded = lock.defaults().mutate().maxHoldTime(Duration.ofSeconds(10)).build();

        StepVerifier.withVirtualTime(
                        () -> lock.withLock("k", bounded, Mono.delay(Duration.ofMinutes(1), vts)),
                        () -> vts,
                        Long.MAX_VALUE)
                .expectSubscription()
                .thenAwait(Duration.ofSeconds(15))
                .expectErrorSatisfies(e -> assertThat(((LeaseLostException) e).reason())
                        .isEqualTo(LeaseLostException.Reason.MAX_HOLD_TIME_EXCEEDED))
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void keysGoneDuringTheHoldIsAKeyLoss() {
        LockClient lock = lock(Duration.ofSeconds(3));

        StepVerifier.withVirtualTime(
                        () -> lock.withLock("k", Mono.delay(Duration.ofSeconds(30), vts)),
                        () -> vts,
                        Long.MAX_VALUE)
                .expectSubscription()
                .thenAwait(Duration.ofMillis(200))
                .then(() -> cluster.nodes.forEach(n -> n.del("lock:{k}")))
                .thenAwait(Duration.ofSeconds(1))
                .expectErrorSatisfies(e -> assertThat(((LeaseLostException) e).reason())
                        .isEqualTo(LeaseLostException.Reason.KEY_LOST))
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void cancellingTheScopeReleasesAndStopsTheWatchdog() {
        LockClient lock = lock(Duration.ofSeconds(3));

        StepVerifier.withVirtualTime(
                        () -> lock.withLock("k", Flux.interval(Duration.ofSeconds(1), vts)),
                        () -> vts,
                        Long.MAX_VALUE)
                .expectSubscription()
                .thenAwait(Duration.ofMillis(2500))
                .expectNextCount(2)
                .thenCancel()
                .verify(Duration.ofSeconds(10));
        vts.advanceTimeBy(Duration.ofMillis(10));
        assertThat(cluster.liveLockKeys()).isZero();
        assertThat(lock.runningWatchdogs()).isZero();
        assertThat(lock.activeLeases()).isZero();
    }

    @Test
    void cancelWhileTheAcquireIsInFlightReleasesEveryNodeThatGranted() {
        cluster.nodes.forEach(n -> n.latency(Duration.ofMillis(1)));
        cluster.node(4).latency(Duration.ofMillis(40));
        LockClient lock = cluster.client(LockOptions.defaults());

        // subscribed by hand, not through StepVerifier.withVirtualTime: that one resets the virtual clock when it
        // ends, and the grants that the cancel must undo land after the cancel
        Disposable scope = lock.withLock("k", Mono.just(1)).subscribe();
        cluster.node(3).latency(Duration.ofMillis(40));
        vts.advanceTimeBy(Duration.ofNanos(500_000));
        scope.dispose();
        vts.advanceTimeBy(Duration.ofMillis(100));
        assertThat(cluster.nodes).allMatch(n -> n.commands(LockScript.ACQUIRE) == 1);
        assertThat(cluster.liveLockKeys()).isZero();
    }

    @Test
    void nestedWithLockOnTheSameKeyReusesTheLease() {
        LockClient lock = lock(Duration.ofSeconds(10));
        Mono<String> nested = lock.withLockMono("k", outer -> lock.withLockMono("k", inner -> Mono.just(
                outer == inner ? "same lease" : "different lease")));

        StepVerifier.withVirtualTime(() -> nested, () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofMillis(10))
                .expectNext("same lease")
                .verifyComplete();
        assertThat(cluster.liveLockKeys()).isZero();
    }

    @Test
    void nestedWithLockOnAnotherKeyLocksIndependently() {
        LockClient lock = lock(Duration.ofSeconds(10));
        Mono<Boolean> nested = lock.withLockMono("a", a -> lock.withLockMono("b", b -> Mono.fromCallable(
                () -> !a.token().equals(b.token()) && holders("lock:{a}", a) >= 3 && holders("lock:{b}", b) >= 3)));

        StepVerifier.withVirtualTime(() -> nested, () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofMillis(10))
                .expectNext(true)
                .verifyComplete();
        assertThat(cluster.liveLockKeys()).isZero();
    }

    @Test
    void aNestedFencedScopeNeedsTheOuterLeaseToCarryAToken() {
        LockClient lock = lock(Duration.ofSeconds(10));
        LockOptions fenced = lock.defaults().mutate().fencing(true).build();
        Mono<Long> nested = lock.withLockMono("k", outer -> lock.withLockMono("k", fenced,
                inner -> Mono.just(inner.fencingToken().orElseThrow())));

        StepVerifier.withVirtualTime(() -> nested, () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofMillis(10))
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("asks for a fencing token"))
                .verify(Duration.ofSeconds(5));
        vts.advanceTimeBy(Duration.ofMillis(10));
        assertThat(cluster.liveLockKeys()).isZero();
    }

    @Test
    void aNestedFencedScopeRunsUnderAFencedOuterLease() {
        LockClient lock = lock(Duration.ofSeconds(10));
        LockOptions fenced = lock.defaults().mutate().fencing(true).build();
        Mono<Long> bothFenced = lock.withLockMono("k", fenced, outer -> lock.withLockMono("k", fenced,
                inner -> Mono.just(inner.fencingToken().orElseThrow() - outer.fencingToken().orElseThrow())));
        StepVerifier.withVirtualTime(() -> bothFenced, () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofMillis(10))
                .expectNext(0L)
                .verifyComplete();
    }

    @Test
    void anAcquireThatMayNotWaitMakesItsAttemptEvenBehindALocalLine() {
        LockClient lock = lock(Duration.ofSeconds(10));
        List<Lease> held = new CopyOnWriteArrayList<>();
        lock.acquire("k").subscribe(held::add);
        vts.advanceTimeBy(Duration.ofMillis(10));
        lock.acquire("k").subscribe(held::add, e -> {}); // waits in this client's line for the key
        vts.advanceTimeBy(Duration.ofMillis(10));
        LockOptions noWait = lock.defaults().mutate().maxWait(Duration.ZERO).build();
        StepVerifier.withVirtualTime(() -> lock.acquire("k", noWait), () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofMillis(10))
                .expectErrorSatisfies(e -> assertThat(((LockAcquireTimeoutException) e).attempts()).isEqualTo(1))
                .verify(Duration.ofSeconds(5));
    }

    private long holders(String redisKey, Lease lease) {
        return cluster.nodes.stream().filter(n -> lease.token().equals(n.get(redisKey))).count();
    }

    @Test
    void fencingTokensIncreaseAcrossSuccessiveLeasesEvenWithAnInflatedCounter() {
        LockClient lock = lock(Duration.ofSeconds(10));
        cluster.nodes.forEach(n -> n.latency(Duration.ZERO));
        LockOptions fenced = lock.defaults().mutate().fencing(true).build();
        long previous = 0;
        for (int i = 0; i < 200; i++) {
            if (i == 100) {
                cluster.node(2).set("lock:{k}:fence", "1000000", 0);
            }
            Lease lease = lock.acquire("k", fenced).block();
            long token = lease.fencingToken().orElseThrow();
            assertThat(token).isGreaterThan(previous);
            previous = token;
            lease.release().block();
        }
        assertThat(previous).isGreaterThan(1_000_000);
    }
}
