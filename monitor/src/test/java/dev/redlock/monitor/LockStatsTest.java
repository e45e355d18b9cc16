package dev.redlock.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redlock.LeaseLostException;
import dev.redlock.metrics.LockMetricsRecorder.AcquireOutcome;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** {@link LockStats} without a server: grouping, bounds, counts and windows. */
class LockStatsTest {

    @Test
    void aHundredThousandDistinctGroupsKeepABoundedNumber() {
        LockStats stats = LockStats.groupedBy(name -> name);
        for (int i = 0; i < 100_000; i++) {
            stats.acquireEnded("key:" + i, AcquireOutcome.ACQUIRED, Duration.ofMillis(1));
        }
        assertThat(stats.groupNames()).hasSize(LockStats.MAX_GROUPS + 1).contains(LockStats.OTHER_GROUP);
        GroupStats.Snapshot other = stats.snapshot(LockStats.OTHER_GROUP).orElseThrow();
        assertThat(other.outcomes()[AcquireOutcome.ACQUIRED.ordinal()]).isEqualTo(100_000 - LockStats.MAX_GROUPS);
    }

    @Test
    void groupNamesAreMadeSafeForAUrlPath() {
        LockStats stats = LockStats.groupedBy(name -> name.equals("throws") ? fail() : name);
        stats.rateLimitDecided("a b/../c%2f", true);
        stats.rateLimitDecided("..", true);
        stats.rateLimitDecided("x".repeat(500), false);
        stats.rateLimitDecided("throws", true);
        stats.rateLimitDecided("  ", true);
        assertThat(stats.groupNames()).containsExactlyInAnyOrder("a_b_.._c_2f", "__", "x".repeat(128),
                LockStats.OTHER_GROUP);
        assertThat(stats.groupNames()).allMatch(MonitorHandler::validGroupName);
        assertThat(stats.snapshot(LockStats.OTHER_GROUP).orElseThrow().allowed()).isEqualTo(2);
    }

    @Test
    void countsAndDistributionsOfOneGroup() {
        AtomicLong now = new AtomicLong();
        LockStats stats = new LockStats(name -> name.split(":")[0], now::get);
        for (int i = 1; i <= 100; i++) {
            stats.acquireEnded("orders:" + i, AcquireOutcome.ACQUIRED, Duration.ofMillis(i));
            stats.leaseReleased("orders:" + i, Duration.ofMillis(10 * i), true);
        }
        stats.acquireEnded("orders:x", AcquireOutcome.TIMED_OUT, Duration.ofSeconds(5));
        stats.leaseRenewed("orders:1", true);
        stats.leaseRenewed("orders:1", false);
        stats.leaseLost("orders:1", LeaseLostException.Reason.EXPIRED);
        stats.permitsHeld("orders:pool", 3);
        stats.permitsHeld("orders:pool", -1);
        now.addAndGet(Duration.ofSeconds(2).toNanos());

        GroupStats.Snapshot s = stats.snapshot("orders").orElseThrow();
        assertThat(s.outcomes()[AcquireOutcome.ACQUIRED.ordinal()]).isEqualTo(100);
        assertThat(s.outcomes()[AcquireOutcome.TIMED_OUT.ordinal()]).isEqualTo(1);
        assertThat(s.ratesPerSecond()[AcquireOutcome.ACQUIRED.ordinal()]).isEqualTo(50.0);
        assertThat(s.waitTotal().count()).isEqualTo(100);
        assertThat(s.waitTotal().p50()).isBetween(49.0, 51.0);
        assertThat(s.waitTotal().p99()).isBetween(98.0, 100.0);
        assertThat(s.holdWindow().p50()).isBetween(490.0, 510.0);
        assertThat(s.holdWindow().max()).isBetween(995.0, 1005.0);
        assertThat(s.renewed()).isEqualTo(1);
        assertThat(s.renewalsFailed()).isEqualTo(1);
        assertThat(s.lost()[LeaseLostException.Reason.EXPIRED.ordinal()]).isEqualTo(1);
        assertThat(s.permitsHeld()).isEqualTo(2);
        assertThat(stats.snapshot("unknown")).isEmpty();

        // 11 s later, with reads every second, the window has forgotten them; the totals have not
        for (int i = 0; i < 11; i++) {
            now.addAndGet(Duration.ofSeconds(1).toNanos());
            s = stats.snapshot("orders").orElseThrow();
        }
        assertThat(s.holdWindow().count()).isZero();
        assertThat(s.ratesPerSecond()[AcquireOutcome.ACQUIRED.ordinal()]).isZero();
        assertThat(s.holdTotal().count()).isEqualTo(100);
        assertThat(s.windowSeconds()).isBetween(10.0, 11.0);
    }

    @Test
    void groupedByRejectsNull() {
        assertThatThrownBy(() -> LockStats.groupedBy(null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyToGroup");
    }

    private static String fail() {
        throw new IllegalStateException("a broken grouping function");
    }
}
