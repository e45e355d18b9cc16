package dev.redlock;

import static dev.redlock.RedisFixtures.builder;
import static dev.redlock.RedisFixtures.lockKeys;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.redlock.internal.node.LettuceNode;
import dev.redlock.testkit.FaultProxies;
import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Fencing tokens and the restart guard on real nodes: tokens strictly increase across successive leases, also with
 * an inflated counter and with a minority node restarted empty; and without the guard, the same kind of restart
 * breaks exclusion and fencing, which these tests detect.
 */
class FencingAndRestartGuardIT {

    private static final int LEASES = 10_000;

    private static final LockOptions FENCED = LockOptions.builder()
            .leaseTime(Duration.ofSeconds(1))
            .maxWait(Duration.ofSeconds(5))
            .fencing(true)
            .build();

    /** Runs {@code count} successive fenced leases and checks each token exceeds the previous one. */
    private static long successiveLeases(ReactiveRedLock lock, int count, long previous) {
        AtomicLong last = new AtomicLong(previous);
        AtomicLong violations = new AtomicLong();
        Flux.range(0, count)
                .concatMap(i -> lock.acquire("fenced", FENCED).flatMap(lease -> {
                    long token = lease.fencingToken().orElseThrow();
                    if (token <= last.get()) {
                        violations.incrementAndGet();
                    }
                    last.set(token);
                    return lease.release();
                }))
                .blockLast(Duration.ofMinutes(2));
        assertThat(violations.get()).as("tokens not above the previous lease's").isZero();
        return last.get();
    }

    @Test
    void tenThousandSuccessiveLeasesGetStrictlyIncreasingTokens(@RedisNodes(5) RedisServers servers) {
        try (ReactiveRedLock lock = builder(servers).defaults(FENCED).build()) {
            long last = successiveLeases(lock, LEASES, 0);
            assertThat(last).isGreaterThanOrEqualTo(LEASES);
        }
    }

    @Test
    void anInflatedCounterOnOneNodeOnlyMovesTokensUp(@RedisNodes(5) RedisServers servers) {
        try (ReactiveRedLock lock = builder(servers).defaults(FENCED).build()) {
            long last = successiveLeases(lock, LEASES / 2, 0);
            String counter = "lock:{fenced}:fence";
            long inflated = Long.parseLong(servers.get(3).admin().get(counter)) + 1_000_000;
            servers.get(3).admin().set(counter, Long.toString(inflated));
            last = successiveLeases(lock, LEASES / 2, last);
            assertThat(last).isGreaterThan(1_000_000);
        }
    }

    @Test
    void minorityNodesRestartedEmptyDoNotBreakTheTokensWithTheGuard(@RedisNodes(5) RedisServers servers) {
        try (ReactiveRedLock lock = builder(servers)
                .restartGuard(RestartGuard.RUN_ID)
                .maxLeaseTime(Duration.ofSeconds(2))
                .defaults(FENCED)
                .build()) {
            List<LockEvent> heldOut = new CopyOnWriteArrayList<>();
            Disposable events = lock.events().filter(e -> e.type() == LockEvent.Type.NODE_HELD_OUT).subscribe(heldOut::add);
            long last = 0;
            for (int round = 0; round < 4; round++) {
                last = successiveLeases(lock, LEASES / 4, last);
                servers.get(round).restart(); // immediately, without persistence: the node forgets counter and keys
            }
            last = successiveLeases(lock, 100, last);
            // events reach subscribers on their own scheduler, a moment after they happen
            await().atMost(Duration.ofSeconds(2)).until(() -> heldOut.stream()
                    .anyMatch(e -> e.node().orElseThrow().equals(servers.get(0).host() + ":" + servers.get(0).port())));
            events.dispose();
            assertThat(heldOut).extracting(e -> e.node().orElseThrow())
                    .contains(servers.get(0).host() + ":" + servers.get(0).port());
        }
    }

    @Test
    void aFencedStoreRejectsTheLateWriteOfAHolderThatPausedPastItsDeadline(@RedisNodes(3) RedisServers servers) {
        LockOptions opts = FENCED.mutate().leaseTime(Duration.ofMillis(300)).maxWait(Duration.ofSeconds(2)).build();
        io.lettuce.core.RedisClient data = io.lettuce.core.RedisClient.create(servers.get(0).uri());
        try (ReactiveRedLock lock = builder(servers).defaults(opts).build();
                io.lettuce.core.api.StatefulRedisConnection<String, String> connection = data.connect()) {
            FencedStore store = FencedStore.of(connection);
            Lease slow = lock.acquire("account").block(Duration.ofSeconds(5));
            // the slow holder stalls past its deadline; the next holder takes over and writes (with a lease long
            // enough that a loaded machine cannot end it before its release)
            Lease next = lock.acquire("account", opts.mutate().leaseTime(Duration.ofSeconds(10)).build())
                    .block(Duration.ofSeconds(5));
            long nextToken = next.fencingToken().orElseThrow();
            assertThat(nextToken).isGreaterThan(slow.fencingToken().orElseThrow());
            store.write("data:account", "written by next", next).block(Duration.ofSeconds(5));
            next.release().block(Duration.ofSeconds(5));

            StaleFencingTokenException stale = (StaleFencingTokenException) org.assertj.core.api.Assertions.catchThrowable(
                    () -> store.write("data:account", "late write", slow).block(Duration.ofSeconds(5)));
            assertThat(stale.token()).isEqualTo(slow.fencingToken().orElseThrow());
            assertThat(stale.lastAccepted()).isEqualTo(nextToken);
            assertThat(store.read("data:account").block(Duration.ofSeconds(5))).isEqualTo("written by next");
            // the same holder may write again with its own token; another lease with an equal token may not
            store.write("data:account", "again", next).block(Duration.ofSeconds(5));
            assertThat(store.lastAcceptedToken("data:account").block(Duration.ofSeconds(5))).isEqualTo(nextToken);
            StaleFencingTokenException repeated = (StaleFencingTokenException) org.assertj.core.api.Assertions
                    .catchThrowable(() -> store.write("data:account", "same number, other lease", nextToken, slow.token())
                            .block(Duration.ofSeconds(5)));
            assertThat(repeated.token()).isEqualTo(nextToken);
            assertThat(repeated.getMessage()).contains("equals the last accepted token but comes from another lease");
            assertThat(store.read("data:account").block(Duration.ofSeconds(5))).isEqualTo("again");
        } finally {
            data.shutdown();
        }
    }

    /** What happened when a second owner tried to lock while the first still held the lease. */
    private static final class Outcome {
        Lease first;
        Lease second;
        Throwable secondError;
        boolean overlap;
        final List<LockEvent> events = new CopyOnWriteArrayList<>();
    }

    /**
     * A holds the lock on nodes 0, 1, 2 (3 and 4 are down). Node 0 is killed and restarted at once, empty; 3 and 4
     * come back empty. Then B tries: nodes 0, 3 and 4 would grant it, a quorum, while A's lease is still valid.
     */
    private static Outcome restartScenario(RedisServers servers, RestartGuard guard) {
        LockOptions opts = FENCED.mutate().leaseTime(Duration.ofSeconds(20)).maxWait(Duration.ofSeconds(1)).build();
        servers.get(3).kill();
        servers.get(4).kill();
        Outcome outcome = new Outcome();
        java.util.concurrent.CompletableFuture<Void> allEvents;
        try (ReactiveRedLock a = builder(servers).restartGuard(guard).defaults(opts).build();
                ReactiveRedLock b = builder(servers).restartGuard(guard).defaults(opts).build()) {
            // events reach subscribers on their own scheduler; the flux completes after the last one, once b closed
            allEvents = b.events().doOnNext(outcome.events::add).then().toFuture();
            outcome.first = a.acquire("k").block(Duration.ofSeconds(5));
            assertThat(b.isLocked("k").block(Duration.ofSeconds(5))).isTrue(); // B has seen nodes 0, 1, 2
            servers.get(0).restart();
            servers.get(3).restart();
            servers.get(4).restart();
            try {
                outcome.second = b.acquire("k").block(Duration.ofSeconds(5));
                outcome.overlap = outcome.first.isValid() && outcome.second.isValid();
            } catch (RuntimeException e) {
                outcome.secondError = e;
            }
        }
        allEvents.orTimeout(5, TimeUnit.SECONDS).join();
        return outcome;
    }

    @Test
    void withoutTheGuardAnImmediateRestartBreaksExclusionAndIsDetected(@RedisNodes(5) RedisServers servers) {
        Outcome outcome = restartScenario(servers, RestartGuard.OFF);
        assertThat(outcome.second).as("second owner acquired while the first held the lease").isNotNull();
        assertThat(outcome.overlap).as("overlapping validity windows").isTrue();
        // Exclusion broke; the tokens did not: the restarted nodes had no counter and answered their clocks, which
        // moved on since the first lease. (That needs the clocks to agree; the guard is what Lease#fencingToken
        // documents as the assumption.)
        assertThat(outcome.second.fencingToken().orElseThrow())
                .as("fencing token of the later lease")
                .isGreaterThan(outcome.first.fencingToken().orElseThrow());
    }

    @Test
    void withTheGuardTheRestartedNodeIsHeldOutAndExclusionHolds(@RedisNodes(5) RedisServers servers) {
        Outcome outcome = restartScenario(servers, RestartGuard.RUN_ID);
        assertThat(outcome.second).isNull();
        assertThat(outcome.secondError).isInstanceOf(LockException.class);
        assertThat(outcome.events)
                .filteredOn(e -> e.type() == LockEvent.Type.NODE_HELD_OUT)
                .extracting(e -> e.node().orElseThrow())
                .containsOnly(servers.get(0).host() + ":" + servers.get(0).port());
        await().atMost(Duration.ofSeconds(2)).until(() -> servers.keys("lock:{k}").get(3).isEmpty());
    }

    @Test
    void strictModeAlsoHoldsOutAYoungNodeAClientNeverSawBefore(@RedisNodes(3) RedisServers servers) {
        servers.get(0).restart();
        try (ReactiveRedLock strict = builder(servers)
                .restartGuard(RestartGuard.STRICT)
                .maxLeaseTime(Duration.ofSeconds(30))
                .defaults(LockOptions.builder().maxWait(Duration.ZERO).build())
                .build()) {
            // every node here started moments ago, so none may count yet
            QuorumUnavailableException e = (QuorumUnavailableException) org.assertj.core.api.Assertions
                    .catchThrowable(() -> strict.acquire("k").block(Duration.ofSeconds(5)));
            // the attempt is decided as soon as two of three are out
            assertThat(e.nodeFailures().values()).hasSizeGreaterThanOrEqualTo(2).allMatch(NodeHeldOutException.class::isInstance);
            assertThat(e.getMessage()).contains("held out", "uptime");
        }
        await().atMost(Duration.ofSeconds(2)).until(() -> lockKeys(servers) == 0);
    }

    // == The default restart guard, the key space's hold-out and tokens across restarts ==

    /** Waits until every running node reports at least {@code seconds} of uptime. */
    private static void awaitUptime(RedisServers servers, int seconds) {
        await().atMost(Duration.ofSeconds(seconds + 5)).pollInterval(Duration.ofMillis(100)).until(() -> {
            for (int i = 0; i < servers.size(); i++) {
                if (servers.get(i).isRunning()
                        && Long.parseLong(LettuceNode.infoField(servers.get(i).admin().info("server"), "uptime_in_seconds"))
                                < seconds) {
                    return false;
                }
            }
            return true;
        });
    }

    /**
     * The review's scenario: node 2 is down while A acquires on {0, 1}; node 2 comes back empty and node 0 restarts
     * empty; a client B that meets the nodes for the first time then finds {0, 2} free. B must not get the lock
     * while A's lease is valid.
     */
    private static Outcome freshClientAfterRestarts(RedisServers servers, RestartGuard guardOfB /* null: the default */) {
        Duration maxLease = Duration.ofSeconds(2);
        LockOptions opts = FENCED.mutate().leaseTime(maxLease).maxWait(Duration.ofMillis(800)).build();
        servers.get(2).kill();
        awaitUptime(servers, 3); // nodes 0 and 1 are older than the maximum lease time: A may count them
        Outcome outcome = new Outcome();
        try (ReactiveRedLock a = ReactiveRedLock.builder().nodes(servers.uris().toArray(String[]::new))
                .maxLeaseTime(maxLease).defaults(opts).build()) {
            outcome.first = a.acquire("k").block(Duration.ofSeconds(5));
            servers.get(2).restart();
            servers.get(0).restart();
            RedLockBuilder builderOfB = ReactiveRedLock.builder().nodes(servers.uris().toArray(String[]::new))
                    .maxLeaseTime(maxLease).defaults(opts);
            if (guardOfB != null) {
                builderOfB.restartGuard(guardOfB);
            }
            java.util.concurrent.CompletableFuture<Void> allEvents;
            try (ReactiveRedLock b = builderOfB.build()) {
                // events reach subscribers on their own scheduler; the flux completes after the last one, once b closed
                allEvents = b.events().doOnNext(outcome.events::add).then().toFuture();
                try {
                    outcome.second = b.acquire("k").block(Duration.ofSeconds(5));
                    outcome.overlap = outcome.first.isValid() && outcome.second.isValid();
                } catch (RuntimeException e) {
                    outcome.secondError = e;
                    outcome.overlap = false;
                }
            }
            allEvents.orTimeout(5, TimeUnit.SECONDS).join();
        }
        return outcome;
    }

    @Test
    void theDefaultGuardHoldsOutRestartedNodesThatAFreshClientMeetsForTheFirstTime(@RedisNodes(3) RedisServers servers) {
        Outcome outcome = freshClientAfterRestarts(servers, null);
        assertThat(outcome.second).as("a second owner while the first lease was valid").isNull();
        assertThat(outcome.secondError).isInstanceOf(LockException.class);
        assertThat(outcome.events).filteredOn(e -> e.type() == LockEvent.Type.NODE_HELD_OUT)
                .extracting(e -> e.node().orElseThrow())
                .contains(servers.get(0).host() + ":" + servers.get(0).port(),
                        servers.get(2).host() + ":" + servers.get(2).port());
    }

    @Test
    void trustingFirstContactLetsAFreshClientAcquireOverTheFirstLease(@RedisNodes(3) RedisServers servers) {
        // The control: RUN_ID trusts nodes on first contact, which is only safe when none can have forgotten a lease.
        Outcome outcome = freshClientAfterRestarts(servers, RestartGuard.RUN_ID);
        assertThat(outcome.second).as("second owner").isNotNull();
        assertThat(outcome.overlap).as("overlapping validity windows").isTrue();
    }

    /**
     * Two clients of one key space with different maximum lease times: the one configured for 1 s must hold a
     * restarted node out for the other's 4 s, since that node may have granted one of the other's 4 s leases.
     */
    @Test
    void theHoldOutCoversTheLongestMaximumLeaseTimeOfTheKeySpace(@RedisNodes(3) RedisServers servers) {
        LockOptions oneSecond = LockOptions.builder().leaseTime(Duration.ofSeconds(1)).build();
        try (ReactiveRedLock longLeases = builder(servers).maxLeaseTime(Duration.ofSeconds(4)).defaults(oneSecond).build();
                ReactiveRedLock shortLeases = builder(servers).maxLeaseTime(Duration.ofSeconds(1)).defaults(oneSecond).build()) {
            longLeases.connect().block(Duration.ofSeconds(5));
            shortLeases.connect().block(Duration.ofSeconds(5)); // sees the record of 4,000 ms on the nodes
            assertThat(servers.get(1).admin().get("lock:max-lease-ms")).isEqualTo("4000");
            servers.get(0).restart(); // empty: its record is gone, the other nodes keep theirs
            await().atMost(Duration.ofSeconds(5)).until(() -> {
                shortLeases.isLocked("any").onErrorResume(e -> Mono.empty()).block(Duration.ofSeconds(2));
                return shortLeases.nodeStatus().get(0).heldOutFor().compareTo(Duration.ZERO) > 0;
            });
            assertThat(shortLeases.nodeStatus().get(0).heldOutFor())
                    .as("hold-out of the client configured for 1 s")
                    .isGreaterThan(Duration.ofMillis(2500));
        }
    }

    /**
     * What the default guard costs when a whole cluster starts: nothing is granted until the nodes are a maximum
     * lease time old. Measured here with a 2 s maximum lease time (the default is 60 s).
     */
    @Test
    void aFreshlyStartedClusterGrantsNothingUntilItIsAMaximumLeaseTimeOld(@RedisNodes(3) RedisServers servers) {
        // Start the nodes late in a wall-clock second: Redis counts uptime in whole wall-clock seconds, so these
        // nodes soon report an uptime of 1 s while a few hundred milliseconds old; the guard must not trust that.
        await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(5))
                .until(() -> System.currentTimeMillis() % 1000 >= 700 && System.currentTimeMillis() % 1000 < 750);
        long started = System.nanoTime(); // before any of them started: their age is at most the time since
        for (int i = 0; i < 3; i++) {
            servers.get(i).restart();
        }
        try (ReactiveRedLock lock = ReactiveRedLock.builder().nodes(servers.uris().toArray(String[]::new))
                .maxLeaseTime(Duration.ofSeconds(2))
                .defaults(LockOptions.builder().leaseTime(Duration.ofSeconds(2)).maxWait(Duration.ofSeconds(10)).build())
                .build()) {
            Lease lease = lock.acquire("first").block(Duration.ofSeconds(15));
            long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            System.out.printf("default restart guard: first lease %d ms after the cluster started (maxLeaseTime 2 s)%n",
                    waitedMillis);
            assertThat(waitedMillis).isBetween(2000L, 4500L);
            lease.release().block(Duration.ofSeconds(5));
        }
    }

    /**
     * The review's token scenario: A's write-back reaches {0, 1} (A is cut off from node 2); node 0 restarts empty
     * and is held out; once the hold-out is over and node 1 is out of B's reach, B's lease is granted by {0, 2},
     * whose counters never saw A's token. B's token must still be larger.
     */
    @Test
    void fencingTokensKeepIncreasingAfterAMinorityRestartOnceTheHoldOutIsOver(@RedisNodes(3) RedisServers servers) {
        Duration maxLease = Duration.ofSeconds(1);
        LockOptions opts = FENCED.mutate().leaseTime(maxLease).maxWait(Duration.ofSeconds(3)).build();
        try (FaultProxies toA = FaultProxies.inFrontOf(servers);
                FaultProxies toB = FaultProxies.inFrontOf(servers);
                ReactiveRedLock a = ReactiveRedLock.builder().nodes(toA.uris().toArray(String[]::new))
                        .restartGuard(RestartGuard.RUN_ID).maxLeaseTime(maxLease).defaults(opts).build();
                ReactiveRedLock b = ReactiveRedLock.builder().nodes(toB.uris().toArray(String[]::new))
                        .restartGuard(RestartGuard.RUN_ID).maxLeaseTime(maxLease).defaults(opts).build()) {
            b.connect().block(Duration.ofSeconds(5)); // B knows node 0's run_id, so it sees the restart
            toA.get(2).blackhole(true);
            Lease first = a.acquire("fenced").block(Duration.ofSeconds(5));
            long firstToken = first.fencingToken().orElseThrow();
            first.release().block(Duration.ofSeconds(5));
            assertThat(servers.get(2).admin().get("lock:{fenced}:fence")).as("node 2 never saw A's token").isNull();

            servers.get(0).restart();
            toB.get(1).blackhole(true);
            Lease second = b.acquire("fenced").block(Duration.ofSeconds(10)); // after node 0's 1 s hold-out
            assertThat(second.grantedNodes()).isEqualTo(2);
            assertThat(second.fencingToken().orElseThrow()).as("token after the restart").isGreaterThan(firstToken);
            second.release().block(Duration.ofSeconds(5));
        }
    }

    @Test
    void aCounterBeyondTheExactIntegersOfLuaIsRefusedNotRounded(@RedisNodes(1) RedisServers servers) {
        try (ReactiveRedLock lock = builder(servers).defaults(FENCED).build()) {
            servers.get(0).admin().set("lock:{big}:fence", "9007199254740993"); // 2^53 + 1
            assertThatThrownBy(() -> lock.acquire("big").block(Duration.ofSeconds(5)))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("2^53 - 1");
            await().atMost(Duration.ofSeconds(2)).until(() -> lockKeys(servers) == 0);
        }
    }
}
