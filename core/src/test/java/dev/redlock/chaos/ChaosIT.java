package dev.redlock.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CI safety gate (reliability.md G1): seeded chaos runs of 30 s against 5 real nodes, 2 lock clients (maximum
 * lease times 2 s and 1 s) with their own fault proxies, 8 workers each on 3 contended keys, a fault about every 3 s
 * (every run has each of the nemesis' guaranteed kinds: a client replaced during traffic, one replaced right after a
 * restart, fencing across a restart, a reconnect through a long partition). Every run must show 0 violations; together
 * they must complete at least 9,000 critical sections under at least 90 faults. A run whose environment broke an
 * assumption (a wall-clock step, a JVM stall past the write margin) is re-run once with the same seed; more than one
 * such run fails the gate. A failing run leaves its seed, fault schedule and history under {@code target/chaos/}.
 * The semaphore, the fair lock, the read-write lock and the hierarchical locks have a run of their own each, under the
 * same nemesis.
 */
class ChaosIT {

    static final long[] SEEDS = {101, 202, 303, 404, 505, 606};
    private static final Duration RUN = Duration.ofSeconds(Long.getLong("chaos.seconds", 30));
    private static final List<ChaosRun.Result> RESULTS = new ArrayList<>();
    private static int assumptionBroken;

    static LongStream seeds() {
        return Arrays.stream(SEEDS);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void noViolationUnderFaults(long seed, @RedisNodes(5) RedisServers servers) {
        ChaosRun.Config cfg = new ChaosRun.Config().name("ci").seed(seed).duration(RUN);
        ChaosRun.Result result = ChaosRun.run(servers, cfg);
        if (result.assumptionBroken != null) {
            assumptionBroken++;
            assertThat(assumptionBroken).as("runs with a broken assumption (environment too noisy to judge): "
                    + result.report()).isLessThanOrEqualTo(1);
            result = ChaosRun.run(servers, cfg);
        }
        synchronized (RESULTS) {
            RESULTS.add(result);
        }
        assertThat(result.violations()).as(result.report()).isZero();
    }

    /** A run's settings: its name and seed, its length in seconds from the system property, else {@code seconds}. */
    private static ChaosRun.Config config(String name, long seed, String property, long seconds) {
        return new ChaosRun.Config().name(name).seed(seed).duration(Duration.ofSeconds(Long.getLong(property,
                seconds)));
    }

    /**
     * One of the runs of a primitive of its own (semaphore, fair lock, read-write lock, hierarchy): run under the lock
     * runs' nemesis, once more with the same seed if its environment broke an assumption (as the lock runs; a second
     * such run fails), then 0 violations and at least {@code minFaults} faults (each seed's schedule is fixed: the
     * figure is a floor below it).
     */
    private static ChaosRun.Result primitiveRun(RedisServers servers, ChaosRun.Config cfg, int minFaults) {
        ChaosRun.Result result = ChaosRun.run(servers, cfg);
        if (result.assumptionBroken != null) {
            result = ChaosRun.run(servers, cfg);
            assertThat(result.assumptionBroken).as(result.report()).isNull();
        }
        assertThat(result.violations()).as(result.report()).isZero();
        assertThat(result.verdict.faults).as(result.report()).isGreaterThanOrEqualTo(minFaults);
        return result;
    }

    /** The semaphore run's seed (its own run of 30 s: ≈ 35 s of the gate's time). */
    static final long SEMAPHORE_SEED = 707;

    /**
     * Issue 11: 32 contenders over 2 clients (16 each, lease times as the lock run's) on one semaphore of P = 3,
     * asking for 1 or 2 permits, under the same nemesis as the lock runs: never more than P permits held at once
     * (the checker's permits_exceeded), no semaphore hash left one lease time after the last fault healed (the
     * leaked-key check covers {@code lock:{*}:permits}), and every other check at 0. The run must keep the semaphore
     * full at times (a peak of exactly P) and grant at least 375 times under at least 10 faults (seed 707's schedule
     * has 14 in 30 s). 375 is the 500 required of the 40 s this run had before, scaled to its 30 s: grants come at a
     * steady rate (about 50 a second here: 2,132 in 40 s, 1,416-1,564 in 30 s), so the floor keeps its margin.
     */
    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void semaphoreNeverHoldsMoreThanItsPermitsUnderFaults(@RedisNodes(5) RedisServers servers) {
        ChaosRun.Result result = primitiveRun(servers, config("ci-semaphore", SEMAPHORE_SEED, "chaos.semaphoreSeconds",
                30).semaphore(16, 3), 10);
        assertThat(result.verdict.permitPeak).as(result.report()).isEqualTo(3);
        assertThat(result.verdict.permitGrants).as(result.report()).isGreaterThanOrEqualTo(375);
    }

    /** The fair-lock run's seed (its own run of 30 s: ≈ 40 s of the gate's time). */
    static final long FAIR_SEED = 808;
    /**
     * The 300 required of the 40 s this run had before, scaled to its 30 s: grants come at a steady rate (1,312 in
     * 40 s, 678-719 in 30 s here; 194-1,109 in 50 s in earlier versions), so the floor keeps its margin.
     */
    static final long FAIR_MIN_GRANTS = 225;

    /**
     * Issue 12: 16 waiters over 2 clients (8 each, priorities 0, 0, 0, 5, lease times as the lock run's) on one fair
     * lock, under the same nemesis as the lock runs, with the lock run's sections on the guarded store: no two
     * holders at once and nothing lost (every lock check at 0), no queue or heartbeat set left one lease time plus
     * the heartbeat timeout after the last fault healed, no waiter overtaken by a later one of the same or a lower
     * priority and no stall of the lock while waiters wait, where no fault disturbed (the checker's order and
     * liveness checks). The run must grant at least {@value #FAIR_MIN_GRANTS} times under at least 10 faults (seed
     * 808's schedule has 16 in 30 s).
     */
    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void fairLockKeepsMutualExclusionAndOrderUnderFaults(@RedisNodes(5) RedisServers servers) {
        ChaosRun.Result result = primitiveRun(servers, config("ci-fair", FAIR_SEED, "chaos.fairSeconds", 30)
                .fair(8, 0, 0, 0, 5), 10);
        assertThat(result.verdict.fairGrants).as(result.report()).isGreaterThanOrEqualTo(FAIR_MIN_GRANTS);
    }

    /** The read-write run's seed (its own run of 20 s: ≈ 26 s of the gate's time). */
    static final long READ_WRITE_SEED = 909;
    /** A third of the fewest of either kind in trial runs on a loaded 2-core machine (190-262 reads, 230-240 writes). */
    static final long READ_WRITE_MIN_GRANTS = 75;

    /**
     * Issue 13: 16 workers over 2 clients (8 each, lease times as the lock run's) on one read-write lock, half of the
     * operations reads and half writes, under the same nemesis as the lock runs, with the lock run's sections (a
     * writer's on the guarded store, a reader's writing nothing): no write window overlaps another window (the
     * checker's mode_conflict; reads may overlap), no lock hash left one lease time plus the claim time after the
     * last fault healed, no stall (the lock free for more than 2 s outside faults while requests wait: the
     * checker's liveness check), every other check at 0. The run must grant at least {@value #READ_WRITE_MIN_GRANTS}
     * reads and as many writes, with readers sharing the lock at times, under at least 8 faults (seed 909's schedule
     * has 11 in 20 s).
     */
    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void readWriteLockKeepsWritersApartUnderFaults(@RedisNodes(5) RedisServers servers) {
        ChaosRun.Result result = primitiveRun(servers, config("ci-rw", READ_WRITE_SEED, "chaos.readWriteSeconds", 20)
                .readWrite(8, "chaos-rw"), 8);
        assertThat(result.verdict.modeGrants("S", "chaos-rw")).as(result.report())
                .isGreaterThanOrEqualTo(READ_WRITE_MIN_GRANTS);
        assertThat(result.verdict.modeGrants("X", "chaos-rw")).as(result.report())
                .isGreaterThanOrEqualTo(READ_WRITE_MIN_GRANTS);
        assertThat(result.verdict.modePeak).as("readers at once: " + result.report()).isGreaterThanOrEqualTo(2);
    }

    /** The hierarchy run's seed (its own run of 20 s: ≈ 26 s of the gate's time). */
    static final long HIERARCHY_SEED = 1010;
    /**
     * About a third of the fewest in trial runs on a loaded 2-core machine: X on the parents 79-141, X on the children
     * 45-110, S 175-252.
     */
    static final long HIERARCHY_MIN_PARENT_WRITES = 25;
    static final long HIERARCHY_MIN_CHILD_WRITES = 15;
    static final long HIERARCHY_MIN_READS = 50;
    static final String[] PARENTS = {"t", "t/a", "t/b"};
    static final String[] CHILDREN = {"t/a/1", "t/a/2", "t/b/1"};

    /**
     * Issue 13: 16 workers over 2 clients (8 each, lease times as the lock run's) on the hierarchical locks of the
     * paths t, t/a, t/b, t/a/1, t/a/2 and t/b/1, half of the operations in S and half in X, under the same nemesis
     * as the lock runs, with the lock run's sections: no window holds a node of the tree in a mode incompatible with
     * another window's there (X on a path against anything on the path, above or below it: the checker's
     * mode_conflict, intention modes on the ancestors), no node's hash left one lease time plus the claim time after
     * the last fault healed, no stall (no path of the tree held for more than 2 s outside faults while requests
     * wait), every other check at 0. The run must grant X at least
     * {@value #HIERARCHY_MIN_PARENT_WRITES} times on the parents (t, t/a, t/b) and {@value #HIERARCHY_MIN_CHILD_WRITES}
     * times on the children, S {@value #HIERARCHY_MIN_READS} times, with holders sharing a node at times (siblings,
     * readers), under at least 8 faults (seed 1010's schedule has 10 in 20 s).
     */
    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void hierarchicalLocksKeepSubtreesApartUnderFaults(@RedisNodes(5) RedisServers servers) {
        String[] paths = java.util.stream.Stream.concat(Arrays.stream(PARENTS), Arrays.stream(CHILDREN))
                .toArray(String[]::new);
        ChaosRun.Result result = primitiveRun(servers, config("ci-hierarchy", HIERARCHY_SEED,
                "chaos.hierarchySeconds", 20).hierarchy(8, paths), 8);
        assertThat(result.verdict.modeGrants("X", PARENTS)).as(result.report())
                .isGreaterThanOrEqualTo(HIERARCHY_MIN_PARENT_WRITES);
        assertThat(result.verdict.modeGrants("X", CHILDREN)).as(result.report())
                .isGreaterThanOrEqualTo(HIERARCHY_MIN_CHILD_WRITES);
        assertThat(result.verdict.modeGrants("S", paths)).as(result.report())
                .isGreaterThanOrEqualTo(HIERARCHY_MIN_READS);
        assertThat(result.verdict.modePeak).as("holders of one node at once: " + result.report())
                .isGreaterThanOrEqualTo(2);
    }

    @AfterAll
    static void volume() {
        long cs = 0;
        long faults = 0;
        long lost = 0;
        long closed = 0;
        long violations = 0;
        long lateness = 0;
        for (ChaosRun.Result r : RESULTS) {
            cs += r.verdict.completedCs;
            faults += r.verdict.faults;
            lost += r.verdict.lost;
            closed += r.verdict.closed;
            violations += r.violations();
            lateness = Math.max(lateness, r.verdict.maxLossLatenessNanos);
        }
        String totals = "chaos ci total runs=" + RESULTS.size() + " cs=" + cs + " faults=" + faults + " lost=" + lost
                + " closed=" + closed + " violations=" + violations + " (assumption-broken re-runs=" + assumptionBroken
                + ", latest loss signal after the believed deadline=" + Checker.ms(lateness) + ")";
        System.out.println(totals);
        ChaosRun.appendSummary(new ChaosRun.Config().outDir, totals);
        if (RESULTS.size() == SEEDS.length) {
            assertThat(cs).as(totals).isGreaterThanOrEqualTo(9_000);
            assertThat(faults).as(totals).isGreaterThanOrEqualTo(90);
        }
    }
}
