package dev.redlock.internal.lease;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.LockOptions;
import dev.redlock.internal.event.EventBus;
import dev.redlock.metrics.LockMetricsRecorder;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Schedulers;

/** The window math of adaptive lease times: clamps, p95 + 2σ, the cap, constant memory, bounded groups. */
class HoldTimesTest {

    private static final long MS = 1_000_000L;
    private static final Duration MAX_LEASE = Duration.ofSeconds(60);

    private final List<String> reported = new CopyOnWriteArrayList<>();
    private final LockMetricsRecorder recorder = new LockMetricsRecorder() {
        @Override
        public void adaptiveLeaseTime(String group, Duration leaseTime) {
            reported.add(group + "=" + leaseTime.toMillis());
        }
    };

    private HoldTimes holdTimes(Function<String, String> groups, Duration maxLease) {
        return new HoldTimes(groups, maxLease,
                new EventBus(Schedulers.immediate(), Schedulers.immediate(), recorder));
    }

    private static LockOptions adaptive(long baseMillis) {
        return LockOptions.builder()
                .leaseTime(Duration.ofMillis(baseMillis))
                .nodeTimeout(Duration.ofMillis(10))
                .adaptiveLeaseTime(true)
                .build();
    }

    private static long leaseMillis(HoldTimes holdTimes, String name, long baseMillis) {
        return holdTimes.adapt(name, adaptive(baseMillis)).leaseTime().toMillis();
    }

    private static void hold(HoldTimes holdTimes, String name, int times, long heldMillis) {
        for (int i = 0; i < times; i++) {
            holdTimes.record(name, heldMillis * MS);
        }
    }

    @Test
    void fewerThanEightHoldTimesUseTheBase() {
        HoldTimes holdTimes = holdTimes(Function.identity(), MAX_LEASE);
        hold(holdTimes, "k", HoldTimes.MIN_SAMPLES - 1, 2_000);
        assertThat(leaseMillis(holdTimes, "k", 1_000)).isEqualTo(1_000);
        hold(holdTimes, "k", 1, 2_000);
        assertThat(leaseMillis(holdTimes, "k", 1_000)).isEqualTo(6_000);
    }

    @Test
    void shortHoldsAreClampedToTheBase() {
        HoldTimes holdTimes = holdTimes(Function.identity(), MAX_LEASE);
        hold(holdTimes, "k", 20, 10);
        assertThat(leaseMillis(holdTimes, "k", 1_000)).isEqualTo(1_000);
    }

    @Test
    void longHoldsAreClampedToTenTimesTheBase() {
        HoldTimes holdTimes = holdTimes(Function.identity(), MAX_LEASE);
        hold(holdTimes, "k", 20, 50_000);
        assertThat(leaseMillis(holdTimes, "k", 1_000)).isEqualTo(10_000);
    }

    @Test
    void theLeaseNeverExceedsTheClientsMaximumLeaseTime() {
        HoldTimes holdTimes = holdTimes(Function.identity(), Duration.ofSeconds(30));
        hold(holdTimes, "k", 20, 20_000); // figure 60 s, ten times the base 100 s
        assertThat(leaseMillis(holdTimes, "k", 10_000)).isEqualTo(30_000);
        assertThat(HoldTimes.leaseMillis(60_000, 10_000, 30_000)).isEqualTo(30_000);
    }

    @Test
    void theFigureIsThreeTimesTheNearestRankP95PlusTwoSigma() {
        long[] holds = new long[100];
        for (int i = 0; i < holds.length; i++) {
            holds[i] = (100 - i) * MS; // 100 ms .. 1 ms, unsorted
        }
        // p95 (nearest rank: the 95th smallest) = 95 ms; population σ of 1..100 = sqrt((100² - 1) / 12) = 28.866 ms;
        // (95 + 57.732) × 3 = 458.2 ms, rounded up
        assertThat(HoldTimes.figureMillis(holds, holds.length, new long[holds.length])).isEqualTo(459);

        HoldTimes holdTimes = holdTimes(Function.identity(), MAX_LEASE);
        for (long h : holds) {
            holdTimes.record("k", h);
        }
        assertThat(leaseMillis(holdTimes, "k", 100)).isEqualTo(459);
    }

    @Test
    void theNearestRankOfEightIsTheLargest() {
        long[] holds = {10 * MS, 10 * MS, 10 * MS, 10 * MS, 10 * MS, 10 * MS, 10 * MS, 90 * MS};
        // rank ceil(0.95 × 8) = 8: 90 ms; mean 20, σ = sqrt((7 × 100 + 4900) / 8) = 26.458 ms; (90 + 52.915) × 3
        assertThat(HoldTimes.figureMillis(holds, holds.length, new long[8])).isEqualTo(429);
    }

    @Test
    void theWindowKeepsOnlyTheLast128HoldTimes() {
        HoldTimes holdTimes = holdTimes(Function.identity(), MAX_LEASE);
        hold(holdTimes, "k", 1_000, 5_000);
        HoldTimes.Window window = holdTimes.window("k");
        assertThat(window.size()).isEqualTo(HoldTimes.WINDOW);
        assertThat(window.capacity()).isEqualTo(HoldTimes.WINDOW);
        assertThat(leaseMillis(holdTimes, "k", 1_000)).isEqualTo(10_000);

        // 127 short holds leave one long one in the window: its 5 s is above the p95 and the lease stays high
        hold(holdTimes, "k", HoldTimes.WINDOW - 1, 10);
        assertThat(leaseMillis(holdTimes, "k", 1_000)).isGreaterThan(1_000);
        // the 128th pushes it out: only short holds remain
        hold(holdTimes, "k", 1, 10);
        assertThat(leaseMillis(holdTimes, "k", 1_000)).isEqualTo(1_000);
        assertThat(window.size()).isEqualTo(HoldTimes.WINDOW);
        assertThat(window.capacity()).isEqualTo(HoldTimes.WINDOW);
    }

    @Test
    void namesOfOneGroupShareTheirHoldTimes() {
        HoldTimes holdTimes = holdTimes(name -> name.substring(0, name.indexOf(':')), MAX_LEASE);
        for (int i = 0; i < 8; i++) {
            holdTimes.record("orders:" + i, 2_000 * MS);
        }
        assertThat(leaseMillis(holdTimes, "orders:99", 1_000)).isEqualTo(6_000);
        assertThat(leaseMillis(holdTimes, "invoices:1", 1_000)).isEqualTo(1_000);
        assertThat(holdTimes.groups()).isEqualTo(2);
    }

    @Test
    void aGroupingFunctionThatThrowsOrAnswersNullLeavesEachNameItsOwnGroup() {
        HoldTimes holdTimes = holdTimes(name -> {
            if (name.startsWith("bad")) {
                throw new IllegalStateException("no group for " + name);
            }
            return null;
        }, MAX_LEASE);
        hold(holdTimes, "bad:1", 8, 2_000);
        hold(holdTimes, "null:1", 8, 3_000);
        assertThat(leaseMillis(holdTimes, "bad:1", 1_000)).isEqualTo(6_000);
        assertThat(leaseMillis(holdTimes, "null:1", 1_000)).isEqualTo(9_000);
        assertThat(leaseMillis(holdTimes, "bad:2", 1_000)).isEqualTo(1_000);
    }

    @Test
    void beyondTheMostGroupsNewGroupsUseTheBaseAndKeepNothing() {
        HoldTimes holdTimes = holdTimes(Function.identity(), MAX_LEASE);
        for (int i = 0; i < HoldTimes.MAX_GROUPS; i++) {
            holdTimes.record("g" + i, 1);
        }
        assertThat(holdTimes.groups()).isEqualTo(HoldTimes.MAX_GROUPS);
        hold(holdTimes, "one-too-many", 20, 2_000);
        assertThat(leaseMillis(holdTimes, "one-too-many", 1_000)).isEqualTo(1_000);
        assertThat(holdTimes.groups()).isEqualTo(HoldTimes.MAX_GROUPS);
        // groups kept before the bound still adapt: 128 holds of 2 s push out the first one
        hold(holdTimes, "g7", HoldTimes.WINDOW, 2_000);
        assertThat(leaseMillis(holdTimes, "g7", 1_000)).isEqualTo(6_000);
    }

    @Test
    void fixedLeaseOptionsPassUnchangedAndKeepNoGroup() {
        HoldTimes holdTimes = holdTimes(Function.identity(), MAX_LEASE);
        LockOptions fixed = LockOptions.builder().leaseTime(Duration.ofSeconds(1)).build();
        assertThat(holdTimes.adapt("k", fixed)).isSameAs(fixed);
        assertThat(holdTimes.groups()).isZero();
        assertThat(reported).isEmpty();
    }

    @Test
    void theFigureIsReportedWhenItChangesOnly() {
        HoldTimes holdTimes = holdTimes(Function.identity(), MAX_LEASE);
        leaseMillis(holdTimes, "k", 1_000);
        leaseMillis(holdTimes, "k", 1_000);
        hold(holdTimes, "k", 8, 2_000);
        leaseMillis(holdTimes, "k", 1_000);
        leaseMillis(holdTimes, "k", 1_000);
        assertThat(reported).containsExactly("k=1000", "k=6000");
    }
}
