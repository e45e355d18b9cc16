package dev.redlock;

import static dev.redlock.RedisFixtures.builder;
import static dev.redlock.RedisFixtures.lockKeys;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

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
            store.write("data:account", "written by next", nextToken).block(Duration.ofSeconds(5));
            next.release().block(Duration.ofSeconds(5));

            StaleFencingTokenException stale = (StaleFencingTokenException) org.assertj.core.api.Assertions.catchThrowable(
                    () -> store.write("data:account", "late write", slow.fencingToken().orElseThrow())
                            .block(Duration.ofSeconds(5)));
            assertThat(stale.token()).isEqualTo(slow.fencingToken().orElseThrow());
            assertThat(stale.lastAccepted()).isEqualTo(nextToken);
            assertThat(store.read("data:account").block(Duration.ofSeconds(5))).isEqualTo("written by next");
            // the same holder may write again with its own token
            store.write("data:account", "again", nextToken).block(Duration.ofSeconds(5));
            assertThat(store.lastAcceptedToken("data:account").block(Duration.ofSeconds(5))).isEqualTo(nextToken);
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
        try (ReactiveRedLock a = builder(servers).restartGuard(guard).defaults(opts).build();
                ReactiveRedLock b = builder(servers).restartGuard(guard).defaults(opts).build()) {
            Disposable events = b.events().subscribe(outcome.events::add);
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
            events.dispose();
        }
        return outcome;
    }

    @Test
    void withoutTheGuardAnImmediateRestartBreaksExclusionAndFencingAndIsDetected(@RedisNodes(5) RedisServers servers) {
        Outcome outcome = restartScenario(servers, RestartGuard.OFF);
        assertThat(outcome.second).as("second owner acquired while the first held the lease").isNotNull();
        assertThat(outcome.overlap).as("overlapping validity windows").isTrue();
        assertThat(outcome.second.fencingToken().orElseThrow())
                .as("fencing token of the later lease")
                .isLessThanOrEqualTo(outcome.first.fencingToken().orElseThrow());
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
}
