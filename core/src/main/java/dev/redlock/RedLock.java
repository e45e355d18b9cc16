package dev.redlock;

import java.util.function.Function;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One lock, by name: {@code redlock.lock("orders:42")}. A handle costs nothing (no I/O, no state beyond the name and
 * the options it uses); every operation is the client's operation for that name, with the same laziness,
 * cancellation and errors ({@link ReactiveRedLock}).
 *
 * <pre>{@code
 * RedLock order = redlock.lock("orders:42");
 * Mono<Receipt> paid = order.withLockMono(lease -> payments.pay(order42));
 * Flux<Row> rows = order.withOptions(fenced).withLock(lease -> export(lease.fencingToken().getAsLong()));
 * }</pre>
 *
 * <p>The other locks are {@code RedLock}s too, so code written against one takes any: each side of a
 * {@link dev.redlock.rw.RedReadWriteLock read-write lock}, a {@link dev.redlock.hierarchy.RedHierarchicalLock
 * hierarchical lock}'s path in one mode, a {@link ReactiveRedLock#multiLock(java.util.Collection) multi-key lock}.
 * Their {@link #isLocked()} is described where they are made.
 *
 * @since 0.1.0
 */
public interface RedLock {

    /**
     * The lock's name, as given.
     *
     * @return the name
     */
    String name();

    /**
     * The options this handle's operations use: the client's defaults unless {@link #withOptions} set others.
     *
     * @return the options
     */
    LockOptions options();

    /**
     * A handle on the same lock whose operations use {@code options}.
     *
     * @param options the options, checked as the client checks them
     * @return a new handle; this one is unchanged
     * @throws IllegalArgumentException for null options or a lease time above the client's maximum lease time
     */
    RedLock withOptions(LockOptions options);

    /**
     * Acquires the lock, waiting up to {@code maxWait}: {@link ReactiveRedLock#acquire(String, LockOptions)}.
     *
     * @return a lazy {@code Mono} of the lease, which the subscriber must release
     */
    Mono<Lease> acquire();

    /**
     * One attempt: {@link ReactiveRedLock#tryAcquire(String, LockOptions)}.
     *
     * @return a lazy {@code Mono} of the lease, empty when the lock is held elsewhere
     */
    Mono<Lease> tryAcquire();

    /**
     * Runs {@code body} while holding the lock: {@link ReactiveRedLock#withLock(String, LockOptions, Function)}.
     * For a body that returns a {@code Mono}, {@link #withLockMono} keeps the {@code Mono}.
     *
     * @param body builds the publisher to run under the lease, when the lease is held (build work there, not before)
     * @param <T> the element type
     * @return a lazy {@code Flux}: acquire on subscribe, release on complete, error and cancel
     */
    <T> Flux<T> withLock(Function<? super Lease, ? extends Publisher<? extends T>> body);

    /**
     * Runs a {@code Mono} body while holding the lock:
     * {@link ReactiveRedLock#withLockMono(String, LockOptions, Function)}.
     *
     * @param body builds the {@code Mono} to run under the lease, when the lease is held
     * @param <T> the value type
     * @return a lazy {@code Mono} that emits the body's value after the lease was released
     */
    <T> Mono<T> withLockMono(Function<? super Lease, ? extends Mono<? extends T>> body);

    /**
     * Runs {@code body} while holding the lock, but only while {@code condition} holds: the condition is asked before
     * the acquire, and again once the lease is held (a business-hours check, a feature switch, "is this job still
     * due").
     *
     * <ul>
     *   <li>on subscribe: subscribes to {@code condition}; {@code false} or empty fails with
     *       {@link ConditionNotMetException} ({@link ConditionNotMetException.Stage#BEFORE_ACQUIRE}) without any I/O
     *       to the nodes; {@code true} acquires as {@link #withLock} does (same options, watchdog, reentrancy, errors);
     *   <li>lease held: subscribes to {@code condition} again; {@code false} or empty releases the lease and then
     *       fails with {@link ConditionNotMetException} ({@link ConditionNotMetException.Stage#AFTER_ACQUIRE}), the
     *       body never being called; {@code true} runs the body exactly as {@link #withLock} does;
     *   <li>condition errors: the error is propagated, after the lease was released when it was held;
     *   <li>cancel at any point: as {@link #withLock}, the lease (if held) is released.
     * </ul>
     *
     * <p>The condition is subscribed twice, so it must be cold (build its answer on subscription, e.g. with
     * {@code Mono.fromSupplier}); a cached {@code Mono} answers the same both times. Inside an enclosing scope on the
     * same lock, the lease is reused and "released" means handed back to that scope, which still holds it.
     *
     * @param condition answers whether the body should run; subscribed on subscription and again under the lease
     * @param body builds the publisher to run under the lease, once the condition held a second time
     * @param <T> the element type
     * @return a lazy {@code Flux} of the body's elements
     * @throws IllegalArgumentException at call time for a null condition or body
     */
    <T> Flux<T> withLockIf(Mono<Boolean> condition, Function<? super Lease, ? extends Publisher<? extends T>> body);

    /**
     * {@link #withLockIf} for a {@code Mono} body: the same condition checks, and the body's value comes after the
     * lease was released, as with {@link #withLockMono}.
     *
     * @param condition answers whether the body should run; subscribed on subscription and again under the lease
     * @param body builds the {@code Mono} to run under the lease, once the condition held a second time
     * @param <T> the value type
     * @return a lazy {@code Mono} of the body's value; {@link ConditionNotMetException} when the condition did not
     *     hold
     * @throws IllegalArgumentException at call time for a null condition or body
     */
    <T> Mono<T> withLockMonoIf(Mono<Boolean> condition, Function<? super Lease, ? extends Mono<? extends T>> body);

    /**
     * Whether some owner holds the lock on a quorum: {@link ReactiveRedLock#isLocked(String)} for a plain lock; for
     * the other locks, what their factory says (a reader, a writer, a path in this mode, every key).
     *
     * @return a lazy {@code Mono} of the answer
     */
    Mono<Boolean> isLocked();

    /**
     * The lease an enclosing {@code withLock} scope of this client holds on this lock, read from the subscriber's
     * Reactor {@code Context}: {@link ReactiveRedLock#heldLease(String)}.
     *
     * @return a lazy {@code Mono} of the lease, empty outside such a scope
     */
    Mono<Lease> heldLease();
}
