package dev.redlock.reactor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redlock.LockOptions;
import dev.redlock.ReactiveRedLock;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Operator shape and laziness; behaviour against Redis is in {@link LockOperatorIT}. */
class LockOperatorTest {

    // Nothing listens on port 1: any I/O before subscription would show up as an error here.
    private final ReactiveRedLock lock = ReactiveRedLock.builder().nodes("redis://127.0.0.1:1").build();

    @Test
    void keepsMonoAsMonoAndFluxAsFluxWithoutSubscribing() {
        assertThat(Mono.just(1).transformDeferred(LockOperator.of(lock, "k"))).isInstanceOf(Mono.class);
        assertThat(LockOperator.<Integer>of(lock, "k").apply(Mono.just(1))).isInstanceOf(Mono.class);
        assertThat(LockOperator.<Integer>of(lock, "k").apply(Flux.just(1, 2))).isInstanceOf(Flux.class);
        assertThat(lock.activeLeases()).isZero();
        lock.close();
    }

    @Test
    void rejectsBadArgumentsAtCallTime() {
        assertThatThrownBy(() -> LockOperator.of(null, "k")).hasMessageContaining("lock must not be null");
        assertThatThrownBy(() -> LockOperator.of(lock, " ")).hasMessageContaining("key must not be null or blank");
        assertThatThrownBy(() -> LockOperator.of(lock, "k", (LockOptions) null)).hasMessageContaining("options");
        lock.close();
    }
}
