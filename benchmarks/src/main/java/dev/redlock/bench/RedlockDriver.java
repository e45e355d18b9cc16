package dev.redlock.bench;

import dev.redlock.Lease;
import dev.redlock.LockOptions;
import dev.redlock.ReactiveRedLock;
import dev.redlock.RestartGuard;
import dev.redlock.fair.RedFairLock;
import java.time.Duration;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * This library: one {@link ReactiveRedLock} client for all workers, connected in setup; the plain lock
 * ({@code acquire(key)}), or with {@code fair} its fair lock ({@code fairLock(key).acquire()}, the handle made in
 * setup).
 */
final class RedlockDriver implements LockDriver {

    final ReactiveRedLock client;
    private final boolean fair;

    RedlockDriver(List<String> uris, LockOptions options) {
        this(uris, options, false);
    }

    RedlockDriver(List<String> uris, LockOptions options, boolean fair) {
        this.fair = fair;
        this.client = ReactiveRedLock.builder()
                .nodes(uris.toArray(String[]::new))
                // every trial starts its own nodes (Env): no lease can exist that they could have forgotten
                .restartGuard(RestartGuard.RUN_ID)
                .defaults(options)
                .build();
        client.connect().block(Duration.ofSeconds(10));
    }

    @Override
    public void prepare(Slot slot) {
        if (fair) {
            slot.handle = client.fairLock(slot.key);
        }
    }

    @Override
    public Mono<Object> acquire(Slot slot) {
        return (fair ? ((RedFairLock) slot.handle).acquire() : client.acquire(slot.key)).cast(Object.class);
    }

    @Override
    public Mono<Void> release(Object held) {
        return ((Lease) held).release();
    }

    @Override
    public Mono<Void> cycle(Slot slot) {
        return (fair ? ((RedFairLock) slot.handle).acquire() : client.acquire(slot.key)).flatMap(Lease::release);
    }

    @Override
    public void close() {
        client.close();
    }
}
