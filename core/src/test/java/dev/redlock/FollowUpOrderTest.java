package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.internal.lock.LockClient;
import dev.redlock.internal.script.LockScript;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * A node's release never overtakes that node's acquire: it is sent once the acquire replied, or once the connection
 * the acquire went on is closed, but not merely because the acquire timed out. In virtual time over in-memory nodes.
 */
class FollowUpOrderTest {

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final FakeCluster cluster = new FakeCluster(5, vts);

    private LockClient lock() {
        cluster.nodes.forEach(n -> n.latency(Duration.ofMillis(1)));
        return cluster.client(LockOptions.builder()
                .leaseTime(Duration.ofSeconds(30))
                .nodeTimeout(Duration.ofMillis(100))
                .maxWait(Duration.ZERO)
                .build());
    }

    private Lease acquire(LockClient lock) {
        AtomicReference<Lease> lease = new AtomicReference<>();
        lock.acquire("k").subscribe(lease::set);
        vts.advanceTimeBy(Duration.ofMillis(5));
        return lease.get();
    }

    @Test
    void aReleaseWaitsForItsNodesAcquireToReplyNotJustToTimeOut() {
        LockClient lock = lock();
        FakeNode slow = cluster.node(0);
        slow.latency(Duration.ofMillis(300)); // its acquire times out at 100 ms and runs at 300 ms
        Lease lease = acquire(lock);
        assertThat(lease).isNotNull();
        lease.release().subscribe(v -> {}, e -> {});

        vts.advanceTimeBy(Duration.ofMillis(150)); // past the acquire's timeout
        assertThat(slow.commands(LockScript.RELEASE)).as("releases sent to the slow node after the timeout").isZero();

        vts.advanceTimeBy(Duration.ofMillis(200)); // the acquire ran and replied late: now the release may go
        assertThat(slow.commands(LockScript.RELEASE)).isEqualTo(1);
        vts.advanceTimeBy(Duration.ofMillis(400));
        assertThat(cluster.liveLockKeys()).isZero();
    }

    @Test
    void aReleaseOfATimedOutAcquireGoesOnceItsConnectionIsClosed() {
        LockClient lock = lock();
        FakeNode stuck = cluster.node(0);
        stuck.blackhole = true; // the acquire never answers
        Lease lease = acquire(lock);
        lease.release().subscribe(v -> {}, e -> {});
        vts.advanceTimeBy(Duration.ofMillis(500));
        assertThat(stuck.commands(LockScript.RELEASE)).isZero();

        stuck.blackhole = false;
        stuck.closeConnection(); // what the client does with a connection that stopped answering
        vts.advanceTimeBy(Duration.ofMillis(10));
        assertThat(stuck.commands(LockScript.RELEASE)).as("release sent on the new connection").isEqualTo(1);
    }

    /**
     * The node model here lets a command overtake an earlier one that has not run yet, as a write queued for the
     * event loop from another thread is overtaken by a later write made on the event loop itself. A failed attempt's
     * release sent at the acquire's timeout would run first, and the acquire would then leave its 30 s key behind.
     */
    @Test
    void aFailedAttemptLeavesNoKeyEvenWhereALaterWriteCanOvertakeAnEarlierOne() {
        LockClient lock = lock();
        for (int i = 1; i <= 3; i++) {
            cluster.node(i).set("lock:{k}", "another owner", 60_000); // the attempt is refused by a quorum
        }
        FakeNode node = cluster.node(0);
        node.overtaking = true;
        node.latency(Duration.ofMillis(250)); // its acquire times out at 100 ms and runs at 250 ms
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        lock.acquire("k").subscribe(l -> {}, outcome::set);
        vts.advanceTimeBy(Duration.ofSeconds(1));

        assertThat(outcome.get()).isInstanceOf(LockAcquireTimeoutException.class);
        assertThat(node.get("lock:{k}")).as("key left on the node whose acquire could be overtaken").isNull();
        assertThat(cluster.node(4).get("lock:{k}")).isNull();
    }
}
