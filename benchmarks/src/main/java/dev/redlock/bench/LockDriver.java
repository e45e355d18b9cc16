package dev.redlock.bench;

import reactor.core.publisher.Mono;

/**
 * One lock implementation as the benchmarks drive it: acquire a slot's key (waiting while it is held), release what
 * was acquired. Every implementation gets the same harness, so harness costs cancel out in the ratios.
 */
interface LockDriver extends AutoCloseable {

    /** Caches per-key objects in the slot; called in setup, never measured. */
    default void prepare(Slot slot) {}

    /** Completes with a holder object once the lock is held; waits (without blocking) while it is held elsewhere. */
    Mono<Object> acquire(Slot slot);

    /** Releases what {@link #acquire} emitted. */
    Mono<Void> release(Object held);

    /** One uncontended acquire + release. */
    default Mono<Void> cycle(Slot slot) {
        return acquire(slot).flatMap(this::release);
    }

    @Override
    void close();
}
