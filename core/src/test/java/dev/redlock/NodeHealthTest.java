package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.internal.lock.LockClient;
import dev.redlock.internal.script.LockScript;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/** Circuit breakers and health checks, in virtual time over in-memory nodes. */
class NodeHealthTest {

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final FakeCluster cluster = new FakeCluster(5, vts);

    private LockClient lock() {
        cluster.nodes.forEach(n -> n.latency(Duration.ofMillis(1)));
        return (LockClient) cluster.builder()
                .defaults(LockOptions.builder().maxWait(Duration.ZERO).nodeTimeout(Duration.ofMillis(100)).build())
                .build();
    }

    private void cycle(LockClient lock, int times) {
        for (int i = 0; i < times; i++) {
            String key = "k" + i;
            // one virtual clock for the whole test: advanced by hand, not reset by StepVerifier.withVirtualTime
            StepVerifier.create(lock.acquire(key).flatMap(Lease::release))
                    .then(() -> vts.advanceTimeBy(Duration.ofMillis(200)))
                    .expectComplete()
                    .verify(Duration.ofSeconds(5));
        }
    }

    @Test
    void aSilentNodeIsSkippedOnceItsBreakerOpensAndProbedBackInAfterwards() {
        LockClient lock = lock();
        cluster.node(2).blackhole = true;
        cycle(lock, 5); // 5 timeouts in a row on node 2 open its breaker
        assertThat(lock.nodeStatus().get(2).circuitBreaker()).isEqualTo(NodeStatus.BreakerState.OPEN);

        int acquires = cluster.node(2).commands(LockScript.ACQUIRE);
        int releases = cluster.node(2).commands(LockScript.RELEASE);
        cycle(lock, 5);
        // no acquire goes to node 2 while its breaker is open; releases still do
        assertThat(cluster.node(2).commands(LockScript.ACQUIRE)).isEqualTo(acquires);
        assertThat(cluster.node(2).commands(LockScript.RELEASE) - releases).isEqualTo(5);

        cluster.node(2).blackhole = false;
        vts.advanceTimeBy(Duration.ofSeconds(3)); // the open period passes; health checks succeed again
        cycle(lock, 5);
        assertThat(lock.nodeStatus().get(2).circuitBreaker()).isEqualTo(NodeStatus.BreakerState.CLOSED);
    }

    @Test
    void breakersNeverSkipSoManyNodesThatNoQuorumIsLeft() {
        LockClient lock = lock();
        // every node times out (as when the client itself is starved): every breaker opens
        cluster.nodes.forEach(n -> n.blackhole = true);
        for (int i = 0; i < 5; i++) {
            StepVerifier.create(lock.tryAcquire("k" + i))
                    .then(() -> vts.advanceTimeBy(Duration.ofMillis(200)))
                    .expectError(QuorumUnavailableException.class)
                    .verify(Duration.ofSeconds(5));
        }
        assertThat(lock.nodeStatus()).allMatch(s -> s.circuitBreaker() == NodeStatus.BreakerState.OPEN);

        // well within the breakers' open period the nodes answer again: the lock must work at once
        cluster.nodes.forEach(n -> n.blackhole = false);
        StepVerifier.create(lock.acquire("k").flatMap(Lease::release))
                .then(() -> vts.advanceTimeBy(Duration.ofMillis(10)))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(lock.nodeStatus()).noneMatch(s -> s.circuitBreaker() == NodeStatus.BreakerState.OPEN);
    }

    @Test
    void healthChecksMarkNodesDownAndUpWithEvents() {
        LockClient lock = lock();
        List<LockEvent> events = new CopyOnWriteArrayList<>();
        Disposable subscription = lock.events().subscribe(events::add);
        cycle(lock, 1); // the first operation starts the health checks
        cluster.node(4).down = true;
        vts.advanceTimeBy(Duration.ofSeconds(3));
        assertThat(lock.nodeStatus().get(4).up()).isFalse();
        assertThat(lock.nodeStatus().get(4).counts()).isFalse();
        assertThat(lock.nodeStatus().get(0).up()).isTrue();
        assertThat(lock.nodeStatus().get(0).pingLatency()).contains(Duration.ofMillis(1));

        cluster.node(4).down = false;
        vts.advanceTimeBy(Duration.ofSeconds(2));
        assertThat(lock.nodeStatus().get(4).up()).isTrue();
        subscription.dispose();
        assertThat(events).extracting(LockEvent::type).containsSubsequence(LockEvent.Type.NODE_DOWN, LockEvent.Type.NODE_UP);
        assertThat(events).filteredOn(e -> e.type() == LockEvent.Type.NODE_DOWN)
                .extracting(e -> e.node().orElseThrow())
                .containsExactly("127.0.0.1:7005");
    }
}
