package dev.redlock.bench;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One benchmark invocation of the throughput benchmarks: {@code size} operations issued by {@code slots.length}
 * concurrent workers, each worker on its own slot (its own key) doing one operation after another, the workers
 * taking operations from a shared count so the batch ends with all of them busy until the last few operations.
 * The calling (JMH) thread blocks until the batch completes; the operations run on the implementations' threads.
 */
final class Batch {

    /** Operations per invocation; divisible by every in-flight count used (1, 16, 64). */
    static final int SIZE = 1024;

    private static final Duration LIMIT = Duration.ofMinutes(2);

    private Batch() {}

    static void run(Slot[] slots, Function<Slot, Mono<?>> op) {
        run(slots, SIZE, op);
    }

    static void run(Slot[] slots, int size, Function<Slot, Mono<?>> op) {
        AtomicInteger remaining = new AtomicInteger(size);
        Flux.range(0, slots.length)
                .flatMap(w -> worker(slots[w], remaining, op), slots.length)
                .then()
                .block(LIMIT);
    }

    private static Mono<Void> worker(Slot slot, AtomicInteger remaining, Function<Slot, Mono<?>> op) {
        return Mono.defer(() -> remaining.getAndDecrement() > 0 ? op.apply(slot).thenReturn(Boolean.TRUE) : Mono.just(Boolean.FALSE))
                .repeat()
                .takeWhile(Boolean::booleanValue)
                .then();
    }
}
