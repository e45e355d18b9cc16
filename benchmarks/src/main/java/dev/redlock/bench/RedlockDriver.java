package dev.redlock.bench;

import dev.redlock.Lease;
import dev.redlock.LockOptions;
import dev.redlock.ReactiveRedLock;
import dev.redlock.RestartGuard;
import java.time.Duration;
import java.util.List;
import reactor.core.publisher.Mono;

/** This library: one {@link ReactiveRedLock} client for all workers, connected in setup. */
final class RedlockDriver implements LockDriver {

    final ReactiveRedLock client;

    RedlockDriver(List<String> uris, LockOptions options) {
        this.client = ReactiveRedLock.builder()
                .nodes(uris.toArray(String[]::new))
                // every trial starts its own nodes (Env): no lease can exist that they could have forgotten
                .restartGuard(RestartGuard.RUN_ID)
                .defaults(options)
                .build();
        client.connect().block(Duration.ofSeconds(10));
    }

    @Override
    public Mono<Object> acquire(Slot slot) {
        return client.acquire(slot.key).cast(Object.class);
    }

    @Override
    public Mono<Void> release(Object held) {
        return ((Lease) held).release();
    }

    @Override
    public Mono<Void> cycle(Slot slot) {
        return client.acquire(slot.key).flatMap(Lease::release);
    }

    @Override
    public void close() {
        client.close();
    }
}
