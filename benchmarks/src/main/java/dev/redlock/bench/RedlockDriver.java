package dev.redlock.bench;

import dev.redlock.Lease;
import dev.redlock.LockOptions;
import dev.redlock.ReactiveRedLock;
import dev.redlock.RedLock;
import dev.redlock.RestartGuard;
import dev.redlock.fair.RedFairLock;
import dev.redlock.metrics.LockMetricsRecorder;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * This library: one {@link ReactiveRedLock} client for all workers, connected in setup, taking one of its locks
 * ({@link Kind}); the handles are made in setup ({@link #prepare}).
 */
final class RedlockDriver implements LockDriver {

    /** Which of the library's locks a slot takes. */
    enum Kind {
        /** The plain lock, {@code acquire(key)}. */
        PLAIN,
        /** The fair lock, {@code fairLock(key).acquire()}. */
        FAIR,
        /** The read side of the read-write lock, {@code readWriteLock(key).readLock().acquire()}. */
        READ,
        /** The write side of the read-write lock, {@code readWriteLock(key).writeLock().acquire()}. */
        WRITE,
        /** The multi-key lock on the slot's keys, {@code multiLock(keys).acquire()}. */
        MULTI
    }

    final ReactiveRedLock client;
    private final Kind kind;

    RedlockDriver(List<String> uris, LockOptions options) {
        this(uris, options, Kind.PLAIN);
    }

    RedlockDriver(List<String> uris, LockOptions options, Kind kind) {
        this(uris, options, kind, LockMetricsRecorder.NOOP);
    }

    /** With {@code recorder} installed on the client ({@code metricsRecorder}; {@code NOOP} is the default). */
    RedlockDriver(List<String> uris, LockOptions options, Kind kind, LockMetricsRecorder recorder) {
        this.kind = kind;
        this.client = ReactiveRedLock.builder()
                .nodes(uris.toArray(String[]::new))
                // every trial starts its own nodes (Env): no lease can exist that they could have forgotten
                .restartGuard(RestartGuard.RUN_ID)
                .defaults(options)
                .metricsRecorder(recorder)
                .build();
        client.connect().block(Duration.ofSeconds(10));
    }

    @Override
    public void prepare(Slot slot) {
        switch (kind) {
            case FAIR:
                slot.handle = client.fairLock(slot.key);
                break;
            case READ:
                slot.handle = client.readWriteLock(slot.key).readLock();
                break;
            case WRITE:
                slot.handle = client.readWriteLock(slot.key).writeLock();
                break;
            case MULTI:
                slot.handle = client.multiLock(Arrays.asList(slot.keys));
                break;
            default:
                break;
        }
    }

    private Mono<Lease> lease(Slot slot) {
        Object handle = slot.handle;
        if (handle == null) {
            return client.acquire(slot.key);
        }
        return handle instanceof RedFairLock ? ((RedFairLock) handle).acquire() : ((RedLock) handle).acquire();
    }

    @Override
    public Mono<Object> acquire(Slot slot) {
        return lease(slot).cast(Object.class);
    }

    @Override
    public Mono<Void> release(Object held) {
        return ((Lease) held).release();
    }

    @Override
    public Mono<Void> cycle(Slot slot) {
        return lease(slot).flatMap(Lease::release);
    }

    @Override
    public void close() {
        client.close();
    }
}
