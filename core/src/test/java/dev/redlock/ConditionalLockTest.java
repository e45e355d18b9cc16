package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redlock.internal.lock.LockClient;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/** withLockIf / withLockMonoIf: arguments, laziness and nesting, in virtual time over in-memory nodes. */
class ConditionalLockTest {

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final FakeCluster cluster = new FakeCluster(3, vts);
    private final LockClient redlock = cluster.client(LockOptions.builder()
            .leaseTime(Duration.ofSeconds(10))
            .maxWait(Duration.ofSeconds(1))
            .build());

    @Test
    void nullArgumentsFailAtCallTimeNamingTheArgument() {
        RedLock lock = redlock.lock("k");
        assertThatThrownBy(() -> lock.withLockIf(null, lease -> Flux.empty()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("condition");
        assertThatThrownBy(() -> lock.withLockIf(Mono.just(true), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("body");
        assertThatThrownBy(() -> lock.withLockMonoIf(null, lease -> Mono.empty()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("condition");
        assertThatThrownBy(() -> lock.withLockMonoIf(Mono.just(true), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("body");
    }

    @Test
    void nothingIsSubscribedOrSentBeforeTheReturnedPublisherIs() {
        AtomicInteger asked = new AtomicInteger();
        Mono<Boolean> condition = Mono.fromSupplier(() -> {
            asked.incrementAndGet();
            return true;
        });
        RedLock lock = redlock.lock("k");
        Flux<String> flux = lock.withLockIf(condition, lease -> Flux.just("a"));
        Mono<String> mono = lock.withLockMonoIf(condition, lease -> Mono.just("b"));
        vts.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(asked).hasValue(0);
        assertThat(cluster.commands()).isZero();

        StepVerifier.withVirtualTime(() -> flux.concatWith(mono), () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofSeconds(1))
                .expectNext("a", "b")
                .verifyComplete();
        assertThat(asked).as("two subscriptions per scope").hasValue(4);
        assertThat(cluster.liveLockKeys()).isZero();
    }

    @Test
    void aNestedScopeWhoseConditionFailsLeavesTheOuterLeaseHeld() {
        RedLock lock = redlock.lock("k");
        AtomicInteger asked = new AtomicInteger();
        Mono<Boolean> trueThenFalse = Mono.fromSupplier(() -> asked.getAndIncrement() == 0);

        StepVerifier.withVirtualTime(() -> lock.withLockMono(outer -> lock
                                .withLockMonoIf(trueThenFalse, inner -> Mono.just("inner ran"))
                                .onErrorResume(ConditionNotMetException.class,
                                        e -> Mono.just(e.stage() + ", outer valid: " + outer.isValid()))),
                        () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofSeconds(1))
                .expectNext("AFTER_ACQUIRE, outer valid: true")
                .verifyComplete();
        assertThat(cluster.liveLockKeys()).isZero();
    }
}
