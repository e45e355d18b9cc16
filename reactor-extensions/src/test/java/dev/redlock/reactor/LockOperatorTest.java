package dev.redlock.reactor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redlock.LockOptions;
import dev.redlock.QuorumUnavailableException;
import dev.redlock.ReactiveRedLock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The operator without a reachable node: its shape, its laziness, and that the upstream runs only under the lock. What
 * it does with a lock it holds (held while the upstream runs, the Mono's value after the release, released on cancel)
 * is in {@link LockOperatorIT}.
 */
class LockOperatorTest {

    // Nothing listens on port 1: every acquire fails (at once, with maxWait 0), so nothing can ever hold the lock.
    private final ReactiveRedLock lock = ReactiveRedLock.builder().nodes("redis://127.0.0.1:1").build();

    @AfterEach
    void close() {
        lock.close();
    }

    @Test
    void aMonoStaysAMonoAndEverythingElseBecomesAFlux() {
        assertThat(LockOperator.<Integer>of(lock, "k").apply(Mono.just(1))).isInstanceOf(Mono.class);
        assertThat(LockOperator.<Integer>of(lock, "k").apply(Flux.just(1, 2)))
                .isInstanceOf(Flux.class)
                .isNotInstanceOf(Mono.class);
        Publisher<Integer> plain = subscriber -> Flux.just(1, 2).subscribe(subscriber); // neither Mono nor Flux
        assertThat(LockOperator.<Integer>of(lock, "k").apply(plain)).isInstanceOf(Flux.class);
    }

    @Test
    void buildingTheOperatorSubscribesToNothing() {
        AtomicInteger subscribed = new AtomicInteger();
        Mono<Integer> mono = Mono.just(1).doOnSubscribe(s -> subscribed.incrementAndGet());
        Flux<Integer> flux = Flux.just(1, 2).doOnSubscribe(s -> subscribed.incrementAndGet());
        LockOperator.<Integer>of(lock, "k").apply(mono);
        LockOperator.<Integer>of(lock, "k").apply(flux);
        mono.transformDeferred(LockOperator.of(lock, "k"));
        assertThat(subscribed).hasValue(0);
        assertThat(lock.activeLeases()).isZero();
    }

    /**
     * The lock cannot be taken: the subscriber gets the acquire's error as the only signal, and the upstream is never
     * subscribed (an operator that ran it unlocked, or before the lease was held, would subscribe it).
     */
    @ParameterizedTest(name = "{0} upstream")
    @ValueSource(strings = {"Mono", "Flux", "Publisher"})
    void theUpstreamIsNotSubscribedWhenTheLockCannotBeTaken(String shape) {
        AtomicInteger subscribed = new AtomicInteger();
        Flux<Integer> source = Flux.just(1, 2).doOnSubscribe(s -> subscribed.incrementAndGet());
        Publisher<Integer> upstream = shape.equals("Mono") ? source.next()
                : shape.equals("Flux") ? source
                : subscriber -> source.subscribe(subscriber); // neither Mono nor Flux
        LockOptions noWait = LockOptions.defaults().mutate().maxWait(Duration.ZERO).build();

        StepVerifier.create(LockOperator.<Integer>of(lock, "k", noWait).apply(upstream))
                .expectError(QuorumUnavailableException.class)
                .verify(Duration.ofSeconds(10));
        assertThat(subscribed).as("upstream subscriptions").hasValue(0);
        assertThat(lock.activeLeases()).isZero();
    }

    @Test
    void rejectsBadArgumentsAtCallTime() {
        assertThatThrownBy(() -> LockOperator.of(null, "k")).hasMessageContaining("lock must not be null");
        assertThatThrownBy(() -> LockOperator.of(null, "k", LockOptions.defaults()))
                .hasMessageContaining("lock must not be null");
        assertThatThrownBy(() -> LockOperator.of(lock, " ")).hasMessageContaining("key must not be null or blank");
        assertThatThrownBy(() -> LockOperator.of(lock, null)).hasMessageContaining("key must not be null or blank");
        assertThatThrownBy(() -> LockOperator.of(lock, "k", (LockOptions) null)).hasMessageContaining("options");
    }
}
