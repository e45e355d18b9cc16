package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.metrics.LockMetricsRecorder;
import dev.redlock.metrics.LockMetricsRecorder.AcquireOutcome;
import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/** What {@code events()} subscribers and a {@link LockMetricsRecorder} see, and that neither can slow or fail a lock. */
class EventsAndMetricsIT {

    private static final int CYCLES = 600;

    private static final LockOptions OPTIONS = LockOptions.builder()
            .leaseTime(Duration.ofSeconds(10))
            .maxWait(Duration.ofSeconds(5))
            .build();

    /**
     * An {@code events()} subscriber that stops dead on its first event (it waits on a latch on its own delivery
     * thread) must not delay a single lock operation: hundreds of lock cycles finish while it is stuck, and once it
     * wakes it has missed what overflowed its buffer instead of having held anybody up.
     */
    @Test
    void aSubscriberThatBlocksDelaysOnlyItself(@RedisNodes(3) RedisServers servers) throws Exception {
        Scheduler delivery = Schedulers.newBoundedElastic(2, 1_000, "events-test");
        CountDownLatch unblock = new CountDownLatch(1);
        CountDownLatch firstEvent = new CountDownLatch(1);
        List<LockEvent> received = new CopyOnWriteArrayList<>();
        try (ReactiveRedLock redlock = RedisFixtures.builder(servers).eventScheduler(delivery).defaults(OPTIONS).build()) {
            Disposable subscription = redlock.events().subscribe(event -> {
                received.add(event);
                firstEvent.countDown();
                awaitQuietly(unblock);
            });
            RedLock lock = redlock.lock("events:blocked");
            StepVerifier.create(Flux.range(0, CYCLES).concatMap(i -> lock.withLockMono(lease -> Mono.just(i))))
                    .expectNextCount(CYCLES)
                    .expectComplete()
                    .verify(Duration.ofSeconds(60));
            assertThat(firstEvent.await(5, TimeUnit.SECONDS)).as("the subscriber got its first event").isTrue();
            assertThat(received).as("the subscriber is still stuck on its first event").hasSize(1);

            unblock.countDown();
            // each cycle emits ACQUIRED and RELEASED: more than the subscriber's buffer holds
            Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> received.size() > 1);
            subscription.dispose();
            assertThat(received.size()).as("events delivered after it woke, the rest missed")
                    .isGreaterThan(1).isLessThan(2 * CYCLES);
        } finally {
            delivery.dispose();
        }
    }

    /** The recorder sees every acquire's outcome and every release; one that throws changes no lock's result. */
    @Test
    void theRecorderSeesOutcomesAndCannotFailALock(@RedisNodes(3) RedisServers servers) {
        Map<AcquireOutcome, AtomicInteger> outcomes = new ConcurrentHashMap<>();
        AtomicInteger acquired = new AtomicInteger();
        AtomicInteger releasedConfirmed = new AtomicInteger();
        AtomicInteger throwing = new AtomicInteger();
        LockMetricsRecorder recorder = new LockMetricsRecorder() {
            @Override
            public void acquireEnded(String name, AcquireOutcome outcome, Duration waited) {
                outcomes.computeIfAbsent(outcome, o -> new AtomicInteger()).incrementAndGet();
                assertThat(waited.isNegative()).isFalse();
                throwing.incrementAndGet();
                throw new IllegalStateException("a broken recorder");
            }

            @Override
            public void leaseAcquired(String name, Duration validity) {
                assertThat(validity).isPositive().isLessThanOrEqualTo(OPTIONS.leaseTime());
                acquired.incrementAndGet();
            }

            @Override
            public void leaseReleased(String name, Duration held, boolean confirmed) {
                if (confirmed) {
                    releasedConfirmed.incrementAndGet();
                }
                throw new IllegalStateException("a broken recorder");
            }
        };
        try (ReactiveRedLock redlock = RedisFixtures.builder(servers).metricsRecorder(recorder).defaults(OPTIONS).build()) {
            RedLock lock = redlock.lock("metrics:k");
            StepVerifier.create(Flux.range(0, 20).concatMap(i -> lock.withLockMono(lease -> Mono.just(i))))
                    .expectNextCount(20)
                    .verifyComplete();

            // held by a lease taken here, a second acquire with no wait times out
            Lease held = lock.acquire().block(Duration.ofSeconds(5));
            StepVerifier.create(lock.tryAcquire()).verifyComplete();
            StepVerifier.create(lock.withOptions(LockOptions.builder().maxWait(Duration.ofMillis(200)).build()).acquire())
                    .expectError(LockAcquireTimeoutException.class)
                    .verify(Duration.ofSeconds(5));
            StepVerifier.create(held.release()).verifyComplete();
        }
        assertThat(outcomes.get(AcquireOutcome.ACQUIRED)).as("acquired").hasValue(21);
        assertThat(outcomes.get(AcquireOutcome.TIMED_OUT)).as("timed out").hasValueGreaterThanOrEqualTo(1);
        assertThat(acquired).hasValue(21);
        assertThat(releasedConfirmed).hasValue(21);
        assertThat(throwing.get()).isGreaterThanOrEqualTo(23);
    }

    /** The health checks read each node's memory figures from INFO memory; a limit set on a node shows. */
    @Test
    void healthChecksReadEachNodesMemory(@RedisNodes(3) RedisServers servers) {
        servers.get(1).admin().configSet("maxmemory", "100mb");
        try (ReactiveRedLock redlock = RedisFixtures.builder(servers).healthCheckInterval(Duration.ofMillis(100))
                .defaults(OPTIONS).build()) {
            StepVerifier.create(redlock.lock("memory:k").withLockMono(lease -> Mono.just(1))).expectNext(1)
                    .verifyComplete();
            Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(redlock.nodeStatus())
                    .allSatisfy(status -> assertThat(status.usedMemory().orElse(0)).isPositive()));
            assertThat(redlock.nodeStatus().get(1).maxMemory()).hasValue(100L * 1024 * 1024);
            assertThat(redlock.nodeStatus().get(0).maxMemory()).hasValue(0);
        } finally {
            servers.get(1).admin().configSet("maxmemory", "0");
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
