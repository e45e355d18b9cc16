package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.internal.lock.LockClient;
import dev.redlock.internal.node.NodeChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * What releases and {@code close()} tell their callers, and that no lease outlives its subscriber: in virtual time
 * over in-memory nodes. {@code LifecycleIT} covers the same on real nodes under load.
 */
class LifecycleTest {

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final FakeCluster cluster = new FakeCluster(5, vts);

    private LockClient lock() {
        cluster.nodes.forEach(n -> n.latency(Duration.ofMillis(1)));
        return cluster.client(LockOptions.builder()
                .leaseTime(Duration.ofSeconds(30))
                .maxWait(Duration.ofSeconds(2))
                .build());
    }

    private Lease acquire(LockClient lock, String key) {
        AtomicReference<Lease> lease = new AtomicReference<>();
        lock.acquire(key).subscribe(lease::set);
        vts.advanceTimeBy(Duration.ofMillis(10));
        return lease.get();
    }

    @Test
    void aConnectThatTimesOutLeavesTheSharedConnectionAttemptToTheOthersWaitingForIt() {
        LockClient lock = lock();
        List<CompletableFuture<NodeChannel.NodeConnection>> attempts = new ArrayList<>();
        cluster.nodes.forEach(n -> {
            n.connecting = new CompletableFuture<>();
            attempts.add(n.connecting);
        });

        StepVerifier.withVirtualTime(lock::connect, () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofMinutes(5))
                .expectErrorSatisfies(e -> assertThat(((QuorumUnavailableException) e).operation())
                        .isEqualTo(QuorumUnavailableException.Operation.CONNECT))
                .verify(Duration.ofSeconds(5));
        // the attempts belong to the nodes (acquires wait on them too): one caller giving up must not cancel them
        assertThat(attempts).noneMatch(CompletableFuture::isDone);
    }

    @Test
    void cancellingTheSubscriberOfCloseDoesNotStopTheClose() {
        LockClient lock = lock();
        Lease lease = acquire(lock, "k");
        assertThat(cluster.liveLockKeys()).isEqualTo(5);

        lock.closeAsync().subscribe().dispose();
        vts.advanceTimeBy(Duration.ofSeconds(5));

        // the close went on: the held lease was released on the nodes, the node channels were closed, and the client
        // refuses new work
        assertThat(cluster.liveLockKeys()).isZero();
        assertThat(cluster.nodes).allMatch(n -> n.closedByClient);
        assertThat(lease.isValid()).isFalse();
        StepVerifier.withVirtualTime(() -> lock.acquire("k2"), () -> vts, Long.MAX_VALUE)
                .expectError(ClientClosedException.class)
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aReleaseThatReachesNoNodeIsATypedErrorNotASuccess() {
        LockClient lock = lock();
        List<LockEvent> events = new CopyOnWriteArrayList<>();
        Disposable subscription = lock.events().subscribe(events::add);
        Lease lease = acquire(lock, "k");
        cluster.nodes.forEach(n -> n.down = true);

        StepVerifier.withVirtualTime(lease::release, () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofSeconds(1))
                .expectErrorSatisfies(e -> {
                    assertThat(e).isInstanceOf(QuorumUnavailableException.class);
                    assertThat(((QuorumUnavailableException) e).operation()).isEqualTo(QuorumUnavailableException.Operation.RELEASE);
                    assertThat(((QuorumUnavailableException) e).nodeFailures()).hasSize(5);
                })
                .verify(Duration.ofSeconds(5));
        subscription.dispose();
        assertThat(events).extracting(LockEvent::type)
                .contains(LockEvent.Type.RELEASE_UNCONFIRMED).doesNotContain(LockEvent.Type.RELEASED);
        assertThat(lease.isValid()).isFalse();
        assertThat(lock.activeLeases()).isZero();
    }

    @Test
    void aReleaseConfirmedByEnoughNodesThatTheKeyIsGoneSucceeds() {
        LockClient lock = lock();
        Lease lease = acquire(lock, "k");
        cluster.node(0).down = true;
        cluster.node(1).down = true;
        // three of five released: no quorum can hold the lease any more
        StepVerifier.withVirtualTime(lease::release, () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofSeconds(1))
                .verifyComplete();
    }

    @Test
    void closeReleasesALeaseGrantedWhileItRuns() {
        LockClient lock = lock();
        cluster.nodes.forEach(n -> n.latency(Duration.ofMillis(50)));
        AtomicReference<Lease> granted = new AtomicReference<>();
        lock.acquire("k").subscribe(granted::set);
        vts.advanceTimeBy(Duration.ofMillis(10)); // the acquire is on its way
        AtomicBoolean closed = new AtomicBoolean();
        lock.closeAsync().subscribe(v -> {}, e -> {}, () -> closed.set(true));
        vts.advanceTimeBy(Duration.ofSeconds(1));

        assertThat(closed).isTrue();
        assertThat(granted.get()).as("the attempt in flight still granted").isNotNull();
        assertThat(cluster.liveLockKeys()).as("keys left after close() completed").isZero();
        StepVerifier.create(granted.get().lost())
                .assertNext(e -> assertThat(e.reason()).isEqualTo(LeaseLostException.Reason.CLIENT_CLOSED))
                .verifyComplete();
        assertThat(lock.activeLeases()).isZero();
    }

    @Test
    void closeEndsARunningScopeWithATypedError() {
        LockClient lock = lock();
        AtomicBoolean bodyCancelled = new AtomicBoolean();
        StepVerifier.withVirtualTime(
                        () -> lock.withLockMono("k", lease -> Mono.delay(Duration.ofSeconds(10), vts)
                                .doOnCancel(() -> bodyCancelled.set(true))),
                        () -> vts,
                        Long.MAX_VALUE)
                .expectSubscription()
                .thenAwait(Duration.ofSeconds(1))
                .then(() -> lock.closeAsync().subscribe())
                .thenAwait(Duration.ofMillis(100))
                .expectErrorSatisfies(e -> assertThat(((LeaseLostException) e).reason())
                        .isEqualTo(LeaseLostException.Reason.CLIENT_CLOSED))
                .verify(Duration.ofSeconds(5));
        assertThat(bodyCancelled).isTrue();
        assertThat(cluster.liveLockKeys()).isZero();
    }

    @Test
    void aWaiterOfAClosingClientFailsWithClientClosedException() {
        LockClient lock = lock();
        acquire(lock, "k"); // held: the next acquire waits
        StepVerifier.withVirtualTime(() -> lock.acquire("k"), () -> vts, Long.MAX_VALUE)
                .expectSubscription()
                .thenAwait(Duration.ofMillis(100))
                .then(() -> lock.closeAsync().subscribe())
                .thenAwait(Duration.ofSeconds(1))
                .expectErrorSatisfies(e -> {
                    assertThat(e).isInstanceOf(ClientClosedException.class);
                    assertThat(((ClientClosedException) e).key()).isEqualTo("k");
                })
                .verify(Duration.ofSeconds(5));
        StepVerifier.create(lock.acquire("other")).expectError(ClientClosedException.class).verify(Duration.ofSeconds(1));
    }

    @Test
    void aCancelFromAnEventsSubscriberOnAcquiredLeavesNoLease() {
        LockClient lock = lock();
        AtomicReference<Disposable> acquire = new AtomicReference<>();
        AtomicReference<Disposable> scope = new AtomicReference<>();
        Disposable events = lock.events().filter(e -> e.type() == LockEvent.Type.ACQUIRED).subscribe(e -> {
            if (e.key().orElseThrow().equals("a")) {
                acquire.get().dispose();
            } else {
                scope.get().dispose();
            }
        });
        acquire.set(lock.acquire("a").subscribe(lease -> lease.release().subscribe(v -> {}, x -> {})));
        vts.advanceTimeBy(Duration.ofMillis(100));
        scope.set(lock.withLock("b", Mono.never()).subscribe());
        vts.advanceTimeBy(Duration.ofMillis(100));
        events.dispose();

        assertThat(cluster.liveLockKeys()).isZero();
        assertThat(lock.activeLeases()).isZero();
    }

    @Test
    void aManualLeaseNobodyReleasedStopsCountingAtItsDeadline() {
        LockClient lock = lock();
        Lease dropped = acquire(lock, "k"); // the owner never releases it (nor watches it)
        assertThat(lock.activeLeases()).isEqualTo(1);
        vts.advanceTimeBy(dropped.remaining().plusMillis(1));
        assertThat(lock.activeLeases()).as("leases counted after the deadline").isZero();
    }
}
