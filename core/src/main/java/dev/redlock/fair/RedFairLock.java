package dev.redlock.fair;

import dev.redlock.Lease;
import dev.redlock.LockKindMismatchException;
import dev.redlock.LockOptions;
import java.time.Duration;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A fair lock on one name: waiters of every client are served by priority, then in order of arrival, through a
 * waiter queue on each node; mutual exclusion is the lock's (a quorum of nodes holds the key with the lease's token).
 *
 * <pre>{@code
 * RedFairLock settlement = redlock.fairLock("settlement");
 * Mono<Report> report = settlement.withPriority(10).withLockMono(lease -> settle(batch));
 * }</pre>
 *
 * <p><b>How it works.</b> A waiter joins a sorted set on every node, scored by its priority (0 to
 * {@value #MAX_PRIORITY}, higher first), then its arrival on the node's clock ({@code TIME}, in ms; never this
 * client's clock). A node grants the key only to the waiter that comes first in its queue, and only while the key is
 * free; the waiter holds the lock when a quorum granted, exactly as with the plain lock. After its first refused
 * attempt a waiter fixes one score (the median of what the nodes gave it) and writes that score on every node, so all
 * nodes order the waiters they hold the same way.
 *
 * <p><b>Nobody is stuck.</b> Each attempt of a waiter is its heartbeat: it renews the waiter's entry, which lapses
 * after the {@linkplain #heartbeatTimeout() heartbeat timeout} (default {@value #DEFAULT_HEARTBEAT_SECONDS} s), and
 * any script that touches the queue first removes lapsed entries. A waiter retries at the latest every third of the
 * heartbeat timeout, and at once when woken. Take the live waiter w that comes first (lowest score): each of its
 * attempts (re)queues it with its agreed score on every node it reaches, where it is then first; once the key is free
 * on a quorum it can reach (the holder released, or its lease expired), w's next attempt is granted there. So while a
 * quorum of nodes is reachable, the lock passes to some waiter within the holder's release (or lease) plus the
 * heartbeat timeout (the time for dead waiters ahead of w to lapse) plus a third of it. A cancelled waiter, or one
 * whose {@code maxWait} ran out, leaves every node's queue at once.
 *
 * <p><b>Order is a fairness property, not a safety one.</b> Without faults, waiters are served by priority and then
 * arrival across all clients (a higher priority that arrives while others wait goes next, after the holder). Under
 * faults the nodes' queues can differ (a node missed a waiter's entry, or pruned it while cut off from it), and a
 * later waiter may then go first; mutual exclusion never depends on the order. Before its first refusal a waiter is
 * ordered by each node's own clock; waiters arriving in the same millisecond of a node are ordered by their ids.
 *
 * <p><b>Wake one.</b> A release wakes only the waiter now first in the queue (its own channel), not every waiter.
 *
 * <p>A name is either a plain lock or a fair lock: an acquire that finds the key held by the other kind, or a nested
 * scope of the other kind on the same name, fails with {@link LockKindMismatchException}.
 *
 * <p>Handles are immutable and cheap; every operation is lazy, and each subscription is a new waiter.
 *
 * @since 0.1.0
 */
public interface RedFairLock {

    /** The highest priority. */
    int MAX_PRIORITY = 1000;

    /** The default heartbeat timeout, in seconds. */
    int DEFAULT_HEARTBEAT_SECONDS = 5;

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
     * The priority of this handle's waiters.
     *
     * @return 0 (the default) to {@value #MAX_PRIORITY}; higher is served first
     */
    int priority();

    /**
     * How long a waiter's entry stays in the nodes' queues without a heartbeat.
     *
     * @return the heartbeat timeout ({@value #DEFAULT_HEARTBEAT_SECONDS} s by default)
     */
    Duration heartbeatTimeout();

    /**
     * This lock with other options.
     *
     * @param options the options
     * @return a new handle
     * @throws IllegalArgumentException for null options, or a lease time above the client's maximum
     */
    RedFairLock withOptions(LockOptions options);

    /**
     * This lock with another priority for its waiters.
     *
     * @param priority 0 to {@value #MAX_PRIORITY}; higher is served first
     * @return a new handle
     * @throws IllegalArgumentException for a priority outside that range
     */
    RedFairLock withPriority(int priority);

    /**
     * This lock with another heartbeat timeout for its waiters.
     *
     * @param heartbeatTimeout between 300 ms and one hour; waiters retry at the latest every third of it
     * @return a new handle
     * @throws IllegalArgumentException for a null timeout or one outside that range
     */
    RedFairLock withHeartbeatTimeout(Duration heartbeatTimeout);

    /**
     * Joins the queue and acquires the lock when this waiter comes first, waiting up to {@code options().maxWait()}.
     *
     * <p>Success: the lease, valid for the lease time minus the elapsed time and drift; release it (or use
     * {@link #withLock}). Error: {@link dev.redlock.LockAcquireTimeoutException} when {@code maxWait} passes,
     * {@link dev.redlock.QuorumUnavailableException} when too few nodes answered, {@link LockKindMismatchException}
     * when a plain lock holds the name; the waiter has left the queue. Cancel: the waiter leaves every node's queue at
     * once, and a lease granted meanwhile is released.
     *
     * @return a lazy {@code Mono} of the lease
     */
    Mono<Lease> acquire();

    /**
     * One attempt, without queuing: the lease when the lock is free and no live waiter comes before this one (so a
     * try never jumps the queue); empty when it is held or others come first. Errors as {@link #acquire()}.
     *
     * @return a lazy {@code Mono} of the lease, or empty
     */
    Mono<Lease> tryAcquire();

    /**
     * Runs {@code body} under the lock, as {@code ReactiveRedLock.withLock} does: acquired on subscribe (in the queue),
     * released on complete, error and cancel; renewed by the watchdog; the body cancelled and a
     * {@link dev.redlock.LeaseLostException} signalled when the lease is lost; nested scopes on the same name reuse
     * the lease.
     *
     * @param body the work, given the lease
     * @param <T> the element type
     * @return a lazy {@code Flux} of the body's elements
     * @throws IllegalArgumentException for a null body
     */
    <T> Flux<T> withLock(Function<? super Lease, ? extends Publisher<? extends T>> body);

    /**
     * {@link #withLock} for a {@code Mono} body: its value is emitted after the release.
     *
     * @param body the work, given the lease
     * @param <T> the value type
     * @return a lazy {@code Mono} of the body's value
     * @throws IllegalArgumentException for a null body
     */
    <T> Mono<T> withLockMono(Function<? super Lease, ? extends Mono<? extends T>> body);

    /**
     * Whether a quorum of nodes holds the lock now.
     *
     * @return a lazy {@code Mono}: true when held
     */
    Mono<Boolean> isLocked();
}
