package dev.redlock.semaphore;

import dev.redlock.LeaseLostException;
import dev.redlock.LockAcquireTimeoutException;
import dev.redlock.LockOptions;
import dev.redlock.QuorumUnavailableException;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A semaphore of {@link #permits()} leased permits over the client's nodes: {@code redlock.semaphore("partner-api",
 * 10)}. Permits are owned by a token, expire on the nodes after the lease time unless renewed, and are handed out and
 * released with the lock's habits: lazy, cancel-safe, scoped, watchdog-renewed, honest about loss.
 *
 * <pre>{@code
 * RedSemaphore partner = redlock.semaphore("partner-api", 10);
 * Mono<Quote> quote = partner.withPermits(1, permit -> partnerClient.quote(order));
 * }</pre>
 *
 * <p><b>Never more than P permits held at once.</b> The semaphore is P slots, each a Redlock mutex. An acquire of
 * {@code n} permits asks every node for the same {@code n} slots; each node grants all of them or none, in one
 * script; the acquire succeeds when a majority granted, before its validity ran out, exactly as the lock does. Two
 * leases that hold the same slot would each have a majority of nodes granting it, and two majorities share a node,
 * which grants a slot to one token at a time until its deadline. So, under the lock's assumptions (the restart guard
 * on, clocks that advance at about the same rate, drift within the configured factor), each slot has at most one
 * valid holder, and at most P permits are held. (A counter per node admitted by a quorum does not give this: with
 * P = 2 on 3 nodes, three holders can each hold a different majority.) With one node it is a plain single-Redis
 * semaphore. See docs/safety.md.
 *
 * <p><b>Waiting.</b> A release publishes on the semaphore's channel and wakes the waiters; the backoff is the
 * fallback. Fairness: a refused request reserves the next permits on each node unless another waiter's reservation
 * asks for more, or as many with a smaller (random) waiter id; while a reservation for {@code m} permits lives,
 * another request is granted only if {@code m} permits stay free after it. So a request for {@code n > 1} permits is
 * never starved by a stream of smaller requests: once it holds the reservation, it gets the next {@code n} permits
 * that free up. Requests of equal size are served in no promised order across clients (in order within one client,
 * whose waiters try one at a time). A reservation lives a little longer than the waiter's longest pause between
 * attempts (at least 1 s) after its last attempt; a waiter that gives up leaves it to expire.
 *
 * <p>A handle costs nothing. Bad input fails at call time with {@link IllegalArgumentException}; two clients that
 * declare different numbers of permits for the same name get {@link PermitsMismatchException}.
 *
 * @since 0.1.0
 */
public interface RedSemaphore {

    /**
     * The semaphore's name, as given.
     *
     * @return the name
     */
    String name();

    /**
     * The number of permits, P.
     *
     * @return P, between 1 and 4096
     */
    int permits();

    /**
     * The options this handle's operations use: lease time, maxWait, node timeout, backoff, watchdog. Fencing does not
     * apply to permits.
     *
     * @return the options
     */
    LockOptions options();

    /**
     * A handle on the same semaphore whose operations use {@code options}.
     *
     * @param options the options, checked as the client checks them
     * @return a new handle
     * @throws IllegalArgumentException for null options, a lease time above the client's maximum lease time, or
     *     fencing or an adaptive lease time turned on
     */
    RedSemaphore withOptions(LockOptions options);

    /**
     * Acquires {@code n} permits, waiting up to {@code maxWait}.
     *
     * <p>Success: the lease, which the subscriber must release (or use {@link #withPermits}). Error:
     * {@link LockAcquireTimeoutException} when maxWait passed while the permits were taken,
     * {@link QuorumUnavailableException} when too few nodes answered, {@link PermitsMismatchException}. Cancel: stops
     * waiting; permits granted to an attempt in flight are released on every node. Lazy.
     *
     * @param n the number of permits, between 1 and {@link #permits()}
     * @return a lazy {@code Mono} of the lease
     * @throws IllegalArgumentException at call time when {@code n} is out of range
     */
    Mono<PermitLease> acquire(int n);

    /**
     * One attempt to take {@code n} permits.
     *
     * @param n the number of permits, between 1 and {@link #permits()}
     * @return a lazy {@code Mono} of the lease, empty when the permits are taken; errors as {@link #acquire}
     * @throws IllegalArgumentException at call time when {@code n} is out of range
     */
    Mono<PermitLease> tryAcquire(int n);

    /**
     * Runs {@code body} holding {@code n} permits: acquired on subscribe, released when the body completes, errors or
     * is cancelled (also a cancel during the acquire), renewed by the watchdog while it runs. When the permits are
     * lost the body is cancelled and the result fails with {@link LeaseLostException}. A nested {@code withPermits}
     * on the same semaphore in the body's pipeline runs under these permits (it may ask for at most as many).
     *
     * @param n the number of permits, between 1 and {@link #permits()}
     * @param body makes the publisher to run under the permits
     * @param <T> the element type
     * @return a lazy {@code Flux} of the body's elements; errors as {@link #acquire}, or the body's error
     * @throws IllegalArgumentException at call time for a bad {@code n} or a null body
     */
    <T> Flux<T> withPermits(int n, Function<? super PermitLease, ? extends Publisher<? extends T>> body);

    /**
     * {@link #withPermits(int, Function)} for a {@code Mono} body: its value is emitted once the permits are
     * released.
     *
     * @param n the number of permits, between 1 and {@link #permits()}
     * @param body makes the {@code Mono} to run under the permits
     * @param <T> the value type
     * @return a lazy {@code Mono} of the body's value
     * @throws IllegalArgumentException at call time for a bad {@code n} or a null body
     */
    <T> Mono<T> withPermitsMono(int n, Function<? super PermitLease, ? extends Mono<? extends T>> body);

    /**
     * {@link #withPermits(int, Function)} for a body that needs no lease.
     *
     * @param n the number of permits
     * @param body the publisher to run under the permits, subscribed once they are held
     * @param <T> the element type
     * @return a lazy {@code Flux} of the body's elements
     * @throws IllegalArgumentException at call time for a bad {@code n} or a null body
     */
    <T> Flux<T> withPermits(int n, Flux<? extends T> body);

    /**
     * {@link #withPermitsMono(int, Function)} for a body that needs no lease.
     *
     * @param n the number of permits
     * @param body the {@code Mono} to run under the permits
     * @param <T> the value type
     * @return a lazy {@code Mono} of the body's value
     * @throws IllegalArgumentException at call time for a bad {@code n} or a null body
     */
    <T> Mono<T> withPermits(int n, Mono<? extends T> body);

    /**
     * How many permits are free, as a quorum of nodes sees it: the smallest count among the first quorum of nodes to
     * answer (exact when the nodes agree, which they do but for attempts in flight and faults). An estimate for
     * dashboards and admission hints: permits may be taken or freed as it is answered.
     *
     * @return a lazy {@code Mono} of the count, between 0 and P; errors with {@link QuorumUnavailableException} or
     *     {@link PermitsMismatchException}
     */
    Mono<Integer> availablePermits();
}
