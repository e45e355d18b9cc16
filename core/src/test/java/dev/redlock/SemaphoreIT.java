package dev.redlock;

import static dev.redlock.RedisFixtures.client;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.redlock.semaphore.PermitLease;
import dev.redlock.semaphore.PermitsMismatchException;
import dev.redlock.semaphore.RedSemaphore;
import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServer;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** The semaphore against real redis-server processes, on 1 and 5 nodes. */
class SemaphoreIT {

    private static final LockOptions WAITING = LockOptions.builder()
            .leaseTime(Duration.ofSeconds(5))
            .maxWait(Duration.ofSeconds(60))
            .build();

    /** Semaphore keys per node. */
    private static long semaphoreKeys(RedisServers servers) {
        return servers.keys("lock:{*}:permits").stream().mapToLong(List::size).sum();
    }

    /**
     * 32 contenders over 2 clients take 1 or 2 of P = 4 permits, many times: the permits in use (counted inside the
     * bodies, which run while the lease is held) never exceed P, and reach it (the semaphore is not a lock).
     */
    @ParameterizedTest(name = "{0} node(s)")
    @ValueSource(ints = {1, 5})
    void neverMoreThanPermitsHeld(int nodes) {
        try (RedisServers servers = RedisServers.start(nodes)) {
            int permits = 4;
            AtomicInteger inUse = new AtomicInteger();
            AtomicInteger peak = new AtomicInteger();
            AtomicInteger sections = new AtomicInteger();
            try (ReactiveRedLock a = client(servers, WAITING); ReactiveRedLock b = client(servers, WAITING)) {
                List<RedSemaphore> semaphores = List.of(a.semaphore("partner", permits), b.semaphore("partner", permits));
                Flux.range(0, 32)
                        .flatMap(worker -> Flux.range(0, 6).concatMap(i -> {
                            int n = 1 + ThreadLocalRandom.current().nextInt(2);
                            return semaphores.get(worker % 2).withPermitsMono(n, lease -> Mono.defer(() -> {
                                        peak.accumulateAndGet(inUse.addAndGet(n), Math::max);
                                        return Mono.delay(Duration.ofMillis(3));
                                    })
                                    // not doFinally: it runs after the completion went downstream, where the
                                    // release may already have let the next holder in
                                    .doOnTerminate(() -> inUse.addAndGet(-n))
                                    .doOnCancel(() -> inUse.addAndGet(-n))
                                    .doOnSuccess(x -> sections.incrementAndGet()));
                        }), 32)
                        .blockLast(Duration.ofMinutes(2));
                assertThat(sections.get()).isEqualTo(32 * 6);
                assertThat(peak.get()).as("permits in use at once").isLessThanOrEqualTo(permits).isGreaterThan(1);
                assertThat(a.activeLeases() + b.activeLeases()).isZero();
                assertThat(a.semaphore("partner", permits).availablePermits().block(Duration.ofSeconds(5)))
                        .isEqualTo(permits);
            }
        }
    }

    @ParameterizedTest(name = "{0} node(s)")
    @ValueSource(ints = {1, 5})
    void tryAcquireAndAvailablePermits(int nodes) {
        try (RedisServers servers = RedisServers.start(nodes);
                ReactiveRedLock redlock = client(servers, WAITING)) {
            RedSemaphore s = redlock.semaphore("pool", 3);
            assertThat(s.availablePermits().block()).isEqualTo(3);
            PermitLease two = s.tryAcquire(2).block(Duration.ofSeconds(5));
            assertThat(two).isNotNull();
            assertThat(two.permits()).isEqualTo(2);
            assertThat(two.key()).isEqualTo("pool");
            assertThat(two.grantedNodes()).isGreaterThanOrEqualTo(redlock.quorum());
            assertThat(s.availablePermits().block()).isEqualTo(1);
            assertThat(s.tryAcquire(2).blockOptional(Duration.ofSeconds(5))).as("only one permit left").isEmpty();
            PermitLease one = s.tryAcquire(1).block(Duration.ofSeconds(5));
            assertThat(one).isNotNull();
            assertThat(s.availablePermits().block()).isZero();
            assertThat(s.tryAcquire(1).blockOptional(Duration.ofSeconds(5))).isEmpty();
            two.release().block(Duration.ofSeconds(5));
            assertThat(s.availablePermits().block()).isEqualTo(2);
            assertThat(two.extend(Duration.ofSeconds(5)).onErrorResume(e -> Mono.empty()).block()).isNull();
            one.extend(Duration.ofSeconds(4)).block(Duration.ofSeconds(5));
            one.release().block(Duration.ofSeconds(5));
            assertThat(s.availablePermits().block()).isEqualTo(3);
        }
    }

    @Test
    void aReleaseWakesAWaiterBeforeItsBackoff(@RedisNodes(5) RedisServers servers) {
        // a backoff far longer than the test: only the release notification can wake the waiter in time
        LockOptions slowBackoff = WAITING.mutate().backoff(Backoff.constant(Duration.ofSeconds(30))).build();
        try (ReactiveRedLock holder = client(servers, WAITING); ReactiveRedLock waiter = client(servers, slowBackoff)) {
            PermitLease held = holder.semaphore("wake", 1).acquire(1).block(Duration.ofSeconds(5));
            Mono<PermitLease> waiting = waiter.semaphore("wake", 1).acquire(1).cache();
            Disposable started = waiting.subscribe();
            // the waiter listens on every node (notifications are best effort: one sent before that is not awaited)
            String channel = "lock:{wake}:permits:released";
            await().atMost(Duration.ofSeconds(10)).until(() -> java.util.stream.StreamSupport.stream(servers.spliterator(), false)
                    .allMatch(node -> node.admin().pubsubNumsub(channel).getOrDefault(channel, 0L) > 0));
            held.release().block(Duration.ofSeconds(5));
            long start = System.nanoTime();
            PermitLease got = waiting.block(Duration.ofSeconds(10));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
            got.release().block(Duration.ofSeconds(5));
            started.dispose();
        }
    }

    @Test
    void differentPermitCountsForOneNameAreAnError(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock a = client(servers, WAITING); ReactiveRedLock b = client(servers, WAITING)) {
            PermitLease held = a.semaphore("declared", 2).acquire(1).block(Duration.ofSeconds(5));
            assertThatThrownBy(() -> b.semaphore("declared", 5).acquire(1).block(Duration.ofSeconds(5)))
                    .isInstanceOf(PermitsMismatchException.class)
                    .hasMessageContaining("declared with 5 permits here, but the nodes hold it with 2")
                    .satisfies(e -> {
                        assertThat(((PermitsMismatchException) e).declared()).isEqualTo(5);
                        assertThat(((PermitsMismatchException) e).existing()).isEqualTo(2);
                    });
            assertThatThrownBy(() -> b.semaphore("declared", 5).tryAcquire(1).block(Duration.ofSeconds(5)))
                    .isInstanceOf(PermitsMismatchException.class);
            assertThatThrownBy(() -> b.semaphore("declared", 5).availablePermits().block(Duration.ofSeconds(5)))
                    .isInstanceOf(PermitsMismatchException.class);
            held.release().block(Duration.ofSeconds(5));
        }
    }

    /**
     * Fairness: client A's eight workers keep all of P = 4 permits busy with 1-permit requests; a request for all 4
     * from client B gets them within a few hold times. Without the reservation it waits until, by chance, all four
     * are free at once, which the stream of small requests never allows.
     */
    @ParameterizedTest(name = "{0} node(s)")
    @ValueSource(ints = {1, 5})
    void aLargeRequestIsNotStarvedBySmallOnes(int nodes) {
        try (RedisServers servers = RedisServers.start(nodes)) {
            try (ReactiveRedLock a = client(servers, WAITING); ReactiveRedLock b = client(servers, WAITING)) {
                RedSemaphore small = a.semaphore("fair", 4);
                AtomicInteger smallSections = new AtomicInteger();
                Disposable stream = Flux.range(0, 8)
                        .flatMap(w -> small.withPermits(1, Mono.delay(Duration.ofMillis(20)))
                                .doOnNext(x -> smallSections.incrementAndGet())
                                .repeat(), 8)
                        .subscribe();
                try {
                    await().atMost(Duration.ofSeconds(10)).until(() -> smallSections.get() > 20);
                    long start = System.nanoTime();
                    PermitLease all = b.semaphore("fair", 4).acquire(4).block(Duration.ofSeconds(30));
                    Duration waited = Duration.ofNanos(System.nanoTime() - start);
                    assertThat(all.permits()).isEqualTo(4);
                    int before = smallSections.get();
                    assertThat(waited).as("the 4-permit request's wait").isLessThan(Duration.ofSeconds(3));
                    all.release().block(Duration.ofSeconds(5));
                    await().atMost(Duration.ofSeconds(10)).until(() -> smallSections.get() > before + 10);
                } finally {
                    stream.dispose();
                }
            }
        }
    }

    /**
     * Two requests for all permits, from two clients, against a stream of small ones on 5 nodes: each node may have
     * taken a different one's reservation first; the waiter id breaks the tie the same way everywhere, so both are
     * served in turn instead of blocking each other (and everyone else) for as long as they keep trying.
     */
    @Test
    void twoLargeRequestsDoNotBlockEachOther(@RedisNodes(5) RedisServers servers) {
        try (ReactiveRedLock a = client(servers, WAITING); ReactiveRedLock b = client(servers, WAITING);
                ReactiveRedLock c = client(servers, WAITING)) {
            RedSemaphore small = a.semaphore("ties", 4);
            Disposable stream = Flux.range(0, 8)
                    .flatMap(w -> small.withPermits(1, Mono.delay(Duration.ofMillis(20))).repeat(), 8)
                    .subscribe();
            try {
                for (int round = 0; round < 5; round++) {
                    Mono<Long> first = b.semaphore("ties", 4).withPermits(4, Mono.delay(Duration.ofMillis(30)));
                    Mono<Long> second = c.semaphore("ties", 4).withPermits(4, Mono.delay(Duration.ofMillis(30)));
                    long start = System.nanoTime();
                    Mono.when(first, second).block(Duration.ofSeconds(30));
                    assertThat(Duration.ofNanos(System.nanoTime() - start)).as("round %d", round)
                            .isLessThan(Duration.ofSeconds(6));
                }
            } finally {
                stream.dispose();
            }
        }
    }

    /**
     * 1,000 acquires cancelled at random moments (while waiting, while the attempt is in flight, while the body runs)
     * leave no permit held: all P are free again at once (the cancels released what they were granted, without waiting
     * for the lease time), and the semaphore's keys are gone once the lease time has passed.
     */
    @Test
    void randomCancellationsLeaveNoPermitsAndNoKeys(@RedisNodes(5) RedisServers servers) {
        LockOptions shortLease = WAITING.mutate().leaseTime(Duration.ofSeconds(3)).build();
        try (ReactiveRedLock a = client(servers, shortLease); ReactiveRedLock b = client(servers, shortLease)) {
            List<RedSemaphore> semaphores = List.of(a.semaphore("cancel", 3), b.semaphore("cancel", 3));
            AtomicLong completed = new AtomicLong();
            Flux.range(0, 1000)
                    .flatMap(i -> semaphores.get(i % 2)
                            .withPermits(1 + i % 2, Mono.delay(Duration.ofMillis(ThreadLocalRandom.current().nextInt(3))))
                            .doOnNext(x -> completed.incrementAndGet())
                            .take(Duration.ofMillis(ThreadLocalRandom.current().nextInt(1, 40)), Schedulers.parallel())
                            .then(), 48)
                    .blockLast(Duration.ofMinutes(2));
            assertThat(completed.get()).as("some bodies ran to the end").isPositive();
            await().atMost(Duration.ofSeconds(2)).untilAsserted(() -> {
                assertThat(a.activeLeases() + b.activeLeases()).isZero();
                assertThat(semaphores.get(0).availablePermits().block(Duration.ofSeconds(5))).isEqualTo(3);
            });
        }
        await().atMost(Duration.ofSeconds(8)).untilAsserted(() -> assertThat(semaphoreKeys(servers)).isZero());
    }

    /** A permit nobody renews is lost at its deadline: {@code lost()} says so, and the permit is free again. */
    @Test
    void aLostPermitIsSignalledByItsDeadline(@RedisNodes(3) RedisServers servers) {
        LockOptions shortLease = WAITING.mutate().leaseTime(Duration.ofMillis(800)).build();
        try (ReactiveRedLock redlock = client(servers, shortLease)) {
            RedSemaphore s = redlock.semaphore("lost", 1);
            PermitLease lease = s.acquire(1).block(Duration.ofSeconds(5));
            LeaseLostException lost = lease.lost().block(Duration.ofSeconds(5));
            assertThat(lost).isNotNull();
            assertThat(lost.key()).isEqualTo("lost");
            assertThat(lease.isValid()).isFalse();
            // the node's deadline is later than the holder's (it counts from when the acquire arrived, the holder from
            // before it was sent, minus the drift): the slot frees within that margin after the loss is signalled
            await().atMost(Duration.ofMillis(500)).pollInterval(Duration.ofMillis(10))
                    .until(() -> s.tryAcquire(1).block(Duration.ofSeconds(5)) != null);
        }
    }

    /** The body of {@code withPermits} is cancelled and fails with the loss when its permits are taken away. */
    @Test
    void withPermitsFailsWhenThePermitsAreLost(@RedisNodes(3) RedisServers servers) {
        LockOptions watched = WAITING.mutate().leaseTime(Duration.ofSeconds(1)).build();
        try (ReactiveRedLock redlock = client(servers, watched)) {
            AtomicInteger cancelled = new AtomicInteger();
            // the body takes the permits away once it holds them (deleting the semaphore's keys on every node)
            Mono<Long> body = redlock.semaphore("taken", 2).withPermits(1, Mono.fromRunnable(() -> {
                        for (RedisServer server : servers) {
                            server.admin().del("lock:{taken}:permits");
                        }
                    })
                    .subscribeOn(Schedulers.boundedElastic())
                    .then(Mono.delay(Duration.ofSeconds(30)))
                    .doOnCancel(cancelled::incrementAndGet));
            assertThatThrownBy(() -> body.block(Duration.ofSeconds(10))).isInstanceOf(LeaseLostException.class);
            assertThat(cancelled.get()).isEqualTo(1);
        }
    }

    @Test
    void scopesReleaseOnErrorAndNestedScopesReuseThePermits(@RedisNodes(1) RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers, WAITING)) {
            RedSemaphore s = redlock.semaphore("scoped", 2);
            assertThatThrownBy(() -> s.withPermits(2, Mono.error(new IllegalStateException("boom"))).block())
                    .hasMessage("boom");
            assertThat(s.availablePermits().block()).isEqualTo(2);
            Integer inner = s.withPermitsMono(2, outer -> s.withPermitsMono(1, nested -> Mono.just(
                            nested.token().equals(outer.token()) ? 1 : 0)))
                    .block(Duration.ofSeconds(5));
            assertThat(inner).as("the nested scope runs under the outer lease").isEqualTo(1);
            assertThatThrownBy(() -> s.withPermitsMono(1, outer -> s.withPermits(2, Mono.just(1))).block())
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("asks for more permits than the enclosing scope holds (1)");
            assertThat(s.availablePermits().block()).isEqualTo(2);
        }
    }
}
