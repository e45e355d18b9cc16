package dev.redlock.reactor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redlock.LockOptions;
import dev.redlock.ReactiveRedLock;
import dev.redlock.RestartGuard;
import dev.redlock.semaphore.RedSemaphore;
import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class PermitOperatorIT {

    private static ReactiveRedLock client(RedisServers servers) {
        return ReactiveRedLock.builder()
                .nodes(servers.uris().toArray(String[]::new))
                // the test kit started the nodes moments ago: no lease can exist that they could have forgotten
                .restartGuard(RestartGuard.RUN_ID)
                .defaults(LockOptions.builder().maxWait(Duration.ofSeconds(30)).build())
                .build();
    }

    @Test
    void holdsThePermitsWhileTheUpstreamRunsAndReleasesAfter(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers)) {
            RedSemaphore partner = redlock.semaphore("partner", 3);
            Flux<Integer> freeDuring = Flux.range(0, 2)
                    .concatMap(i -> partner.availablePermits())
                    .transformDeferred(PermitOperator.of(partner, 2));
            StepVerifier.create(freeDuring).expectNext(1, 1).verifyComplete();
            assertThat(partner.availablePermits().block(Duration.ofSeconds(5))).isEqualTo(3);
        }
    }

    @Test
    void limitsConcurrentSubscribersToThePermits(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers)) {
            RedSemaphore partner = redlock.semaphore("partner", 3);
            AtomicInteger inside = new AtomicInteger();
            AtomicInteger peak = new AtomicInteger();
            Mono<Integer> call = Mono.fromCallable(() -> {
                        int now = inside.incrementAndGet();
                        peak.accumulateAndGet(now, Math::max);
                        return now;
                    })
                    .delayElement(Duration.ofMillis(5))
                    .doOnNext(x -> inside.decrementAndGet());
            Flux.range(0, 40)
                    .flatMap(i -> call.transformDeferred(PermitOperator.of(partner, 1)), 40)
                    .blockLast(Duration.ofSeconds(60));
            assertThat(peak.get()).isLessThanOrEqualTo(3).isGreaterThan(1);
        }
    }

    @Test
    void aCancelledSubscriberGivesItsPermitsBack(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers)) {
            RedSemaphore partner = redlock.semaphore("partner", 2);
            Disposable running = Mono.never().transformDeferred(PermitOperator.of(partner, 2)).subscribe();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> partner.availablePermits().block(Duration.ofSeconds(5)) == 0);
            running.dispose();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(2))
                    .until(() -> partner.availablePermits().block(Duration.ofSeconds(5)) == 2);
        }
    }

    @Test
    void badArgumentsFailAtCallTime(@RedisNodes(1) RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers)) {
            assertThatThrownBy(() -> PermitOperator.of(null, 1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("semaphore must not be null");
            assertThatThrownBy(() -> PermitOperator.of(redlock.semaphore("s", 2), 3))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("between 1 and the semaphore's permits (2), got 3");
        }
    }
}
