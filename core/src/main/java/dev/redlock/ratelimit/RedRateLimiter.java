package dev.redlock.ratelimit;

import dev.redlock.ClientClosedException;
import dev.redlock.QuorumUnavailableException;
import java.time.Duration;
import reactor.core.publisher.Mono;

/**
 * A distributed rate limiter: one {@link RateLimit} for one name, shared by every client on the same nodes and key
 * prefix. Made by {@code ReactiveRedLock.rateLimiter(name, limit)}; holds no state of its own and costs nothing until
 * used.
 *
 * <p><b>Algorithm.</b> GCRA in one Lua script per node, on the node's clock ({@code TIME}): the key
 * {@code <prefix>rate:{<name>}} holds the theoretical arrival time (TAT), a request for {@code n} permits is admitted
 * when {@code TAT + n·period/permits − burst·period/permits ≤ now} and moves the TAT on by {@code n·period/permits};
 * the key's TTL ends when the TAT is reached, so an idle limiter leaves no key. A client whose clock is off changes
 * nothing, and so does a node whose clock is off (it only ever compares its own times).
 *
 * <p><b>Bounds.</b> In {@link RateLimit.Mode#STRICT} mode the script runs on one node, the one at index
 * {@code floorMod(name.hashCode(), N)} of the nodes sorted by {@code host:port} (the same node for every client that
 * lists the same nodes, in any order): over any interval of length t at most {@code R·t + burst} permits are admitted
 * (R = permits/period), and the limiter fails with {@link QuorumUnavailableException} while that node is down. In
 * {@link RateLimit.Mode#QUORUM} mode (the default) the script runs on every node and a request is admitted when a
 * majority q = N/2 + 1 admitted it: each admitted request consumed capacity on at least q nodes, and N nodes have
 * N times the capacity of one, so at most {@code (N/q)·(R·t + burst)} are admitted (under twice the limit; exactly the
 * limit for N = 1). Two follow-ups keep the count near the limit itself while every node answers, and neither is
 * needed for the bound: a request that a majority refused is refunded on the nodes that admitted it (its share is
 * taken off their TAT again, never below their clock), since split votes would otherwise spend capacity on requests
 * nobody got and a busy limiter would admit far less than its limit; and a request that a majority admitted is
 * charged, without their check, on the nodes that refused it, since otherwise their capacity would go to other
 * requests and a busy limiter would admit up to N/q times its limit. A refund that does not land (a node that stops
 * answering) can only make the limiter admit less; a charge that does not land leaves the N/q bound.
 *
 * <p>Every method is lazy (nothing is sent before subscription) and never blocks; arguments are checked at call
 * time with {@link IllegalArgumentException}.
 *
 * @since 0.1.0
 */
public interface RedRateLimiter {

    /**
     * The name the limiter was made with.
     *
     * @return the name
     */
    String name();

    /**
     * The limit.
     *
     * @return the limit the limiter was made with
     */
    RateLimit limit();

    /**
     * Asks once for {@code permits} permits.
     *
     * <ul>
     *   <li>success: emits the decision, allowed or not (a refusal is not an error);
     *   <li>error: {@link QuorumUnavailableException} when too few nodes answered within the node timeout (the
     *       node of a {@link RateLimit.Mode#STRICT} limiter, or a majority), {@link ClientClosedException} once the
     *       client is closed;
     *   <li>cancel: a request whose decision had not arrived is given back where it was admitted, as a refusal is.
     * </ul>
     *
     * @param permits how many permits, from 1 to the limit's burst
     * @return the decision
     * @throws IllegalArgumentException when {@code permits} is below 1 or above the burst
     */
    Mono<RateLimitDecision> tryAcquire(int permits);

    /**
     * Takes {@code permits} permits, waiting as long as it takes: {@link #acquire(int, Duration)} without a maximum
     * wait. Cancel it to stop waiting.
     *
     * @param permits how many permits, from 1 to the limit's burst
     * @return the decision that granted them
     * @throws IllegalArgumentException when {@code permits} is below 1 or above the burst
     */
    Mono<RateLimitDecision> acquire(int permits);

    /**
     * Takes {@code permits} permits, waiting up to {@code maxWait}. Each refusal carries its retry-after, and the
     * next request is scheduled then on the client's scheduler (no polling); with others taking permits in between,
     * the next answer may be another refusal with a new retry-after.
     *
     * <ul>
     *   <li>success: emits the decision that granted the permits;
     *   <li>error: {@link RateLimitExceededException} carrying the retry-after as soon as a refusal's retry-after
     *       lies beyond what is left of {@code maxWait} (it does not sleep first); {@link QuorumUnavailableException}
     *       when too few nodes answered twice in a row (the request is asked again one node timeout after the first
     *       failure, if the wait allows); {@link ClientClosedException} once the client is closed;
     *   <li>cancel: stops waiting; a request in flight is given back where it was admitted.
     * </ul>
     *
     * @param permits how many permits, from 1 to the limit's burst
     * @param maxWait the longest wait: zero (one request, and the exception if refused) or positive, whole
     *     milliseconds, at most a day
     * @return the decision that granted the permits
     * @throws IllegalArgumentException when {@code permits} is below 1 or above the burst, or {@code maxWait} is
     *     null, negative, longer than a day or not whole milliseconds
     */
    Mono<RateLimitDecision> acquire(int permits, Duration maxWait);
}
