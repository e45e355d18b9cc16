package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * A body that ends after its lease's deadline fails the scope with {@link LeaseLostException}, even when the
 * client's scheduler is too busy to run the loss timer in time.
 */
class LateBodyTest {

    @Test
    void aBodyFinishingPastTheDeadlineIsALossEvenIfTheLossTimerHasNotRunYet() throws Exception {
        // An executor whose thread may block (unlike Reactor's own), so the test can keep it busy on purpose.
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
        Scheduler busy = Schedulers.fromExecutorService(executor);
        try {
            FakeCluster cluster = new FakeCluster(3, busy);
            ReactiveRedLock lock = cluster.builder()
                    .healthCheckInterval(Duration.ZERO)
                    .defaults(LockOptions.builder().leaseTime(Duration.ofMillis(500)).watchdog(false).build())
                    .build();
            CountDownLatch blocked = new CountDownLatch(1);
            Mono<String> scope = lock.withLockMono("k", lease -> {
                // from 100 ms to 1.1 s the client's scheduler runs nothing else: the loss timer (at ~0.5 s) waits
                executor.schedule(() -> {
                    blocked.countDown();
                    try {
                        Thread.sleep(1000); // the scenario: the client's scheduler stalls on purpose
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }, 100, TimeUnit.MILLISECONDS);
                return Mono.delay(Duration.ofMillis(600), Schedulers.parallel()).thenReturn("finished late");
            });
            StepVerifier.create(scope)
                    .expectErrorSatisfies(e -> assertThat(((LeaseLostException) e).reason())
                            .isEqualTo(LeaseLostException.Reason.EXPIRED))
                    .verify(Duration.ofSeconds(5));
            assertThat(blocked.await(0, TimeUnit.SECONDS)).isTrue();
        } finally {
            executor.shutdownNow();
        }
    }
}
