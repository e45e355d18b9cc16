package dev.redlock.rw;

import dev.redlock.Lease;
import dev.redlock.LockOptions;
import dev.redlock.RedLock;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A read-write lock on one name: many readers at once, or one writer. Each side is a {@link RedLock} (acquire, try,
 * scoped {@code withLock}, watchdog, {@code lost()}, typed errors), so code written against a lock takes either.
 *
 * <pre>{@code
 * RedReadWriteLock prices = redlock.readWriteLock("prices");
 * Mono<Price> price = prices.withReadLockMono(lease -> cache.read(sku));
 * Mono<Void> update = prices.withWriteLockMono(lease -> cache.reload());
 * }</pre>
 *
 * <p><b>Why it is safe.</b> Each node keeps one hash for the name: every holder's token with its mode and its deadline
 * on the node's clock ({@code TIME}). One script per node grants a request only when no live holder there has a
 * conflicting mode ({@link LockMode}: a write conflicts with everything), and the lease is granted when a majority of
 * the N nodes granted within its validity, exactly as for the lock. A write and any other lease would both need a
 * majority; two majorities share a node, and that node granted the later one while the earlier one was live there,
 * which its script refuses. The assumptions are the lock's (docs/safety.md): clocks advance at nearly the same rate
 * (drift below the configured factor), no node forgets a live entry (the restart guard holds a restarted node out),
 * and a lease's holder stops using it at its deadline ({@link Lease#lost()}). Readers overlap freely.
 *
 * <p><b>Writers are not starved.</b> A refused request leaves a claim (its mode, for a few seconds, renewed by each
 * of its attempts) on the nodes that refused it, and a node refuses any new request of a lower precedence in
 * {@link LockMode}'s order that conflicts with a live claim: a waiting writer lets no new reader in, so once the
 * readers there when it came have released (or their leases ran out) it gets the lock. Writers among themselves are
 * not ordered (use a fair lock for that); a stream of writers can starve readers.
 *
 * <p><b>Nested scopes.</b> A scope inside a scope of the same lock (the Reactor {@code Context} carries it) runs
 * under the outer lease when the outer mode covers the inner one (a read inside a write, a read inside a read); a
 * write inside a read fails at once with {@link LockUpgradeException}.
 *
 * <p>Fencing tokens are not offered ({@code LockOptions.fencing(true)} is refused at call time). Handles are
 * immutable; every operation is lazy.
 *
 * @since 0.1.0
 */
public interface RedReadWriteLock {

    /**
     * The lock's name.
     *
     * @return the name as given
     */
    String name();

    /**
     * The options of this handle's operations.
     *
     * @return the options
     */
    LockOptions options();

    /**
     * This lock with other options.
     *
     * @param options the options; without fencing
     * @return a new handle
     * @throws IllegalArgumentException for null options, fencing, or a lease time above the client's maximum
     */
    RedReadWriteLock withOptions(LockOptions options);

    /**
     * The read side: shared with other readers, excluded by a writer (and by a waiting writer, see above).
     * {@link RedLock#isLocked()} tells whether a quorum has a live reader.
     *
     * @return the read lock
     */
    RedLock readLock();

    /**
     * The write side: excludes readers and other writers. {@link RedLock#isLocked()} tells whether a quorum has a
     * live writer.
     *
     * @return the write lock
     */
    RedLock writeLock();

    /**
     * {@code readLock().withLock(body)}: the body runs under a read lease, released on complete, error and cancel.
     *
     * @param body the work, given the lease
     * @param <T> the element type
     * @return a lazy {@code Flux} of the body's elements
     * @throws IllegalArgumentException for a null body
     */
    default <T> Flux<T> withReadLock(Function<? super Lease, ? extends Publisher<? extends T>> body) {
        return readLock().withLock(body);
    }

    /**
     * {@code readLock().withLockMono(body)}.
     *
     * @param body the work, given the lease
     * @param <T> the value type
     * @return a lazy {@code Mono} of the body's value, emitted after the release
     * @throws IllegalArgumentException for a null body
     */
    default <T> Mono<T> withReadLockMono(Function<? super Lease, ? extends Mono<? extends T>> body) {
        return readLock().withLockMono(body);
    }

    /**
     * {@code writeLock().withLock(body)}: the body runs under the write lease, released on complete, error and
     * cancel; inside a read scope of this lock it fails with {@link LockUpgradeException}.
     *
     * @param body the work, given the lease
     * @param <T> the element type
     * @return a lazy {@code Flux} of the body's elements
     * @throws IllegalArgumentException for a null body
     */
    default <T> Flux<T> withWriteLock(Function<? super Lease, ? extends Publisher<? extends T>> body) {
        return writeLock().withLock(body);
    }

    /**
     * {@code writeLock().withLockMono(body)}.
     *
     * @param body the work, given the lease
     * @param <T> the value type
     * @return a lazy {@code Mono} of the body's value, emitted after the release
     * @throws IllegalArgumentException for a null body
     */
    default <T> Mono<T> withWriteLockMono(Function<? super Lease, ? extends Mono<? extends T>> body) {
        return writeLock().withLockMono(body);
    }
}
