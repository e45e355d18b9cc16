package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.fair.RedFairLock;
import dev.redlock.internal.fair.FairScript;
import dev.redlock.internal.lock.LockClient;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The fair lock's timing in virtual time over in-memory nodes (which emulate its key, not its queue): a waiter's
 * attempts are its heartbeat, so it tries again within a third of its heartbeat timeout whatever the backoff says;
 * and an acquire that ends without a lease leaves every node's queue once, after its last attempt.
 */
class FairLockTimingTest {

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final FakeCluster cluster = new FakeCluster(3, vts);

    @Test
    void aWaiterTriesAgainWithinAThirdOfItsHeartbeatTimeoutWhateverTheBackoffAndLeavesOnceAtTheEnd() {
        LockOptions options = LockOptions.builder()
                .leaseTime(Duration.ofSeconds(30))
                .maxWait(Duration.ofSeconds(10))
                .backoff(Backoff.constant(Duration.ofSeconds(5)))
                .build();
        LockClient client = cluster.client(options);
        cluster.nodes.forEach(n -> n.set("lock:{k}", "f:someone", 60_000)); // held by another fair holder
        RedFairLock lock = client.fairLock("k").withHeartbeatTimeout(Duration.ofSeconds(3));

        StepVerifier.withVirtualTime(lock::acquire, () -> vts, Long.MAX_VALUE)
                .expectSubscription()
                .thenAwait(Duration.ofSeconds(11))
                .expectError(LockAcquireTimeoutException.class)
                .verify();

        // one attempt at 0, then one at least every second (3 s / 3) until maxWait: 11; a 5 s backoff alone gives 3
        assertThat(cluster.node(0).commands(FairScript.ACQUIRE)).isBetween(10, 12);
        // each refused attempt's cleanup, plus the leave at the end: one more fair release per node than attempts
        vts.advanceTimeBy(Duration.ofSeconds(1));
        cluster.nodes.forEach(n -> assertThat(n.commands(FairScript.RELEASE)).isEqualTo(n.commands(FairScript.ACQUIRE) + 1));
    }
}
