package dev.redlock;

import dev.redlock.fair.RedFairLock;
import dev.redlock.hierarchy.RedHierarchicalLock;
import dev.redlock.ratelimit.RateLimit;
import dev.redlock.ratelimit.RedRateLimiter;
import dev.redlock.semaphore.PermitsMismatchException;
import dev.redlock.rw.RedReadWriteLock;
import dev.redlock.semaphore.RedSemaphore;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A distributed lock client over N independent Redis masters (Redlock); one object serves any number of keys.
 *
 * <pre>{@code
 * ReactiveRedLock redlock = ReactiveRedLock.builder()
 *         .nodes("redis://10.0.0.1:6379", "redis://10.0.0.2:6379", "redis://10.0.0.3:6379")
 *         .build();
 *
 * Mono<Order> placed = redlock.withLock("orders:42", orderService.place(order));
 * }</pre>
 *
 * <p>With N nodes the quorum is N/2 + 1; N = 1 is a plain single-Redis lock. An acquire sends one script to all
 * nodes at once, decides as soon as a quorum granted (or no longer can), and computes the validity as lease time −
 * elapsed − drift on the scheduler's monotonic clock. Waiting for a held lock is scheduled (backoff with jitter),
 * never a parked thread, and a release notification wakes waiters at once.
 *
 * <p>Every operation returns a lazy publisher: nothing happens before subscription, and each subscription is an
 * independent operation. Bad arguments raise {@link IllegalArgumentException} at call time, before any I/O.
 * Signals are delivered on Lettuce's event-loop threads or the client's scheduler; move blocking work elsewhere with
 * {@code publishOn}.
 *
 * <p>Safety assumptions (state them to your users too): node clocks and this client's elapsed-time measurement run
 * at about the same rate (within the drift factor; no jumps); a node that restarts without {@code appendfsync
 * always} stays out of quorums for the maximum lease time (enforced by the {@link RestartGuard}); nodes are
 * independent masters, not replicas that can fail over; and the holder finishes its effects before the deadline.
 * The last one no lease lock can guarantee under pauses: use {@link Lease#token()} or fencing tokens at the
 * resource when correctness depends on it.
 *
 * @since 0.1.0
 */
public interface ReactiveRedLock extends AutoCloseable {

    /**
     * A builder for a client.
     *
     * @return a new builder with the default settings and no nodes
     */
    static RedLockBuilder builder() {
        return new RedLockBuilder();
    }

    /**
     * The default options of this client: what operations called without options use.
     *
     * @return the options given to {@link RedLockBuilder#defaults(LockOptions)}, or {@link LockOptions#defaults()}
     */
    LockOptions defaults();

    /**
     * The nodes, in the order given.
     *
     * @return an unmodifiable list of the nodes
     */
    List<RedisNode> nodes();

    /**
     * The quorum: how many nodes must agree.
     *
     * @return {@code nodes().size() / 2 + 1}
     */
    int quorum();

    /**
     * Opens and verifies a connection to every node now rather than on first use (a warm-up for service start).
     * Completes once a quorum of nodes is connected; errors with {@link QuorumUnavailableException} (with per-node
     * causes) if fewer than a quorum could be connected within the connect timeout. Optional: every operation
     * connects on demand, but a first call on a cold client may spend its node timeout on connecting.
     *
     * <p>Cancelling stops waiting; a connection already opening still opens, for later operations. On a closed client
     * it errors with {@link ClientClosedException}.
     *
     * @return a lazy {@code Mono} that completes once a quorum of nodes is connected
     */
    Mono<Void> connect();

    // == Rate limiting ==

    /**
     * A distributed rate limiter for {@code name} on this client's nodes: GCRA on the nodes' clocks, admitted by a
     * majority ({@link RateLimit.Mode#QUORUM}, at most N/q times the limit) or held exactly on one node
     * ({@link RateLimit.Mode#STRICT}); see {@link RedRateLimiter}. Clients with the same nodes and key prefix share
     * the limit of a name, and should give it the same {@link RateLimit}. Cheap: nothing is sent until it is used.
     *
     * @param name the limiter's name (its key is {@code <prefix>rate:{<name>}})
     * @param limit the limit
     * @return the limiter
     * @throws IllegalArgumentException for a null or blank name, or a null limit
     * @since 0.1.0
     */
    RedRateLimiter rateLimiter(String name, RateLimit limit);

    // == One lock by name ==

    /**
     * A handle on one lock: its operations are this client's operations for {@code name}, with the client's default
     * options (or others, through {@link RedLock#withOptions}). No I/O.
     *
     * @param name the lock's name (its key)
     * @return the handle
     * @throws IllegalArgumentException at call time for a null or blank name, one longer than 512 UTF-8 bytes, or one
     *     with control characters or unpaired surrogates
     */
    RedLock lock(String name);

    /**
     * The lease an enclosing {@code withLock} scope of this client holds on {@code key}: read from the subscriber's
     * Reactor {@code Context}, where scopes keep their lease for reentrancy. Emits the lease (valid or not: check
     * {@link Lease#isValid()}), or completes empty outside such a scope. No I/O.
     *
     * @param key the lock key
     * @return a lazy {@code Mono} of the held lease
     * @throws IllegalArgumentException at call time for a bad key
     */
    Mono<Lease> heldLease(String key);

    // == Other primitives ==

    /**
     * A semaphore of {@code permits} leased permits named {@code name}, on this client's nodes, with the client's
     * default options (or others, through {@link RedSemaphore#withOptions}). No I/O. Every client using the
     * semaphore must declare the same number of permits ({@link PermitsMismatchException} otherwise).
     *
     * @param name the semaphore's name; its keys are {@code <prefix>{<name>}:permits}, apart from a lock's of the
     *     same name
     * @param permits P, the number of permits, between 1 and 4096
     * @return the handle
     * @throws IllegalArgumentException at call time for a null or blank name (the rules of a lock key), or permits
     *     out of range
     */
    RedSemaphore semaphore(String name, int permits);

    /**
     * A fair lock named {@code name} on this client's nodes, with the client's default options (or others, through
     * {@link RedFairLock#withOptions}): waiters of every client served by priority, then arrival, through a waiter
     * queue on each node; see {@link RedFairLock}. No I/O.
     *
     * @param name the lock's name; its key is the plain lock's ({@code <prefix>{<name>}}), with the queue beside it,
     *     so a name is used either as a plain lock or as a fair lock ({@link LockKindMismatchException} otherwise)
     * @return the handle
     * @throws IllegalArgumentException at call time for a null or blank name (the rules of a lock key)
     * @since 0.1.0
     */
    RedFairLock fairLock(String name);

    /**
     * A read-write lock named {@code name} on this client's nodes, with the client's default options (or others,
     * through {@link RedReadWriteLock#withOptions}): many readers or one writer, writers not starved by readers; see
     * {@link RedReadWriteLock}. No I/O.
     *
     * @param name the lock's name; its key is {@code <prefix>{<name>}:rw}, apart from a plain lock's of the same name
     * @return the handle
     * @throws IllegalArgumentException at call time for a null or blank name (the rules of a lock key), or default
     *     options with fencing
     * @since 0.1.0
     */
    RedReadWriteLock readWriteLock(String name);

    /**
     * The hierarchical lock on {@code path} ({@code tenant/orders/42}), with the client's default options: a lock in
     * a mode on the path takes that mode's intention on every ancestor, in one script per node; see
     * {@link RedHierarchicalLock}. No I/O.
     *
     * @param path 1 to {@value RedHierarchicalLock#MAX_DEPTH} non-empty segments separated by {@code '/'}; the keys
     *     are {@code <prefix>{<first segment>}:tree:<path to each node>}
     * @return the handle
     * @throws IllegalArgumentException at call time for a null or blank path, an empty segment (a leading, trailing
     *     or double {@code '/'}), a path deeper than the limit, or default options with fencing
     * @since 0.1.0
     */
    RedHierarchicalLock hierarchicalLock(String path);

    /**
     * A lock on all of {@code keys} at once, with the client's default options: one lease holds every key, taken all
     * or nothing by one script per node (never key by key, so two multi-key locks over overlapping keys cannot
     * deadlock), renewed and released in one script per node. The keys are the plain locks' keys: a multi-key lock
     * and {@code lock(key)} on a shared key exclude each other. The safety argument is the lock's, for every key. A
     * waiter listens for the release of the key that refused it first, and otherwise waits out the shortest TTL or
     * its backoff. No I/O.
     *
     * @param keys 1 to 64 lock keys (duplicates count once; taken in sorted order); the lock's name, in errors and
     *     events, is the sorted keys joined by {@code ','}
     * @return the lock; fencing tokens are not offered; {@link RedLock#isLocked()} tells whether a quorum holds every
     *     key
     * @throws IllegalArgumentException at call time for a null collection, a null or blank key, no key or more than
     *     64, or default options with fencing
     * @since 0.1.0
     */
    RedLock multiLock(Collection<String> keys);

    /**
     * {@link #multiLock(Collection)} of these keys.
     *
     * @param keys 1 to 64 lock keys
     * @return the lock
     * @throws IllegalArgumentException at call time as {@link #multiLock(Collection)}
     * @since 0.1.0
     */
    default RedLock multiLock(String... keys) {
        if (keys == null) {
            throw new IllegalArgumentException("keys must not be null");
        }
        return multiLock(java.util.Arrays.asList(keys));
    }

    // == Manual acquire ==

    /**
     * {@link #acquire(String, LockOptions)} with the client's default options: same outcomes on success, error and
     * cancel.
     *
     * @param key the lock key
     * @return a lazy {@code Mono} of the lease, which the subscriber must release
     * @throws IllegalArgumentException at call time for a null or blank key
     */
    Mono<Lease> acquire(String key);

    /**
     * Acquires the lock, retrying while it is held elsewhere until {@code options.maxWait()}.
     *
     * <ul>
     *   <li>success: emits a {@link Lease} the caller must release;
     *   <li>held by another owner until maxWait ran out: {@link LockAcquireTimeoutException}; an acquire ends by
     *       {@code max(maxWait, nodeTimeout)} (retries near the end get only what is left of the wait);
     *   <li>too few nodes answered in time (or so late no validity remained) on the last attempt:
     *       {@link QuorumUnavailableException} with the per-node causes;
     *   <li>client closed (before or while waiting): {@link ClientClosedException};
     *   <li>cancel: stops waiting; an attempt in flight is released on every node once each has answered, so a
     *       cancelled acquire never leaves a lease behind (keys a node stored after our timeout are removed too). A
     *       lease granted just as the cancel came is released too when it never left the library, or when an operator
     *       on the way discards it (Reactor's discard hook). A lease that reached the subscriber is the subscriber's
     *       to release, including one a subscriber drops because it was disposed in that very instant (Reactor's
     *       {@code onNextDropped}, which no library sees): for cancel safety over the whole use of a lease, use
     *       {@code withLock} or {@code Mono.usingWhen(acquire(key), use, Lease::release)}.
     * </ul>
     *
     * @param key the lock key
     * @param options the options of this acquire (lease time, maximum wait, backoff, fencing, ...)
     * @return a lazy {@code Mono} of the lease, which the subscriber must release
     * @throws IllegalArgumentException at call time for a null/blank key, null options, or a lease time above the
     *     client's maximum lease time
     */
    Mono<Lease> acquire(String key, LockOptions options);

    /**
     * One attempt with the default options: {@link #tryAcquire(String, LockOptions)}.
     *
     * @param key the lock key
     * @return a lazy {@code Mono} of the lease (which the subscriber must release), empty if the lock is held
     *     elsewhere
     * @throws IllegalArgumentException at call time for a null or blank key
     */
    Mono<Lease> tryAcquire(String key);

    /**
     * One attempt: emits a {@link Lease}, completes empty if the lock is held elsewhere, or errors with
     * {@link QuorumUnavailableException} if too few nodes answered ({@link ClientClosedException} on a closed
     * client). {@code options.maxWait()} is ignored. Cancel: as for {@link #acquire(String, LockOptions)}, an
     * attempt in flight is released on every node, so no lease is left behind.
     *
     * @param key the lock key
     * @param options the options of this attempt
     * @return a lazy {@code Mono} of the lease (which the subscriber must release), empty if the lock is held
     *     elsewhere
     * @throws IllegalArgumentException at call time for a null/blank key, null options, or a lease time above the
     *     client's maximum lease time
     */
    Mono<Lease> tryAcquire(String key, LockOptions options);

    // == Scoped use ==

    /**
     * {@link #withLock(String, LockOptions, Function)} with the client's default options. A lambda that returns a
     * {@code Mono} makes a {@code Flux} here; {@link #withLockMono(String, Function)} keeps the {@code Mono}.
     *
     * @param key the lock key
     * @param body builds the publisher to run under the lease, when the lease is held
     * @param <T> the element type
     * @return a lazy {@code Flux} of the body's elements: acquire on subscribe, release on complete, error and cancel
     * @throws IllegalArgumentException at call time for a null or blank key, or a null body
     */
    <T> Flux<T> withLock(String key, Function<? super Lease, ? extends Publisher<? extends T>> body);

    /**
     * Runs {@code body} while holding the lock, {@code usingWhen}-style.
     *
     * <ul>
     *   <li>on subscribe: acquires as {@link #acquire(String, LockOptions)} does (same errors); then subscribes to
     *       the publisher returned by {@code body};
     *   <li>while it runs: with {@link LockOptions#watchdog()} on, renews the lease every
     *       {@link LockOptions#renewalInterval()} (bounded by {@link LockOptions#maxHoldTime()});
     *   <li>lease lost (renewal could not reach a quorum before the deadline, keys gone, or hold time exceeded):
     *       the body is cancelled and the subscriber receives {@link LeaseLostException} no later than the deadline;
     *   <li>body completes: the lease is released, then the Flux completes;
     *   <li>body errors: the lease is released, then the error is propagated;
     *   <li>cancel: the body is cancelled and the lease released (without waiting); a cancel that arrives while the
     *       acquire is in flight releases every node that granted;
     *   <li>client closed while the body runs: the body is cancelled and the subscriber receives
     *       {@link LeaseLostException} with reason {@link LeaseLostException.Reason#CLIENT_CLOSED} (never a plain
     *       completion); closed while still acquiring: {@link ClientClosedException}.
     * </ul>
     *
     * <p>A release that cannot be confirmed after the body completed is not the scope's error (the body ran under a
     * valid lease): it is reported as {@link LockEvent.Type#RELEASE_UNCONFIRMED}, and the keys expire with the lease
     * time.
     *
     * <p>Reentrant: inside {@code body}, a nested {@code withLock} on the same key and client reuses the held lease
     * (carried in the Reactor {@code Context}); only the outermost scope releases it. The nested scope runs only while
     * that lease is valid (else it fails with the loss), and when its options ask for fencing, only if the lease
     * carries a token (else {@link IllegalStateException}).
     *
     * @param key the lock key
     * @param options the options of the acquire and the lease
     * @param body builds the publisher to run under the lease, when the lease is held (build work there, not before)
     * @param <T> the element type
     * @return a lazy {@code Flux} of the body's elements
     * @throws IllegalArgumentException at call time for a null/blank key, null options or body, or a lease time above
     *     the client's maximum lease time
     */
    <T> Flux<T> withLock(String key, LockOptions options, Function<? super Lease, ? extends Publisher<? extends T>> body);

    /**
     * {@link #withLock(String, LockOptions, Function)} for a body that does not need the lease. The body is built
     * before the lock is held: work it does when it is built (not when subscribed) runs unprotected; prefer the
     * function form, or {@code Flux.defer}.
     *
     * @param key the lock key
     * @param body the publisher to run under the lease; subscribed once the lease is held
     * @param <T> the element type
     * @return a lazy {@code Flux} of the body's elements: acquire on subscribe, release on complete, error and cancel
     * @throws IllegalArgumentException at call time for a null or blank key, or a null body
     */
    <T> Flux<T> withLock(String key, Flux<? extends T> body);

    /**
     * {@link #withLock(String, LockOptions, Function)} for a body that does not need the lease.
     *
     * @param key the lock key
     * @param options the options of the acquire and the lease
     * @param body the publisher to run under the lease; subscribed once the lease is held
     * @param <T> the element type
     * @return a lazy {@code Flux} of the body's elements: acquire on subscribe, release on complete, error and cancel
     * @throws IllegalArgumentException at call time for a null/blank key, null options or body, or a lease time above
     *     the client's maximum lease time
     */
    <T> Flux<T> withLock(String key, LockOptions options, Flux<? extends T> body);

    /**
     * The {@code Mono} form: emits the body's value after the lease was released. As with the {@code Flux} form, work
     * done while building {@code body} happens before the lock is held: prefer {@link #withLockMono} or
     * {@code Mono.defer}.
     *
     * @param key the lock key
     * @param body the {@code Mono} to run under the lease; subscribed once the lease is held
     * @param <T> the value type
     * @return a lazy {@code Mono} of the body's value (empty if the body is); errors and cancel as in the
     *     {@code Flux} form
     * @throws IllegalArgumentException at call time for a null or blank key, or a null body
     */
    <T> Mono<T> withLock(String key, Mono<? extends T> body);

    /**
     * The {@code Mono} form: emits the body's value after the lease was released.
     *
     * @param key the lock key
     * @param options the options of the acquire and the lease
     * @param body the {@code Mono} to run under the lease; subscribed once the lease is held
     * @param <T> the value type
     * @return a lazy {@code Mono} of the body's value (empty if the body is); errors and cancel as in the
     *     {@code Flux} form
     * @throws IllegalArgumentException at call time for a null/blank key, null options or body, or a lease time above
     *     the client's maximum lease time
     */
    <T> Mono<T> withLock(String key, LockOptions options, Mono<? extends T> body);

    /**
     * The {@code Mono} form of {@link #withLock(String, Function)}: emits the body's value after the lease was
     * released.
     *
     * @param key the lock key
     * @param body builds the {@code Mono} to run under the lease, when the lease is held
     * @param <T> the value type
     * @return a lazy {@code Mono} of the body's value (empty if the body is); errors and cancel as in the
     *     {@code Flux} form
     * @throws IllegalArgumentException at call time for a null or blank key, or a null body
     */
    <T> Mono<T> withLockMono(String key, Function<? super Lease, ? extends Mono<? extends T>> body);

    /**
     * The {@code Mono} form of {@link #withLock(String, LockOptions, Function)}: emits the body's value after the
     * lease was released.
     *
     * @param key the lock key
     * @param options the options of the acquire and the lease
     * @param body builds the {@code Mono} to run under the lease, when the lease is held
     * @param <T> the value type
     * @return a lazy {@code Mono} of the body's value (empty if the body is); errors and cancel as in the
     *     {@code Flux} form
     * @throws IllegalArgumentException at call time for a null/blank key, null options or body, or a lease time above
     *     the client's maximum lease time
     */
    <T> Mono<T> withLockMono(String key, LockOptions options, Function<? super Lease, ? extends Mono<? extends T>> body);

    // == Queries and lifecycle ==

    /**
     * Whether some owner holds the lock on a quorum of nodes: emits {@code true} if a quorum has the key,
     * {@code false} if a quorum does not, and errors with {@link QuorumUnavailableException} if neither is known
     * ({@link ClientClosedException} on a closed client). Cancelling only stops waiting for the answer: the query
     * changes nothing on the nodes.
     *
     * @param key the lock key
     * @return a lazy {@code Mono} of the answer
     * @throws IllegalArgumentException at call time for a null or blank key
     */
    Mono<Boolean> isLocked(String key);

    /**
     * Lease and node events, multicast, best effort; completes on close. Delivered on the builder's
     * {@link RedLockBuilder#eventScheduler event scheduler}, never on the threads that run lock operations: a slow
     * subscriber delays only itself, and misses events once 256 are waiting for it. Cancelling ends only that
     * subscriber's feed.
     *
     * @return a hot {@code Flux} of the events that happen while subscribed; it completes when the client closes
     */
    Flux<LockEvent> events();

    /**
     * How many leases this client currently holds: acquired, not yet released or lost. A lease past its deadline
     * counts as lost, also one whose owner never released it.
     *
     * @return the count, zero or more
     */
    int activeLeases();

    /**
     * What this client knows about each node now, in node order: up or down (health checks), last ping round trip,
     * circuit breaker state, and how long the restart guard still holds it out. Non-blocking snapshot.
     *
     * @return one status per node, in the order of {@link #nodes()}
     */
    List<NodeStatus> nodeStatus();

    /**
     * Closes the client. In order: operations called from now on fail with {@link ClientClosedException}, and so do
     * waits for a lock; acquire attempts in flight end (they may still grant); every lease held by then is released
     * ({@code withLock} scopes end with {@link LeaseLostException.Reason#CLIENT_CLOSED}, {@link Lease#lost()} emits
     * it); every release, also those of failed or cancelled attempts, is waited for until each node answered (at most
     * 3 s per step for nodes that do not); then the connections are closed. When it completes, no key of this client
     * remains on a node that answered. Idempotent: later subscriptions share the first one's outcome.
     *
     * <p>Closing starts with the first subscription; cancelling a subscriber only stops its wait, not the close.
     *
     * @return a lazy {@code Mono} that completes when the client is closed
     */
    Mono<Void> closeAsync();

    /** Blocking {@link #closeAsync()} (at most 10 s); call it from a thread that may block, never an event loop. */
    @Override
    void close();

    /**
     * The longest lease time this client accepts; also how long the restart guard holds out a restarted node.
     *
     * @return the builder's {@link RedLockBuilder#maxLeaseTime(Duration) maxLeaseTime}
     */
    Duration maxLeaseTime();
}
