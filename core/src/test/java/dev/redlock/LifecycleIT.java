package dev.redlock;

import static dev.redlock.RedisFixtures.lockKeyList;
import static dev.redlock.RedisFixtures.lockKeys;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * No lease outlives its subscriber or its client, on real nodes: cancellations timed around the moment a lease is
 * handed over, {@code close()} in the middle of traffic, and a slow {@code events()} subscriber.
 */
class LifecycleIT {

    private static final LockOptions LONG_LEASE = LockOptions.builder()
            .leaseTime(Duration.ofSeconds(30))
            .maxWait(Duration.ofSeconds(5))
            .build();

    /** The median time from subscription to lease of an uncontended acquire + release on this machine, in µs. */
    /**
     * The median acquire time under the test's own load: batches of 100 concurrent acquires on 50 keys (two per key,
     * so half of them wait for a hand-over), each released at once. Measured one at a time instead, the median is a
     * fraction of what a batch takes, and the cancels would all land before any lease is delivered.
     */
    private static long medianAcquireMicros(ReactiveRedLock lock) {
        List<Long> micros = Flux.range(0, 300)
                .groupBy(i -> i / 100)
                .concatMap(batch -> batch.flatMap(i -> Mono.defer(() -> {
                    long start = System.nanoTime();
                    return lock.acquire("probe-" + (i % 50)).flatMap(lease -> {
                        long took = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start);
                        return lease.release().thenReturn(took);
                    });
                }), 100))
                .sort()
                .collectList()
                .block(Duration.ofSeconds(30));
        return Math.max(50, micros.get(micros.size() / 2));
    }

    /**
     * 2,000 subscriptions, each cancelled at a random moment between a tenth of and twice the median acquire time:
     * many cancels land while the lease is being handed over. Half go through {@code withLock}, half through the
     * manual {@code acquire} in {@code Mono.usingWhen} (what its Javadoc prescribes for cancel safety: a terminal
     * subscriber disposed in the instant of delivery drops the value where no library sees it). Whatever the
     * subscriber got, it releases; whatever it did not get must be released by the library.
     */
    @Test
    void cancellationsAroundTheHandOverLeaveNoLeaseBehind(@RedisNodes(5) RedisServers servers) {
        try (ReactiveRedLock lock = RedisFixtures.client(servers, LONG_LEASE)) {
            long median = medianAcquireMicros(lock);
            AtomicInteger delivered = new AtomicInteger();
            List<Disposable> subscriptions = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                String key = "key-" + (i % 50);
                Disposable d = i % 2 == 0
                        ? Mono.usingWhen(lock.acquire(key),
                                        lease -> Mono.fromRunnable(delivered::incrementAndGet),
                                        Lease::release)
                                .subscribe(x -> {}, e -> {})
                        : lock.withLock(key, Mono.delay(Duration.ofMillis(1)).doOnNext(x -> delivered.incrementAndGet()))
                                .subscribe(x -> {}, e -> {});
                subscriptions.add(d);
                long cancelAfter = ThreadLocalRandom.current().nextLong(median / 10, 2 * median);
                Schedulers.parallel().schedule(d::dispose, cancelAfter, TimeUnit.MICROSECONDS);
                if (i % 100 == 99) {
                    // let each batch settle, so most acquires find their key free and are cancelled near the end
                    await().atMost(Duration.ofSeconds(10)).until(() -> subscriptions.stream().allMatch(Disposable::isDisposed));
                }
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> subscriptions.stream().allMatch(Disposable::isDisposed));
            // released on every node long before the 30 s lease could have expired them
            await().atMost(Duration.ofSeconds(3)).untilAsserted(() -> assertThat(lockKeyList(servers)).allMatch(List::isEmpty));
            await().atMost(Duration.ofSeconds(3)).until(() -> lock.activeLeases() == 0);
            assertThat(delivered.get()).as("some subscribers got their lease before the cancel").isPositive();
        }
    }

    /** Workers keep 30 s leases busy on 4 keys; close() in the middle leaves no key on any node when it completes. */
    @Test
    void closeDuringTrafficLeavesNoKeyBehindWhenItCompletes(@RedisNodes(5) RedisServers servers) {
        ReactiveRedLock lock = RedisFixtures.client(servers, LONG_LEASE);
        lock.connect().block(Duration.ofSeconds(5));
        AtomicInteger sections = new AtomicInteger();
        AtomicInteger closedErrors = new AtomicInteger();
        AtomicInteger otherErrors = new AtomicInteger();
        List<Disposable> workers = new ArrayList<>();
        for (int w = 0; w < 16; w++) {
            String key = "busy-" + (w % 4);
            workers.add(Flux.defer(() -> lock.withLock(key, Mono.delay(Duration.ofMillis(2)).doOnNext(x -> sections.incrementAndGet())))
                    .repeat()
                    .subscribe(x -> {}, e -> {
                        if (e instanceof ClientClosedException
                                || (e instanceof LeaseLostException
                                        && ((LeaseLostException) e).reason() == LeaseLostException.Reason.CLIENT_CLOSED)) {
                            closedErrors.incrementAndGet();
                        } else {
                            otherErrors.incrementAndGet();
                        }
                    }));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> sections.get() > 200);
        lock.closeAsync().block(Duration.ofSeconds(10));
        // no await: close() completing means every release was answered
        assertThat(lockKeys(servers)).as("lock keys left once close() completed").isZero();
        await().atMost(Duration.ofSeconds(5)).until(() -> workers.stream().allMatch(Disposable::isDisposed));
        assertThat(closedErrors.get()).as("workers ended by the close with a typed error").isEqualTo(16);
        assertThat(otherErrors.get()).isZero();
        assertThat(lock.activeLeases()).isZero();
    }

    /**
     * A subscriber that spins in {@code onNext} (it does not block, so BlockHound would not see it) must not hold up
     * lock traffic: 50 lock cycles complete while it is still stuck in its first event.
     */
    @Test
    void aSlowEventsSubscriberDoesNotHoldUpLocks(@RedisNodes(3) RedisServers servers) throws Exception {
        try (ReactiveRedLock lock = RedisFixtures.client(servers, LONG_LEASE)) {
            lock.connect().block(Duration.ofSeconds(5));
            AtomicBoolean letGo = new AtomicBoolean();
            CountDownLatch inside = new CountDownLatch(1);
            AtomicInteger seen = new AtomicInteger();
            Disposable slow = lock.events().subscribe(e -> {
                seen.incrementAndGet();
                inside.countDown();
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (!letGo.get() && System.nanoTime() - until < 0) {
                    Thread.onSpinWait();
                }
            });
            try {
                Flux.range(0, 50)
                        .concatMap(i -> lock.acquire("cycle").flatMap(Lease::release))
                        .blockLast(Duration.ofSeconds(10));
                assertThat(inside.await(0, TimeUnit.SECONDS)).as("the subscriber got its first event").isTrue();
                assertThat(seen.get()).as("still inside its first event").isEqualTo(1);
            } finally {
                letGo.set(true);
                slow.dispose();
            }
        }
    }
}
