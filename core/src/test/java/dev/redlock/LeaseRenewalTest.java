package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redlock.internal.lock.LockClient;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * Renewals that shorten a lease, in virtual time over in-memory nodes: the deadline comes down before the renewal
 * is sent, the loss is signalled at the new deadline, and the watchdog renews at the period of the new lease time.
 */
class LeaseRenewalTest {

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final FakeCluster cluster = new FakeCluster(5, vts);

    private LockClient lock(Duration lease) {
        cluster.nodes.forEach(n -> n.latency(Duration.ofMillis(1)));
        return cluster.client(LockOptions.builder()
                .leaseTime(lease)
                .nodeTimeout(Duration.ofMillis(20))
                .maxWait(Duration.ZERO)
                .build());
    }

    private <T> T await(Mono<T> mono) {
        AtomicReference<T> value = new AtomicReference<>();
        mono.subscribe(value::set);
        vts.advanceTimeBy(Duration.ofMillis(10));
        return value.get();
    }

    @Test
    void aShorterExtendWhoseRepliesAreLostBringsTheDeadlineDownBeforeItIsSent() {
        LockClient lock = lock(Duration.ofSeconds(2));
        Lease first = await(lock.acquire("k"));
        assertThat(first.remaining()).isGreaterThan(Duration.ofMillis(1900));

        // the nodes run the PEXPIRE, but no reply comes back
        cluster.nodes.forEach(n -> n.dropReplies = true);
        AtomicReference<Throwable> extendError = new AtomicReference<>();
        first.extend(Duration.ofMillis(100)).subscribe(x -> {}, extendError::set);
        // before any answer: the lease cannot outlive the keys' new TTL (100 ms - 3 ms drift)
        assertThat(first.remaining()).isLessThanOrEqualTo(Duration.ofMillis(97));

        vts.advanceTimeBy(Duration.ofMillis(101));
        assertThat(extendError.get()).isInstanceOf(QuorumUnavailableException.class);
        assertThat(first.isValid()).as("valid after its keys expired").isFalse();

        cluster.nodes.forEach(n -> n.dropReplies = false);
        Lease second = await(lock.acquire("k"));
        assertThat(second).as("the keys expired at the new TTL, so another owner gets the lock").isNotNull();
        assertThat(first.isValid() && second.isValid()).as("two valid leases at once").isFalse();
    }

    @Test
    void withoutTheWatchdogAShortenedLeaseIsLostAtItsNewDeadline() {
        LockClient lock = lock(Duration.ofSeconds(9));
        LockOptions noWatchdog = lock.defaults().mutate().watchdog(false).build();
        AtomicLong extendedAt = new AtomicLong();
        AtomicLong lostAt = new AtomicLong();

        StepVerifier.withVirtualTime(
                        () -> lock.withLock("k", noWatchdog, lease -> Mono.defer(() -> {
                                    extendedAt.set(vts.now(TimeUnit.MILLISECONDS));
                                    return lease.extend(Duration.ofSeconds(1));
                                })
                                .then(Mono.delay(Duration.ofSeconds(5), vts)))
                                .doOnError(e -> lostAt.set(vts.now(TimeUnit.MILLISECONDS))),
                        () -> vts,
                        Long.MAX_VALUE)
                .expectSubscription()
                .thenAwait(Duration.ofSeconds(10))
                .expectErrorSatisfies(e -> assertThat(((LeaseLostException) e).reason())
                        .isEqualTo(LeaseLostException.Reason.EXPIRED))
                .verify(Duration.ofSeconds(5));
        // sent at the extend, valid for 1 s minus 12 ms of drift: not 9 s after the acquire
        assertThat(lostAt.get() - extendedAt.get()).isEqualTo(1000 - 12);
    }

    @Test
    void theWatchdogRenewsAShortenedLeaseAtItsNewPeriod() {
        LockClient lock = lock(Duration.ofSeconds(9));
        List<LockEvent> events = new CopyOnWriteArrayList<>();
        Disposable subscription = lock.events().subscribe(events::add);
        AtomicLong longestTtl = new AtomicLong();

        StepVerifier.withVirtualTime(
                        () -> lock.withLockMono("k", lease -> lease.extend(Duration.ofSeconds(1))
                                .then(Mono.delay(Duration.ofSeconds(5), vts))
                                .thenReturn("done")),
                        () -> vts,
                        Long.MAX_VALUE)
                .expectSubscription()
                .then(() -> {
                    for (int i = 0; i < 50; i++) {
                        vts.advanceTimeBy(Duration.ofMillis(100));
                        longestTtl.accumulateAndGet(cluster.node(0).pttl("lock:{k}"), Math::max);
                    }
                })
                .thenAwait(Duration.ofSeconds(1))
                .expectNext("done")
                .verifyComplete();

        subscription.dispose();
        assertThat(events).noneMatch(e -> e.type() == LockEvent.Type.LOST);
        // renewed about every 333 ms for 5 s, each time for 1 s
        assertThat(events.stream().filter(e -> e.type() == LockEvent.Type.RENEWED).count()).isBetween(14L, 17L);
        assertThat(longestTtl.get()).isLessThanOrEqualTo(1000);
        assertThat(lock.runningWatchdogs()).isZero();
        assertThat(cluster.liveLockKeys()).isZero();
    }

    @Test
    void anExtendTooShortToLeaveAnyValidityIsRejectedAtCallTime() {
        LockClient lock = lock(Duration.ofSeconds(2));
        Lease lease = await(lock.acquire("k"));
        int before = cluster.commands();
        assertThatThrownBy(() -> lease.extend(Duration.ofMillis(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll("leaseTime PT0.001S leaves no validity", "node timeout (PT0.02S)");
        assertThatThrownBy(() -> lease.extend(Duration.ofMillis(22)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("leaves no validity");
        assertThat(cluster.commands()).isEqualTo(before);
        assertThat(lease.remaining()).isGreaterThan(Duration.ofMillis(1900));
    }
}
