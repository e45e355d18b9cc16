package dev.redlock.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.LockOptions;
import dev.redlock.RestartGuard;
import dev.redlock.testkit.FaultProxy;
import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServer;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Proves the checker (reliability.md §4.6, G3/G4): each deliberate engine bug, switched on through the test hooks, is
 * caught in a short seeded scenario aimed at it, with the kind of violation it should cause; the same scenario with the
 * mutant off shows no violation at all. The negative controls break an assumption instead (A2: an immediate restart
 * without the guard; A1: a node's clock jumping; A4: a holder paused past its deadline) and must show their
 * violation too; with the restart guard on, the restart schedule shows none.
 *
 * <p>Client A is {@code cluster.client(0)}, client B {@code cluster.client(1)}, each behind its own proxies. Lease
 * time 1 s (3 s where noted), maxLeaseTime = lease time, node timeout 100 ms.
 */
class MutantIT {

    private static final String KEY = "m";

    private static void partition(Cluster.Client c, int... nodes) {
        for (int n : nodes) {
            c.proxies.get(n).blackhole(true);
        }
    }

    // == Mutants ==

    /** Quorum 1: A reaches only nodes 0-2, B only nodes 3-4; with a quorum of one both get the lock. */
    private static Checker.Verdict quorumOne(RedisServers servers, boolean mutant) {
        try (Scenario s = Scenario.open(servers, (mutant ? "mutant" : "engine") + "-quorum-1", 1, Scenario.TTL,
                RestartGuard.RUN_ID)) {
            s.a().hooks.quorum(mutant ? 1 : 0);
            s.b().hooks.quorum(mutant ? 1 : 0);
            partition(s.a(), 3, 4);
            partition(s.b(), 0, 1, 2);
            OpSpec hold = s.hold(Duration.ofMillis(400)).withOptions(
                    Scenario.options(Scenario.TTL).mutate().maxWait(Duration.ofMillis(600)).build());
            s.start(s.a(), 0, KEY, hold, Duration.ZERO);
            s.start(s.b(), 100, KEY, hold, Duration.ofMillis(50));
            return check(s, mutant, v -> assertThat(v.count(Violation.WINDOW_OVERLAP)).isPositive());
        }
    }

    @Test
    void quorumOfOneIsCaughtAsOverlappingWindows(@RedisNodes(5) RedisServers servers) {
        quorumOne(servers, true);
        quorumOne(servers, false);
    }

    /**
     * No validity check: A pauses 1.5 lease times between the replies and reading T2; the mutant still hands out the
     * lease although its deadline passed, the engine fails the attempt.
     */
    private static Checker.Verdict noValidityCheck(RedisServers servers, boolean mutant) {
        try (Scenario s = Scenario.open(servers, (mutant ? "mutant" : "engine") + "-no-validity-check", 2, Scenario.TTL,
                RestartGuard.RUN_ID)) {
            s.a().hooks.pauseAfterReplies(Scenario.TTL.multipliedBy(3).dividedBy(2)).skipValidityCheck(mutant);
            OpSpec once = s.spec().withOptions(Scenario.options(Scenario.TTL).mutate().maxWait(Duration.ZERO).build());
            s.start(s.a(), 0, KEY, once, Duration.ZERO);
            Checker.Verdict v = check(s, mutant, x -> assertThat(x.count(Violation.INVALID_GRANT)).isPositive());
            if (!mutant) {
                s.expect(v, x -> assertThat(x.acquireOk).as("grants after the validity ran out").isZero());
            }
            return v;
        }
    }

    @Test
    void skippingTheValidityCheckIsCaughtAsAGrantWithoutValidity(@RedisNodes(5) RedisServers servers) {
        noValidityCheck(servers, true);
        noValidityCheck(servers, false);
    }

    /**
     * Wall clock: A holds with the watchdog off; its wall clock then steps back 5 s. The mutant (deadline on the wall
     * clock) believes it still holds the lease long after the keys expired and B took the lock.
     */
    private static Checker.Verdict wallClock(RedisServers servers, boolean mutant) {
        try (Scenario s = Scenario.open(servers, (mutant ? "mutant" : "engine") + "-wall-clock", 3, Scenario.TTL,
                RestartGuard.RUN_ID)) {
            s.a().hooks.wallClock(mutant);
            LockOptions noWatchdog = Scenario.options(Scenario.TTL).mutate().watchdog(false).maxWait(Duration.ZERO).build();
            s.start(s.a(), 0, KEY, s.hold(Duration.ofMillis(2500)).withOptions(noWatchdog), Duration.ZERO);
            s.awaitHolding(s.a());
            s.a().hooks.wallClockJump(Duration.ofSeconds(-5)); // ignored unless the wall-clock mutant is on
            s.start(s.b(), 100, KEY, s.hold(Duration.ofMillis(300)), Duration.ofMillis(50));
            return check(s, mutant, v -> assertThat(v.count(Violation.WINDOW_OVERLAP)).isPositive());
        }
    }

    @Test
    void aWallClockDeadlineWithAClientClockJumpIsCaughtAsOverlappingWindows(@RedisNodes(5) RedisServers servers) {
        wallClock(servers, true);
        wallClock(servers, false);
    }

    /**
     * Release without ownership check: A overruns its lease (manual release 1.6 lease times after the grant, no
     * watchdog); B holds the lock by then (watchdog off) and C waits. The mutant's plain DEL deletes B's keys and C
     * gets the lock while B still holds it.
     */
    private static Checker.Verdict releaseWithoutOwnershipCheck(RedisServers servers, boolean mutant) {
        try (Scenario s = Scenario.open(servers, (mutant ? "mutant" : "engine") + "-release-without-ownership-check", 4,
                Scenario.TTL, RestartGuard.RUN_ID)) {
            s.a().hooks.releaseWithoutOwnershipCheck(mutant);
            s.b().hooks.releaseWithoutOwnershipCheck(mutant);
            LockOptions noWatchdog = Scenario.options(Scenario.TTL).mutate().watchdog(false).build();
            s.start(s.a(), 0, KEY, s.spec().withOptions(noWatchdog).manualReleaseAfter(Duration.ofMillis(1600)),
                    Duration.ZERO);
            s.start(s.b(), 100, KEY, s.hold(Duration.ofMillis(900)).withOptions(noWatchdog), Duration.ofMillis(100));
            s.start(s.b(), 101, KEY, s.hold(Duration.ofMillis(200)), Duration.ofMillis(1500));
            return check(s, mutant, v -> assertThat(v.count(Violation.WINDOW_OVERLAP)).isPositive());
        }
    }

    @Test
    void aReleaseWithoutOwnershipCheckIsCaughtAsOverlappingWindows(@RedisNodes(5) RedisServers servers) {
        releaseWithoutOwnershipCheck(servers, true);
        releaseWithoutOwnershipCheck(servers, false);
    }

    /**
     * No release on failure: A's requests to nodes 0-2 are delayed 150 ms (+ up to 30 ms), above the node timeout,
     * so every attempt fails and those SETs land late. The mutant leaves keys behind; the engine releases every node
     * after that node's reply or timeout, so right after quiescence (before the lease time) no lock key is left.
     */
    private static Checker.Verdict noReleaseOnFailure(RedisServers servers, boolean mutant) {
        Duration ttl = Duration.ofSeconds(3);
        try (Scenario s = Scenario.open(servers, (mutant ? "mutant" : "engine") + "-no-release-on-failure", 5, ttl,
                RestartGuard.RUN_ID)) {
            s.a().hooks.noReleaseOnFailure(mutant);
            for (int n = 0; n < 3; n++) {
                s.a().proxies.get(n).latency(Duration.ofMillis(150), Duration.ofMillis(30), FaultProxy.Direction.UPSTREAM);
            }
            OpSpec once = s.spec().withOptions(Scenario.options(ttl).mutate().maxWait(Duration.ZERO).build());
            long end = System.nanoTime() + Duration.ofMillis(1000).toNanos();
            String[] keys = {"m0", "m1", "m2", "m3"};
            for (int w = 0; w < 4; w++) {
                s.worker(s.a(), w, keys, once, Duration.ofMillis(20), () -> System.nanoTime() - end < 0);
            }
            s.awaitAll();
            s.a().proxies.healAll();
            Cluster.sleep(1000); // quiescence: held requests delivered, releases answered
            s.cluster.checkLockKeys(Violation.LEAKED_KEYS_EARLY, "lock keys right after quiescence, before the lease time");
            return check(s, mutant, v -> assertThat(v.count(Violation.LEAKED_KEYS_EARLY)).isPositive());
        }
    }

    @Test
    void notReleasingAFailedAttemptIsCaughtAsLeakedKeysRightAfterQuiescence(@RedisNodes(5) RedisServers servers) {
        Checker.Verdict mutant = noReleaseOnFailure(servers, true);
        Checker.Verdict engine = noReleaseOnFailure(servers, false);
        assertThat(engine.acquireFail).as("failed attempts in the engine run").isPositive();
        assertThat(mutant.acquireFail).as("failed attempts in the mutant run").isPositive();
    }

    /**
     * Extension below quorum: A holds with the watchdog on, then is cut off from nodes 0-2. The mutant counts
     * renewals of nodes 3-4 as success and keeps believing in its lease; B takes the lock once A's keys on 0-2 expire.
     */
    private static Checker.Verdict extendBelowQuorum(RedisServers servers, boolean mutant) {
        try (Scenario s = Scenario.open(servers, (mutant ? "mutant" : "engine") + "-extend-quorum-1", 6, Scenario.TTL,
                RestartGuard.RUN_ID)) {
            s.a().hooks.extendQuorum(mutant ? 1 : 0);
            OpSpec longHold = s.hold(Duration.ofMillis(2500))
                    .withOptions(Scenario.options(Scenario.TTL).mutate().maxWait(Duration.ZERO).build());
            s.start(s.a(), 0, KEY, longHold, Duration.ZERO);
            s.awaitHolding(s.a());
            partition(s.a(), 0, 1, 2);
            s.start(s.b(), 100, KEY, s.hold(Duration.ofMillis(300)), Duration.ofMillis(50));
            return check(s, mutant, v -> assertThat(v.count(Violation.WINDOW_OVERLAP)).isPositive());
        }
    }

    @Test
    void anExtensionCountedBelowQuorumIsCaughtAsOverlappingWindows(@RedisNodes(5) RedisServers servers) {
        extendBelowQuorum(servers, true);
        Checker.Verdict engine = extendBelowQuorum(servers, false);
        assertThat(engine.lost).as("the engine signals the lost lease").isPositive();
    }

    // == Negative controls ==

    /**
     * F3: A holds on exactly nodes 0-2 (cut off from 3-4); node 0 is restarted at once, empty. Without the restart
     * guard B wins nodes 0, 3, 4 while A's lease is valid; with the guard (RUN_ID) node 0 is held out for the maximum
     * lease time and B only gets the lock after A lost it.
     */
    private static Checker.Verdict immediateRestart(RedisServers servers, RestartGuard guard) {
        boolean off = guard == RestartGuard.OFF;
        try (Scenario s = Scenario.open(servers, "control-immediate-restart-guard-" + guard.name().toLowerCase(), 7,
                Scenario.TTL, guard)) {
            partition(s.a(), 3, 4);
            s.start(s.a(), 0, KEY, s.hold(Duration.ofMillis(2000)), Duration.ZERO);
            s.awaitHolding(s.a());
            servers.get(0).restart();
            s.start(s.b(), 100, KEY, s.hold(Duration.ofMillis(300)), Duration.ZERO);
            Checker.Verdict v = s.verdict();
            s.expect(v, x -> {
                if (off) {
                    assertThat(x.count(Violation.WINDOW_OVERLAP)).isPositive();
                } else {
                    assertThat(x.total()).isZero();
                    assertThat(x.acquireOk).as("B gets the lock once A's lease is gone").isEqualTo(2);
                }
            });
            return v;
        }
    }

    @Test
    void anImmediateRestartWithoutTheGuardIsCaughtAndTheGuardPreventsIt(@RedisNodes(5) RedisServers servers) {
        immediateRestart(servers, RestartGuard.OFF);
        immediateRestart(servers, RestartGuard.RUN_ID);
    }

    /**
     * F12: A holds on exactly nodes 0-2; node 0's clock jumps forward (emulated with {@code PEXPIRE key 1} through
     * the admin connection). B wins nodes 0, 3, 4 while A's lease is valid.
     */
    @Test
    void aNodeClockJumpIsCaughtAsOverlappingWindows(@RedisNodes(5) RedisServers servers) {
        try (Scenario s = Scenario.open(servers, "control-node-clock-jump", 8, Scenario.TTL, RestartGuard.RUN_ID)) {
            partition(s.a(), 3, 4);
            s.start(s.a(), 0, KEY, s.hold(Duration.ofMillis(2000)), Duration.ZERO);
            s.awaitHolding(s.a());
            String lockKey = "lock:{" + KEY + "}";
            List<Integer> holders = new ArrayList<>();
            for (int n = 0; n < servers.size(); n++) {
                if (servers.get(n).admin().get(lockKey) != null) {
                    holders.add(n);
                }
            }
            assertThat(holders).as("nodes holding A's key").containsExactly(0, 1, 2);
            RedisServer jumped = servers.get(holders.get(0));
            assertThat(jumped.admin().pexpire(lockKey, 1)).isTrue();
            s.start(s.b(), 100, KEY, s.hold(Duration.ofMillis(300)), Duration.ZERO);
            Checker.Verdict v = s.verdict();
            s.expect(v, x -> assertThat(x.count(Violation.WINDOW_OVERLAP)).isPositive());
        }
    }

    /**
     * F11: A passes its margin check, then stalls 1.5 lease times before writing (watchdog off, like a GC pause). Its
     * lease ends and B writes meanwhile; A's write then lands late and stale, and the CAS register rejects it: the
     * windows never overlap and nothing stale is accepted.
     */
    @Test
    void aHolderPausedPastItsDeadlineWritesLateAndStaleButTheCasAcceptsNothingStale(
            @RedisNodes(5) RedisServers servers) {
        try (Scenario s = Scenario.open(servers, "control-paused-holder", 9, Scenario.TTL, RestartGuard.RUN_ID)) {
            LockOptions noWatchdog = Scenario.options(Scenario.TTL).mutate().watchdog(false).maxWait(Duration.ZERO).build();
            s.start(s.a(), 0, KEY, s.spec().withOptions(noWatchdog).withStall(Duration.ofMillis(1500)), Duration.ZERO);
            s.start(s.b(), 100, KEY, s.spec(), Duration.ofMillis(100));
            Checker.Verdict v = s.verdict();
            s.expect(v, x -> {
                assertThat(x.count(Violation.LATE_WRITE)).isPositive();
                assertThat(x.count(Violation.STALE_WRITE)).isPositive();
                assertThat(x.count(Violation.CAS_CONFLICT)).as("the CAS rejects the stale write").isPositive();
                assertThat(x.count(Violation.LOST_UPDATE)).as("without the CAS, B's update is lost").isPositive();
                assertThat(x.count(Violation.STALE_ACCEPTED)).isZero();
                assertThat(x.count(Violation.WINDOW_OVERLAP)).isZero();
                assertThat(x.count(Violation.MALFORMED)).isZero();
            });
        }
    }

    // == helpers ==

    /** The mutant must show the expected kind; the engine (mutant off) must show no violation at all. */
    private static Checker.Verdict check(Scenario s, boolean mutant,
            java.util.function.Consumer<Checker.Verdict> mutantExpectation) {
        Checker.Verdict v = s.verdict();
        s.expect(v, x -> {
            if (mutant) {
                mutantExpectation.accept(x);
                assertThat(x.count(Violation.MALFORMED)).isZero();
            } else {
                assertThat(x.total()).as("violations with the mutant off").isZero();
            }
        });
        return v;
    }
}
