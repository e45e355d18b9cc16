package dev.redlock.internal.lock;

import dev.redlock.ConditionNotMetException;
import dev.redlock.Lease;
import dev.redlock.LockOptions;
import dev.redlock.RedLock;
import dev.redlock.internal.Checks;
import dev.redlock.internal.engine.Engine;
import dev.redlock.internal.engine.LeaseSpec;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * {@link RedLock} on the engine, for every primitive that is a lock with one lease per acquire: the plain lock, the
 * read and write sides of a read-write lock, a hierarchical lock's path in one mode, a multi-key lock. It checks the
 * arguments at call time and asks its spec source for the spec of each subscription (a spec may carry that acquire's
 * waiter). Immutable.
 */
public final class LockHandle implements RedLock {

    private final Engine engine;
    private final String name;
    private final Specs specs;
    private final LockOptions options;
    private final UnaryOperator<LockOptions> check;
    private final Supplier<Mono<Boolean>> isLocked;

    /**
     * @param name the name as the user gave it
     * @param specs the spec of each subscription
     * @param options the options, already checked
     * @param check checks other options at call time ({@link #withOptions})
     * @param isLocked the {@link #isLocked()} query
     */
    public LockHandle(Engine engine, String name, Specs specs, LockOptions options,
            UnaryOperator<LockOptions> check, Supplier<Mono<Boolean>> isLocked) {
        this.engine = engine;
        this.name = name;
        this.specs = specs;
        this.options = options;
        this.check = check;
        this.isLocked = isLocked;
    }

    /** The spec of each subscription. */
    @FunctionalInterface
    public interface Specs {

        /**
         * A spec for one subscription.
         *
         * @param waits whether the subscription may wait (an acquire or a scope), or makes one attempt (a try)
         */
        LeaseSpec spec(boolean waits);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LockOptions options() {
        return options;
    }

    @Override
    public RedLock withOptions(LockOptions options) {
        return new LockHandle(engine, name, specs, check.apply(options), check, isLocked);
    }

    @Override
    public Mono<Lease> acquire() {
        return Mono.defer(() -> engine.acquire(specs.spec(true), options)).cast(Lease.class);
    }

    @Override
    public Mono<Lease> tryAcquire() {
        return Mono.defer(() -> engine.tryAcquire(specs.spec(false), options)).cast(Lease.class);
    }

    @Override
    public <T> Flux<T> withLock(Function<? super Lease, ? extends Publisher<? extends T>> body) {
        Checks.notNull(body, "body");
        return Flux.defer(() -> engine.scope().flux(specs.spec(true), options, body));
    }

    @Override
    public <T> Mono<T> withLockMono(Function<? super Lease, ? extends Mono<? extends T>> body) {
        Checks.notNull(body, "body");
        return Mono.defer(() -> engine.scope().mono(specs.spec(true), options, body));
    }

    @Override
    public <T> Flux<T> withLockIf(Mono<Boolean> condition,
            Function<? super Lease, ? extends Publisher<? extends T>> body) {
        return firstCheck(condition, body).thenMany(Flux.defer(() -> engine.scope().flux(specs.spec(true), options,
                lease -> holds(condition, ConditionNotMetException.Stage.AFTER_ACQUIRE)
                        .thenMany(Flux.defer(() -> Flux.<T>from(body.apply(lease)))))));
    }

    @Override
    public <T> Mono<T> withLockMonoIf(Mono<Boolean> condition,
            Function<? super Lease, ? extends Mono<? extends T>> body) {
        return firstCheck(condition, body).then(Mono.defer(() -> engine.scope().mono(specs.spec(true), options,
                lease -> holds(condition, ConditionNotMetException.Stage.AFTER_ACQUIRE)
                        .then(Mono.defer(() -> body.apply(lease))))));
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
                : Mono.<Void>error(new ConditionNotMetException(name, stage)));
    }

    @Override
    public Mono<Boolean> isLocked() {
        return isLocked.get();
    }

    @Override
    public Mono<Lease> heldLease() {
        return Mono.deferContextual(ctx -> Mono.justOrEmpty(engine.scope().held(ctx, specs.spec(true))));
    }

    @Override
    public String toString() {
        return "RedLock{" + name + '}';
    }
}
