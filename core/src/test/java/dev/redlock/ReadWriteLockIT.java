package dev.redlock;

import static dev.redlock.RedisFixtures.client;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.redlock.rw.LockMode;
import dev.redlock.rw.LockUpgradeException;
import dev.redlock.rw.RedReadWriteLock;
import dev.redlock.testkit.FaultProxies;
import dev.redlock.testkit.FaultProxy;
import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/** The read-write lock against real redis-server processes: sharing, exclusion, writer preference, nesting, hygiene. */
class ReadWriteLockIT {

    /** A node timeout far above a loaded machine's pauses: these tests are about modes, not slow nodes. */
    private static final LockOptions WAITING = LockOptions.builder()
            .leaseTime(Duration.ofSeconds(10))
            .maxWait(Duration.ofSeconds(20))
            .nodeTimeout(Duration.ofSeconds(1))
            .build();

    private static long keys(RedisServers servers) {
        return servers.keys("lock:{prices}:rw*").stream().mapToLong(List::size).sum();
    }

    /** Readers share; a writer excludes readers and writers; releases leave no key behind. */
    private void readersShareAndAWriterExcludes(RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers, WAITING)) {
            RedReadWriteLock prices = redlock.readWriteLock("prices");
            Lease r1 = prices.readLock().acquire().block(Duration.ofSeconds(5));
            Lease r2 = prices.readLock().tryAcquire().block(Duration.ofSeconds(5));
            assertThat(r2).as("a second reader shares").isNotNull();
            assertThat(prices.readLock().isLocked().block(Duration.ofSeconds(5))).isTrue();
            assertThat(prices.writeLock().isLocked().block(Duration.ofSeconds(5))).isFalse();
            assertThat(prices.writeLock().tryAcquire().blockOptional(Duration.ofSeconds(5))).as("readers hold").isEmpty();
            r1.release().block(Duration.ofSeconds(5));
            assertThat(prices.writeLock().tryAcquire().blockOptional(Duration.ofSeconds(5))).as("one reader holds")
                    .isEmpty();
            r2.release().block(Duration.ofSeconds(5));
            Lease w = prices.writeLock().tryAcquire().block(Duration.ofSeconds(5));
            assertThat(w).as("no reader left").isNotNull();
            assertThat(prices.writeLock().isLocked().block(Duration.ofSeconds(5))).isTrue();
            assertThat(prices.readLock().tryAcquire().blockOptional(Duration.ofSeconds(5))).isEmpty();
            assertThat(prices.writeLock().tryAcquire().blockOptional(Duration.ofSeconds(5))).isEmpty();
            w.release().block(Duration.ofSeconds(5));
            await().atMost(Duration.ofSeconds(3)).until(() -> keys(servers) == 0);
        }
    }

    @Test
    void readersShareAndAWriterExcludesOnOneNode(@RedisNodes(1) RedisServers servers) {
        readersShareAndAWriterExcludes(servers);
    }

    @Test
    void readersShareAndAWriterExcludesOnFiveNodes(@RedisNodes(5) RedisServers servers) {
        readersShareAndAWriterExcludes(servers);
    }

    /**
     * Writer preference: a waiting writer keeps new readers out, so it gets the lock once the reader that was there
     * when it came releases, and a waiting writer that is cancelled lets readers in again at once.
     */
    @Test
    void aWaitingWriterKeepsNewReadersOutAndItsCancelLetsThemIn(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers, WAITING)) {
            RedReadWriteLock prices = redlock.readWriteLock("prices");
            Lease reader = prices.readLock().acquire().block(Duration.ofSeconds(5));
            AtomicLong wrote = new AtomicLong();
            Disposable writer = prices.withWriteLockMono(lease -> Mono.fromRunnable(wrote::incrementAndGet)
                    .then(Mono.delay(Duration.ofMillis(200)))).subscribe();
            await().atMost(Duration.ofSeconds(5)).until(() -> claims(servers) >= 2);
            assertThat(prices.readLock().tryAcquire().blockOptional(Duration.ofSeconds(5)))
                    .as("a new reader behind a waiting writer").isEmpty();
            reader.release().block(Duration.ofSeconds(5));
            await().atMost(Duration.ofSeconds(5)).until(() -> wrote.get() == 1);
            writer.dispose();

            Lease second = prices.readLock().acquire().block(Duration.ofSeconds(5));
            Disposable cancelled = prices.writeLock().acquire().subscribe();
            await().atMost(Duration.ofSeconds(5)).until(() -> claims(servers) >= 2);
            cancelled.dispose();
            await().atMost(Duration.ofSeconds(3)).until(() -> claims(servers) == 0);
            Lease third = prices.readLock().tryAcquire().block(Duration.ofSeconds(5));
            assertThat(third).as("the cancelled writer's claims are gone").isNotNull();
            second.release().then(third.release()).block(Duration.ofSeconds(5));
            await().atMost(Duration.ofSeconds(3)).until(() -> keys(servers) == 0);
        }
    }

    /**
     * A reader and a writer of one client that start waiting together (the reader's refusal first) both get the lock
     * soon after the holder's release: no waiter stands behind another one's claim without renewing or taking back its
     * own (every waiter of these locks tries the nodes itself; in a shared local line the reader at its head would be
     * refused by the writer behind it until the writer's claim lapsed, 3 s).
     */
    @Test
    void aReaderAndAWriterOfOneClientWaitingTogetherBothProceedAfterTheRelease(@RedisNodes(5) RedisServers servers) {
        try (FaultProxies proxies = FaultProxies.inFrontOf(servers);
                ReactiveRedLock holder = client(servers, WAITING);
                ReactiveRedLock waiting = ReactiveRedLock.builder().nodes(proxies.uris().toArray(String[]::new))
                        .restartGuard(RestartGuard.RUN_ID).defaults(WAITING).build()) {
            waiting.connect().block(Duration.ofSeconds(5));
            Lease write = holder.readWriteLock("prices").writeLock().acquire().block(Duration.ofSeconds(5));
            // replies 60 ms late: the writer's first attempt starts 30 ms after the reader's, while that one is still
            // out, and is refused after it (closer together, the writer's refusal sometimes lands first)
            proxies.list().forEach(p -> p.latency(Duration.ofMillis(60), Duration.ZERO, FaultProxy.Direction.DOWNSTREAM));
            RedReadWriteLock prices = waiting.readWriteLock("prices");
            AtomicLong readAt = new AtomicLong();
            AtomicLong wroteAt = new AtomicLong();
            Disposable reader = prices.withReadLockMono(lease -> Mono.fromRunnable(() -> readAt.set(System.nanoTime())))
                    .subscribe();
            Disposable writer = Mono.delay(Duration.ofMillis(30))
                    .then(prices.withWriteLockMono(lease -> Mono.fromRunnable(() -> wroteAt.set(System.nanoTime()))))
                    .subscribe();
            await().atMost(Duration.ofSeconds(5)).until(() -> claims(servers) >= 5 + 3);
            long released = System.nanoTime();
            write.release().block(Duration.ofSeconds(5));
            await().atMost(Duration.ofSeconds(10)).until(() -> readAt.get() != 0 && wroteAt.get() != 0);
            assertThat(Duration.ofNanos(Math.max(readAt.get(), wroteAt.get()) - released))
                    .isLessThan(Duration.ofMillis(1500));
            reader.dispose();
            writer.dispose();
            await().atMost(Duration.ofSeconds(3)).until(() -> keys(servers) == 0);
        }
    }

    /** Claims of waiting requests on every node. */
    private static long claims(RedisServers servers) {
        return servers.list().stream()
                .mapToLong(s -> s.admin().hkeys("lock:{prices}:rw").stream().filter(f -> f.startsWith("w:")).count())
                .sum();
    }

    /**
     * Writer starvation: a reader starts every 40 ms and holds for 200 ms, so several readers hold at every instant
     * and the lock is never free of them; a writer on another client (so this client's local line plays no part)
     * still gets it within its bound: the readers there when it came, plus a release notification. Without the writer
     * preference it waits out its whole maxWait.
     */
    @Test
    void aWriterGetsTheLockWithinItsBoundUnderAContinuousStreamOfReaders(@RedisNodes(5) RedisServers servers) {
        try (ReactiveRedLock readers = client(servers, WAITING);
                ReactiveRedLock writers = client(servers, WAITING)) {
            RedReadWriteLock prices = readers.readWriteLock("prices");
            AtomicInteger reading = new AtomicInteger();
            AtomicInteger overlapsWithWriter = new AtomicInteger();
            AtomicInteger writing = new AtomicInteger();
            Disposable stream = Flux.interval(Duration.ofMillis(40))
                    .flatMap(i -> prices.withReadLockMono(lease -> Mono.fromRunnable(() -> {
                                reading.incrementAndGet();
                                if (writing.get() > 0) {
                                    overlapsWithWriter.incrementAndGet();
                                }
                            })
                            .then(Mono.delay(Duration.ofMillis(200)))
                            .doFinally(s -> reading.decrementAndGet())))
                    .subscribe();
            try {
                await().atMost(Duration.ofSeconds(5)).until(() -> reading.get() >= 3);
                LockOptions bounded = WAITING.mutate().maxWait(Duration.ofSeconds(3)).build();
                long start = System.nanoTime();
                StepVerifier.create(writers.readWriteLock("prices").writeLock().withOptions(bounded)
                                .withLockMono(lease -> Mono.fromCallable(() -> {
                                    writing.incrementAndGet();
                                    return reading.get();
                                }).delayElement(Duration.ofMillis(50)).doFinally(s -> writing.decrementAndGet())))
                        .expectNext(0)
                        .verifyComplete();
                Duration waited = Duration.ofNanos(System.nanoTime() - start);
                // bound: the readers there when the writer came (200 ms each) plus a release notification
                assertThat(waited).isLessThan(Duration.ofSeconds(2));
                await().atMost(Duration.ofSeconds(5)).until(() -> reading.get() >= 3);
            } finally {
                stream.dispose();
            }
            assertThat(overlapsWithWriter.get()).isZero();
        }
    }

    /** A read inside a write or a read runs under the outer lease; a write inside a read is refused at once. */
    @Test
    void nestedScopesReuseACoveringLeaseAndRefuseAnUpgrade(@RedisNodes(1) RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers, WAITING)) {
            RedReadWriteLock prices = redlock.readWriteLock("prices");
            String[] tokens = prices.withWriteLockMono(outer -> prices.withReadLockMono(inner ->
                            Mono.just(new String[] {outer.token(), inner.token()})))
                    .block(Duration.ofSeconds(5));
            assertThat(tokens[1]).isEqualTo(tokens[0]);
            String[] reads = prices.withReadLockMono(outer -> prices.withReadLockMono(inner ->
                            Mono.just(new String[] {outer.token(), inner.token()})))
                    .block(Duration.ofSeconds(5));
            assertThat(reads[1]).isEqualTo(reads[0]);
            StepVerifier.create(prices.withReadLockMono(outer -> prices.withWriteLockMono(inner -> Mono.just(1))))
                    .expectErrorSatisfies(e -> {
                        assertThat(e).isInstanceOf(LockUpgradeException.class);
                        LockUpgradeException upgrade = (LockUpgradeException) e;
                        assertThat(upgrade.held()).isEqualTo(LockMode.SHARED);
                        assertThat(upgrade.requested()).isEqualTo(LockMode.EXCLUSIVE);
                        assertThat(upgrade.key()).isEqualTo("prices");
                    })
                    .verify(Duration.ofSeconds(5));
            await().atMost(Duration.ofSeconds(3)).until(() -> keys(servers) == 0);
        }
    }

    /** The watchdog renews a write lease past its lease time; wiping the key cancels the body with the loss. */
    @Test
    void aWriteLeaseIsRenewedAndItsLossCancelsTheBody(@RedisNodes(3) RedisServers servers) {
        LockOptions shortLease = WAITING.mutate().leaseTime(Duration.ofMillis(600)).nodeTimeout(Duration.ofMillis(200))
                .build();
        try (ReactiveRedLock redlock = client(servers, shortLease)) {
            RedReadWriteLock prices = redlock.readWriteLock("prices");
            StepVerifier.create(prices.withWriteLockMono(lease -> Mono.delay(Duration.ofMillis(1500))
                            .then(prices.readLock().withOptions(WAITING.mutate().maxWait(Duration.ZERO).build())
                                    .tryAcquire().hasElement())))
                    .expectNext(false)
                    .verifyComplete();
            StepVerifier.create(prices.withWriteLock(lease -> Flux.interval(Duration.ofMillis(50))
                            .doOnNext(i -> {
                                if (i == 3) {
                                    Schedulers.boundedElastic().schedule(() ->
                                            servers.list().forEach(s -> s.admin().del("lock:{prices}:rw")));
                                }
                            })))
                    .thenConsumeWhile(i -> true)
                    .expectError(LeaseLostException.class)
                    .verify(Duration.ofSeconds(5));
        }
    }

    @Test
    void fencingIsRefusedAtCallTime(@RedisNodes(1) RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers, WAITING)) {
            assertThatThrownBy(() -> redlock.readWriteLock("prices").withOptions(WAITING.mutate().fencing(true).build()))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("fencing");
            assertThatThrownBy(() -> redlock.readWriteLock(" "))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("name");
        }
    }
}
