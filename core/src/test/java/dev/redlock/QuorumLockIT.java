package dev.redlock;

import static dev.redlock.RedisFixtures.calls;
import static dev.redlock.RedisFixtures.client;
import static dev.redlock.RedisFixtures.lockKeys;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServer;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/** The core lease engine against real redis-server processes. */
class QuorumLockIT {

    private static final LockOptions CONTENDED = LockOptions.builder()
            .leaseTime(Duration.ofSeconds(5))
            .maxWait(Duration.ofSeconds(60))
            .build();

    private static final int CONTENDERS = 32;
    private static final int SECTIONS_EACH = 8;

    /** The 1/3/5-node matrix: each size gets its own nodes, started for it and closed after it. */
    @ParameterizedTest(name = "{0} node(s)")
    @ValueSource(ints = {1, 3, 5})
    void mutualExclusion(int nodes) {
        try (RedisServers servers = RedisServers.start(nodes)) {
            try (ReactiveRedLock lock = client(servers, CONTENDED);
                    RedisFixtures.Counter counter = new RedisFixtures.Counter(servers.get(0).uri(), "counter")) {
                Flux.range(0, CONTENDERS)
                        .flatMap(worker -> Flux.range(0, SECTIONS_EACH)
                                        .concatMap(i -> lock.acquire("shared")
                                                .flatMap(lease -> counter.increment(Duration.ofMillis(1))
                                                        .then(lease.release()))),
                                CONTENDERS)
                        .blockLast(Duration.ofMinutes(2));

                assertThat(counter.value())
                        .as("read-modify-write under the lock on %d node(s)", servers.size())
                        .isEqualTo(CONTENDERS * SECTIONS_EACH);
                assertThat(lock.activeLeases()).isZero();
            }
            assertThat(lockKeys(servers)).isZero();
        }
    }

    @Test
    void theCounterDetectsOverlapWithoutTheLock(@RedisNodes(1) RedisServers servers) {
        // Negative control: the same workload without the lock loses updates, so the test above can fail.
        try (RedisFixtures.Counter counter = new RedisFixtures.Counter(servers.get(0).uri(), "counter")) {
            Flux.range(0, CONTENDERS)
                    .flatMap(worker -> Flux.range(0, SECTIONS_EACH)
                            .concatMap(i -> counter.increment(Duration.ofMillis(1))), CONTENDERS)
                    .blockLast(Duration.ofMinutes(1));
            assertThat(counter.value()).isLessThan(CONTENDERS * SECTIONS_EACH);
        }
    }

    @Test
    void twoOfFiveKilledStillAcquires(@RedisNodes(5) RedisServers servers) {
        servers.get(1).kill();
        servers.get(4).kill();
        try (ReactiveRedLock lock = client(servers, LockOptions.builder().maxWait(Duration.ZERO).build())) {
            Lease lease = lock.acquire("k").block(Duration.ofSeconds(5));
            assertThat(lease.grantedNodes()).isEqualTo(3);
            assertThat(lock.isLocked("k").block(Duration.ofSeconds(5))).isTrue();
            lease.release().block(Duration.ofSeconds(5));
        }
    }

    @Test
    void threeOfFiveKilledFailsWithTheQuorumErrorWithinMaxWaitPlusNodeTimeout(@RedisNodes(5) RedisServers servers) {
        servers.get(0).kill();
        servers.get(2).kill();
        servers.get(3).kill();
        LockOptions opts = LockOptions.builder()
                .maxWait(Duration.ofMillis(700))
                .nodeTimeout(Duration.ofMillis(100))
                .build();
        try (ReactiveRedLock lock = client(servers, opts)) {
            long start = System.nanoTime();
            StepVerifier.create(lock.acquire("k"))
                    .expectErrorSatisfies(e -> {
                        assertThat(e).isInstanceOf(QuorumUnavailableException.class);
                        assertThat(((QuorumUnavailableException) e).nodeFailures()).hasSize(3);
                    })
                    // maxWait + node timeout, plus a scheduling margin for a loaded 2-core machine
                    .verify(Duration.ofMillis(700 + 100 + 500));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(700));
        }
        assertThat(lockKeys(servers)).isZero();
    }

    @Test
    void pausedNodesCostAtMostTheirTimeout(@RedisNodes(5) RedisServers servers) {
        LockOptions opts = LockOptions.builder().maxWait(Duration.ZERO).nodeTimeout(Duration.ofMillis(100)).build();
        try (ReactiveRedLock lock = client(servers, opts)) {
            lock.acquire("warm-up").flatMap(Lease::release).block(Duration.ofSeconds(5));
            servers.get(0).admin().configResetstat();
            servers.get(3).admin().configResetstat();
            servers.get(0).pause();
            servers.get(3).pause();
            try {
                for (int i = 0; i < 5; i++) {
                    long start = System.nanoTime();
                    Lease lease = lock.acquire("k" + i).block(Duration.ofSeconds(2));
                    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                    assertThat(lease.grantedNodes()).isEqualTo(3);
                    assertThat(elapsedMs).as("acquire with 2 of 5 nodes stopped").isLessThan(100 + 200);
                    lease.release().block(Duration.ofSeconds(2));
                }
            } finally {
                servers.get(0).resume();
                servers.get(3).resume();
            }
            // the commands queued on the stopped nodes ran late (a key absent before they ran proves nothing); their
            // keys were released after them
            try {
                await().atMost(Duration.ofSeconds(2)).until(() -> Stream.of(servers.get(0), servers.get(3))
                        .allMatch(node -> calls(node, "set") >= 5 && calls(node, "del") >= 5));
                assertThat(lockKeys(servers)).isZero();
            } catch (RuntimeException e) {
                for (int i = 0; i < 5; i++) {
                    for (String k : servers.get(i).keys("lock:{*")) {
                        System.out.println("LEFT node " + i + " " + k + " ttl=" + servers.get(i).admin().pttl(k));
                    }
                }
                System.out.println(lock.nodeStatus());
                throw e;
            }
        }
    }

    @Test
    void repliesLaterThanTheLeaseFailTheAttemptAndLeaveNoKey(@RedisNodes(3) RedisServers servers) {
        LockOptions opts = LockOptions.builder()
                .leaseTime(Duration.ofSeconds(10))
                .nodeTimeout(Duration.ofMillis(200))
                .maxWait(Duration.ZERO)
                .build();
        try (ReactiveRedLock lock = client(servers, opts)) {
            lock.acquire("warm-up").flatMap(Lease::release).block(Duration.ofSeconds(5));
            // The client's clock jumps 11 s as the replies arrive, past the 10 s lease: validity = lease - elapsed -
            // drift < 0. The nodes' keys live 10 s of real time, so only the attempt's release can remove them.
            EngineAccess.installHooks(lock).pauseAfterReplies(Duration.ofSeconds(11));
            StepVerifier.create(lock.acquire("k"))
                    .expectErrorSatisfies(e -> assertThat(((QuorumUnavailableException) e).validityExpired()).isTrue())
                    .verify(Duration.ofSeconds(5));
            assertThat(lock.activeLeases()).isZero();
            // the failed attempt's release goes out as the error is signalled, not before it
            await().atMost(Duration.ofSeconds(2)).until(() -> lockKeys(servers) == 0);
        }
    }

    @Test
    void nodesStalledPastTheLeaseTimeOutAndTheirLateKeysAreRemoved(@RedisNodes(3) RedisServers servers) {
        LockOptions opts = LockOptions.builder()
                .leaseTime(Duration.ofSeconds(10))
                .nodeTimeout(Duration.ofMillis(100))
                .maxWait(Duration.ZERO)
                .build();
        try (ReactiveRedLock lock = client(servers, opts)) {
            lock.acquire("warm-up").flatMap(Lease::release).block(Duration.ofSeconds(5));
            servers.forEach(node -> node.admin().configResetstat());
            // Stopped (SIGSTOP; pause() returns once the kernel reports each one stopped), the nodes leave the
            // acquire's commands in their socket buffers past the node timeout, and run them when resumed.
            servers.forEach(RedisServer::pause);
            try {
                StepVerifier.create(lock.acquire("k"))
                        .expectError(QuorumUnavailableException.class)
                        .verify(Duration.ofSeconds(2));
            } finally {
                servers.forEach(RedisServer::resume);
            }
            // Each node ran our SET NX once resumed, then our release right behind it: no 10 s key remains. (Until
            // the SET NX has run, the key's absence proves nothing.)
            await().atMost(Duration.ofSeconds(2)).until(() -> servers.list().stream()
                    .allMatch(node -> calls(node, "set") >= 1 && calls(node, "del") >= 1));
            assertThat(lockKeys(servers)).isZero();
        }
    }

    @Test
    void thousandRandomlyCancelledAcquiresLeaveNoKeys(@RedisNodes(5) RedisServers servers) {
        LockOptions opts = LockOptions.builder().leaseTime(Duration.ofSeconds(30)).maxWait(Duration.ofSeconds(5)).build();
        AtomicInteger acquired = new AtomicInteger();
        try (ReactiveRedLock lock = client(servers, opts)) {
            lock.acquire("warm-up").flatMap(Lease::release).block(Duration.ofSeconds(5));
            List<Disposable> subscriptions = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                String key = "key-" + (i % 25);
                // usingWhen, as acquire's Javadoc prescribes for cancel safety: a cancel after the grant releases.
                // (A bare subscribe(consumer) disposed in the very instant the lease reaches it drops the lease as
                // Reactor's onNextDropped, which no library can see: docs/safety.md.)
                Disposable d = Mono.usingWhen(lock.acquire(key),
                                lease -> Mono.fromRunnable(acquired::incrementAndGet),
                                Lease::release)
                        .subscribe();
                subscriptions.add(d);
                long cancelAfterMicros = ThreadLocalRandom.current().nextLong(0, 3000);
                Schedulers.parallel().schedule(d::dispose, cancelAfterMicros, TimeUnit.MICROSECONDS);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> subscriptions.stream().allMatch(Disposable::isDisposed));
            // Released on every node, well before the 30 s lease could have expired them.
            await().atMost(Duration.ofSeconds(3))
                    .untilAsserted(() -> assertThat(RedisFixtures.lockKeyList(servers)).allMatch(List::isEmpty));
            await().atMost(Duration.ofSeconds(3)).until(() -> lock.activeLeases() == 0);
        }
        assertThat(acquired.get()).as("some acquires completed before their cancel").isLessThan(1000);
    }

    @Test
    void releasingAnExpiredLeaseLeavesTheNewOwnersKeyIntact(@RedisNodes(3) RedisServers servers) {
        LockOptions opts = LockOptions.builder().leaseTime(Duration.ofMillis(300)).maxWait(Duration.ZERO).build();
        try (ReactiveRedLock lock = client(servers, opts)) {
            Lease first = lock.acquire("k").block(Duration.ofSeconds(5));
            await().atMost(Duration.ofSeconds(2)).until(() -> !lock.isLocked("k").block(Duration.ofSeconds(1)));
            Lease second = lock.acquire("k", opts.mutate().leaseTime(Duration.ofSeconds(30)).build())
                    .block(Duration.ofSeconds(5));

            StepVerifier.create(first.release())
                    .expectErrorSatisfies(e -> assertThat(((LeaseLostException) e).reason())
                            .isEqualTo(LeaseLostException.Reason.EXPIRED))
                    .verify(Duration.ofSeconds(5));

            for (int i = 0; i < 3; i++) {
                assertThat(servers.get(i).admin().get("lock:{k}")).isEqualTo(second.token());
            }
            second.release().block(Duration.ofSeconds(5));
            // release is decided at the quorum; the last node's release follows right after
            await().atMost(Duration.ofSeconds(2)).until(() -> lockKeys(servers) == 0);
        }
    }

    @Test
    void closeReleasesEveryLeaseAndRejectsLaterCalls(@RedisNodes(3) RedisServers servers) {
        ReactiveRedLock lock = client(servers, LockOptions.defaults());
        lock.acquire("a").block(Duration.ofSeconds(5));
        lock.acquire("b").block(Duration.ofSeconds(5));
        await().atMost(Duration.ofSeconds(2)).until(() -> lockKeys(servers) == 6); // grants after the quorum decision
        lock.close();
        assertThat(lockKeys(servers)).isZero();
        StepVerifier.create(lock.acquire("c")).expectError(IllegalStateException.class).verify(Duration.ofSeconds(1));
    }

    @Test
    void aKilledAndRestartedNodeIsReconnected(@RedisNodes(3) RedisServers servers) {
        LockOptions opts = LockOptions.builder().maxWait(Duration.ofSeconds(2)).build();
        try (ReactiveRedLock lock = RedisFixtures.builder(servers).restartGuard(RestartGuard.OFF).defaults(opts).build()) {
            lock.acquire("a").flatMap(Lease::release).block(Duration.ofSeconds(5));
            servers.get(0).kill();
            servers.get(1).kill();
            StepVerifier.create(lock.tryAcquire("b")).expectError(QuorumUnavailableException.class).verify(Duration.ofSeconds(2));
            servers.get(0).restart();
            servers.get(1).restart();
            Lease lease = lock.acquire("b").block(Duration.ofSeconds(5));
            // the decision came at the quorum; the third node's grant follows right after
            await().atMost(Duration.ofSeconds(2)).until(() -> lockKeys(servers) == 3);
            assertThat(lease.grantedNodes()).isGreaterThanOrEqualTo(2);
            lease.release().block(Duration.ofSeconds(5));
            await().atMost(Duration.ofSeconds(2)).until(() -> lockKeys(servers) == 0);
        }
    }

    @Test
    void connectWarmsUpAQuorumOrSaysWhichNodesFailed(@RedisNodes(5) RedisServers servers) {
        servers.get(0).kill();
        servers.get(1).kill();
        try (ReactiveRedLock lock = client(servers, LockOptions.defaults())) {
            StepVerifier.create(lock.connect()).verifyComplete();
            servers.get(2).kill();
            try (ReactiveRedLock cold = client(servers, LockOptions.defaults())) {
                StepVerifier.create(cold.connect())
                        .expectErrorSatisfies(e -> assertThat(((QuorumUnavailableException) e).nodeFailures()).hasSize(3))
                        .verify(Duration.ofSeconds(5));
            }
        }
    }

    @Test
    void tryAcquireIsEmptyWhenHeld(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock lock = client(servers, LockOptions.defaults())) {
            Lease held = lock.acquire("k").block(Duration.ofSeconds(5));
            StepVerifier.create(lock.tryAcquire("k")).verifyComplete();
            held.release().block(Duration.ofSeconds(5));
            StepVerifier.create(lock.tryAcquire("k").flatMap(Lease::release)).verifyComplete();
        }
    }

    @Test
    void keysCarryThePrefixAndOneHashTagPerLock(@RedisNodes(3) RedisServers servers) {
        LockOptions fenced = LockOptions.defaults().mutate().fencing(true).build();
        try (ReactiveRedLock lock = RedisFixtures.builder(servers).keyPrefix("app:").defaults(fenced).build()) {
            Lease lease = lock.acquire("orders:42").block(Duration.ofSeconds(5));
            // the decision came at the quorum; the last node's grant follows right after
            await().atMost(Duration.ofSeconds(2)).until(() -> servers.keys("app:{orders:42}").stream()
                    .allMatch(keys -> keys.size() == 1));
            for (int i = 0; i < servers.size(); i++) {
                // the lock and its fencing counter share the hash tag {orders:42}: one Redis Cluster slot
                // (and the key space's maximum lease time record, see the restart guard)
                assertThat(servers.get(i).admin().keys("*"))
                        .containsOnly("app:{orders:42}", "app:{orders:42}:fence", "app:max-lease-ms");
                assertThat(servers.get(i).admin().get("app:{orders:42}")).isEqualTo(lease.token());
                assertThat(servers.get(i).admin().pttl("app:{orders:42}")).isBetween(1L, 30_000L);
            }
            assertThat(servers.keys("lock:{*")).allMatch(List::isEmpty);
            lease.release().block(Duration.ofSeconds(5));
            await().atMost(Duration.ofSeconds(2)).until(() -> servers.keys("app:{orders:42}").stream()
                    .allMatch(List::isEmpty));
        }
    }

    @Test
    void nothingHappensBeforeSubscription(@RedisNodes(1) RedisServers servers) {
        try (ReactiveRedLock lock = client(servers, LockOptions.defaults())) {
            Mono<Lease> acquire = lock.acquire("lazy");
            Mono<Boolean> locked = lock.isLocked("lazy");
            assertThat(lockKeys(servers)).isZero();
            Lease lease = acquire.block(Duration.ofSeconds(5));
            Mono<Void> release = lease.release();
            assertThat(locked.block(Duration.ofSeconds(5))).isTrue();
            assertThat(lockKeys(servers)).isEqualTo(1);
            release.block(Duration.ofSeconds(5));
            assertThat(lockKeys(servers)).isZero();
        }
    }

    /**
     * A key that exists without a TTL (written by something else, or left over): the acquire script used to report
     * it as "expires now", so a waiter retried every millisecond, about 700 attempts in one second. It must back off
     * as from any holder.
     */
    @Test
    void aWaiterOnAKeyWithoutTtlBacksOffInsteadOfSpinning(@RedisNodes(3) RedisServers servers) {
        LockOptions opts = LockOptions.builder().maxWait(Duration.ofSeconds(1)).build();
        try (ReactiveRedLock lock = client(servers, opts)) {
            lock.connect().block(Duration.ofSeconds(5));
            for (int i = 0; i < 3; i++) {
                servers.get(i).admin().set("lock:{foreign}", "not a lease");
            }
            LockAcquireTimeoutException e = (LockAcquireTimeoutException) org.assertj.core.api.Assertions
                    .catchThrowable(() -> lock.acquire("foreign").block(Duration.ofSeconds(5)));
            // the backoff (10-250 ms, equal jitter) allows a few dozen attempts in a second, at most
            assertThat(e.attempts()).as("attempts in 1 s").isBetween(2, 40);
            for (int i = 0; i < 3; i++) {
                assertThat(servers.get(i).admin().get("lock:{foreign}")).isEqualTo("not a lease");
            }
        }
    }
}
