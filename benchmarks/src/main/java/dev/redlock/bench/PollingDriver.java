package dev.redlock.bench;

import java.time.Duration;
import reactor.core.publisher.Mono;

/**
 * What a naive lock service does: the raw {@code SET NX PX} attempt (on N nodes: the raw quorum attempt), and while
 * the lock is held, try again after a fixed 100 ms ({@code Mono.delay}, no thread sleeps), with no jitter and no
 * release notification. Release is the raw compare-and-delete.
 */
final class PollingDriver implements LockDriver {

    static final Duration POLL = Duration.ofMillis(100);

    private final RawLettuceDriver raw;

    PollingDriver(RawLettuceDriver raw) {
        this.raw = raw;
    }

    @Override
    public Mono<Object> acquire(Slot slot) {
        return raw.tryAcquire(slot.key)
                .repeatWhenEmpty(Integer.MAX_VALUE, attempts -> attempts.concatMap(i -> Mono.delay(POLL)))
                .cast(Object.class);
    }

    @Override
    public Mono<Void> release(Object held) {
        return raw.release(held);
    }

    @Override
    public void close() {
        raw.close();
    }
}
