package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.internal.event.EventBus;
import dev.redlock.internal.node.HoldOutTime;
import dev.redlock.internal.node.RestartWatch;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The restart guard's decisions from what {@code INFO server} says on each new connection. {@code
 * FencingAndRestartGuardIT} runs the same rules against real nodes that restart.
 */
class RestartWatchTest {

    private static final long S = TimeUnit.SECONDS.toNanos(1);
    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final EventBus events = new EventBus(vts, vts);

    private static String info(String runId, Long uptimeSeconds) {
        StringBuilder b = new StringBuilder("# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n");
        if (runId != null) {
            b.append("run_id:").append(runId).append("\r\n");
        }
        if (uptimeSeconds != null) {
            b.append("uptime_in_seconds:").append(uptimeSeconds).append("\r\n");
        }
        return b.toString();
    }

    private RestartWatch watch(RestartGuard guard, Duration maxLease) {
        return new RestartWatch("127.0.0.1:6379", guard, new HoldOutTime(maxLease), events);
    }

    private static long heldOutSeconds(RestartWatch watch, long now) {
        NodeHeldOutException e = watch.heldOut(now);
        return e == null ? 0 : e.remaining().toSeconds();
    }

    @Test
    void theDefaultHoldsOutANodeYoungerThanTheMaximumLeaseTimeOnFirstContact() {
        RestartWatch watch = watch(RestartGuard.STRICT, Duration.ofSeconds(60));
        watch.connected(info("a", 10L), null, 0);
        // uptime 10 may mean an age just above 9 s: the node counts once it is surely 60 s old
        assertThat(heldOutSeconds(watch, 0)).isEqualTo(51);
        assertThat(watch.heldOut(51 * S)).isNull();
        // an old node counts at once
        RestartWatch old = watch(RestartGuard.STRICT, Duration.ofSeconds(60));
        old.connected(info("b", 3600L), null, 0);
        assertThat(old.heldOut(0)).isNull();
    }

    @Test
    void runIdTrustsAFirstContactButHoldsOutARestartItSees() {
        RestartWatch watch = watch(RestartGuard.RUN_ID, Duration.ofSeconds(60));
        watch.connected(info("a", 1L), null, 0);
        assertThat(watch.heldOut(0)).as("trusted on first contact").isNull();
        watch.connected(info("b", 0L), null, 5 * S);
        assertThat(heldOutSeconds(watch, 5 * S)).isEqualTo(60);
        assertThat(watch.heldOut(5 * S).getMessage()).contains("run_id changed from a to b");
    }

    @Test
    void aNodeThatHidesRunIdAndUptimeIsHeldOutAfterEveryNewConnection() {
        for (RestartGuard guard : new RestartGuard[] {RestartGuard.STRICT, RestartGuard.RUN_ID}) {
            RestartWatch watch = watch(guard, Duration.ofSeconds(30));
            watch.connected(info(null, null), null, 0);
            assertThat(heldOutSeconds(watch, 0)).as(guard.name()).isEqualTo(30);
            assertThat(watch.heldOut(0).getMessage()).contains("no run_id");
            assertThat(watch.heldOut(30 * S)).isNull();
            watch.connected(info(null, null), null, 100 * S); // a reconnect: may follow a restart
            assertThat(heldOutSeconds(watch, 100 * S)).as(guard.name()).isEqualTo(30);
        }
        RestartWatch off = watch(RestartGuard.OFF, Duration.ofSeconds(30));
        off.connected(info(null, null), null, 0);
        assertThat(off.heldOut(0)).isNull();
    }

    @Test
    void theDefaultJudgesANodeWithoutRunIdByItsUptime() {
        RestartWatch watch = watch(RestartGuard.STRICT, Duration.ofSeconds(30));
        watch.connected(info(null, 100L), null, 0);
        assertThat(watch.heldOut(0)).isNull();
        watch.connected(info(null, 5L), null, 200 * S); // restarted: young again
        assertThat(heldOutSeconds(watch, 200 * S)).isEqualTo(26);
    }

    @Test
    void theLongestMaximumLeaseTimeRecordedOnANodeSetsTheHoldOut() {
        HoldOutTime holdOut = new HoldOutTime(Duration.ofSeconds(10));
        RestartWatch young = new RestartWatch("127.0.0.1:1", RestartGuard.STRICT, holdOut, events);
        RestartWatch other = new RestartWatch("127.0.0.1:2", RestartGuard.STRICT, holdOut, events);
        young.connected(info("a", 2L), 10_000L, 0);
        assertThat(heldOutSeconds(young, 0)).isEqualTo(9);
        // another node records that some client of the key space takes 60 s leases: the young node stays out longer
        other.connected(info("b", 3600L), 60_000L, S);
        assertThat(heldOutSeconds(young, S)).isEqualTo(58);
        assertThat(holdOut.nanos()).isEqualTo(60 * S);
    }

    @Test
    void anUptimeOfOneSecondMayMeanANodeStartedAMomentAgo() {
        // Redis subtracts whole wall-clock seconds: a node started at x.9 s reports uptime 1 at x+1.05 s
        RestartWatch watch = watch(RestartGuard.STRICT, Duration.ofSeconds(2));
        watch.connected(info("a", 1L), null, 0);
        assertThat(watch.heldOut(0).remaining()).isEqualTo(Duration.ofSeconds(2));
    }
}
