package dev.redlock.internal.lock;

import dev.redlock.Lease;
import dev.redlock.LockOptions;
import dev.redlock.RedLock;
import dev.redlock.internal.Checks;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** {@link RedLock}: one lock of a {@link LockClient}, its name checked once. Immutable. */
final class LockHandle implements RedLock {

    private final LockClient client;
    private final LockSpec spec;
    private final LockOptions options;

    LockHandle(LockClient client, LockSpec spec, LockOptions options) {
        this.client = client;
        this.spec = spec;
        this.options = options;
    }

    @Override
    public String name() {
        return spec.name();
    }

    @Override
    public LockOptions options() {
        return options;
    }

    @Override
    public RedLock withOptions(LockOptions options) {
        return new LockHandle(client, spec, client.checked(options));
    }

    @Override
    public Mono<Lease> acquire() {
        return client.engine().acquire(spec, options).cast(Lease.class);
    }

    @Override
    public Mono<Lease> tryAcquire() {
        return client.engine().tryAcquire(spec, options).cast(Lease.class);
    }

    @Override
    public <T> Flux<T> withLock(Function<? super Lease, ? extends Publisher<? extends T>> body) {
        Checks.notNull(body, "body");
        return client.engine().scope().flux(spec, options, body);
    }

    @Override
    public <T> Mono<T> withLockMono(Function<? super Lease, ? extends Mono<? extends T>> body) {
        Checks.notNull(body, "body");
        return client.engine().scope().mono(spec, options, body);
    }

    @Override
    public Mono<Boolean> isLocked() {
        return client.isLocked(spec);
    }

    @Override
    public Mono<Lease> heldLease() {
        return client.heldLease(spec);
    }

    @Override
    public String toString() {
        return "RedLock{" + spec.name() + '}';
    }
}
