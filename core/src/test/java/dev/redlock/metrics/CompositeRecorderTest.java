package dev.redlock.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class CompositeRecorderTest {

    /** Records the calls it gets; throws on each when told to. */
    private static final class Recording implements LockMetricsRecorder {
        final String id;
        final List<String> calls;
        final boolean throwing;

        Recording(String id, List<String> calls, boolean throwing) {
            this.id = id;
            this.calls = calls;
            this.throwing = throwing;
        }

        @Override
        public void leaseAcquired(String name, Duration validity) {
            calls.add(id + ":acquired:" + name);
            if (throwing) {
                throw new IllegalStateException(id + " broke");
            }
        }

        @Override
        public <T> Mono<T> observeAcquire(String name, Mono<T> acquire) {
            return acquire.doFirst(() -> calls.add(id + ":observe"));
        }

        @Override
        public <T> Flux<T> observeHold(String name, Flux<T> body) {
            return body.doFirst(() -> calls.add(id + ":hold"));
        }
    }

    @Test
    void everyRecorderGetsTheCallAndTheFirstErrorComesAfterAll() {
        List<String> calls = new ArrayList<>();
        LockMetricsRecorder composite = LockMetricsRecorder.composite(
                new Recording("a", calls, true), new Recording("b", calls, true), new Recording("c", calls, false));
        assertThatThrownBy(() -> composite.leaseAcquired("k", Duration.ofSeconds(1)))
                .isInstanceOf(IllegalStateException.class).hasMessage("a broke");
        assertThat(calls).containsExactly("a:acquired:k", "b:acquired:k", "c:acquired:k");
    }

    @Test
    void observationsNestWithTheFirstRecorderOutermost() {
        List<String> calls = new ArrayList<>();
        LockMetricsRecorder composite = LockMetricsRecorder.composite(
                new Recording("a", calls, false), new Recording("b", calls, false));
        StepVerifier.create(composite.observeAcquire("k", Mono.just(1))).expectNext(1).verifyComplete();
        StepVerifier.create(composite.observeHold("k", Flux.just(1, 2))).expectNext(1, 2).verifyComplete();
        assertThat(calls).containsExactly("a:observe", "b:observe", "a:hold", "b:hold");
    }

    @Test
    void noRecordersOrANullOneIsRefused() {
        assertThatThrownBy(LockMetricsRecorder::composite).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one");
        assertThatThrownBy(() -> LockMetricsRecorder.composite(LockMetricsRecorder.NOOP, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("recorders[1]");
        assertThat(LockMetricsRecorder.composite(LockMetricsRecorder.NOOP)).isSameAs(LockMetricsRecorder.NOOP);
    }
}
