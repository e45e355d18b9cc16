package dev.redlock.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.LockOptions;
import dev.redlock.ReactiveRedLock;
import dev.redlock.RestartGuard;
import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class LockOperatorIT {

    private static ReactiveRedLock lock(RedisServers servers) {
        return ReactiveRedLock.builder()
                .nodes(servers.uris().toArray(String[]::new))
                // the test kit started the nodes moments ago: no lease can exist that they could have forgotten
                .restartGuard(RestartGuard.RUN_ID)
                .defaults(LockOptions.builder().maxWait(Duration.ofSeconds(30)).build())
                .build();
    }

    @Test
    void holdsTheLockWhileTheUpstreamRunsAndReleasesAfter(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock lock = lock(servers)) {
            Flux<Boolean> lockedDuring = Flux.range(0, 3)
                    .concatMap(i -> lock.isLocked("k"))
                    .transformDeferred(LockOperator.of(lock, "k"));
            StepVerifier.create(lockedDuring).expectNext(true, true, true).verifyComplete();
            assertThat(lock.isLocked("k").block(Duration.ofSeconds(5))).isFalse();
        }
    }

    @Test
    void serializesConcurrentSubscribers(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock lock = lock(servers)) {
            AtomicInteger inside = new AtomicInteger();
            AtomicInteger maxInside = new AtomicInteger();
            Mono<Integer> section = Mono.fromCallable(() -> {
                        int now = inside.incrementAndGet();
                        maxInside.accumulateAndGet(now, Math::max);
                        return now;
                    })
                    .delayElement(Duration.ofMillis(5))
                    .doOnNext(x -> inside.decrementAndGet())
                    .transformDeferred(LockOperator.of(lock, "k"));
            List<Integer> results = Flux.range(0, 20).flatMap(i -> section).collectList().block(Duration.ofSeconds(30));
            assertThat(results).hasSize(20);
            assertThat(maxInside.get()).isEqualTo(1);
        }
    }
}
