package dev.redlock.internal.lock;

import dev.redlock.ConditionNotMetException;
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
    public <T> Flux<T> withLockIf(Mono<Boolean> condition,
            Function<? super Lease, ? extends Publisher<? extends T>> body) {
        return firstCheck(condition, body).thenMany(client.engine().scope().flux(spec, options, lease ->
                holds(condition, ConditionNotMetException.Stage.AFTER_ACQUIRE)
                        .thenMany(Flux.defer(() -> Flux.<T>from(body.apply(lease))))));
    }

    @Override
    public <T> Mono<T> withLockMonoIf(Mono<Boolean> condition,
            Function<? super Lease, ? extends Mono<? extends T>> body) {
        return firstCheck(condition, body).then(client.engine().scope().mono(spec, options, lease ->
                holds(condition, ConditionNotMetException.Stage.AFTER_ACQUIRE)
                        .then(Mono.defer(() -> body.apply(lease)))));
    }

    /** Checks the arguments at call time, and makes the check before the acquire. */
    private Mono<Void> firstCheck(Mono<Boolean> condition, Object body) {
        Checks.notNull(condition, "condition");
        Checks.notNull(body, "body");
        return holds(condition, ConditionNotMetException.Stage.BEFORE_ACQUIRE);
    }

    /**
     * Completes when {@code condition} answers true, else fails with the typed error. Inside the scope its error
     * becomes the body's, so the scope releases the lease before signalling it.
     */
    private Mono<Void> holds(Mono<Boolean> condition, ConditionNotMetException.Stage stage) {
        return condition.defaultIfEmpty(false).flatMap(ok -> ok
                ? Mono.<Void>empty()
                : Mono.<Void>error(new ConditionNotMetException(spec.name(), stage)));
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
