package dev.redlock.metrics;

import dev.redlock.LeaseLostException;
import dev.redlock.NodeStatus;
import java.time.Duration;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Receives what a client measures: how acquires end, how long they waited and held, renewals, losses, and node
 * state. The Micrometer binding implements it; an application may implement it too. Every method has a no-op
 * default, so a recorder overrides only what it wants, and methods added later do not break it.
 *
 * <p>Called on the threads that run lock operations (Lettuce's event loops, the client's scheduler): an
 * implementation must be fast and must not block (a Micrometer counter or timer update is fine). An exception it
 * throws is logged and otherwise ignored: metrics never fail a lock operation.
 *
 * <p>{@code name} is the lock's name as the caller gave it (a semaphore's, a rate limiter's, a read-write lock's
 * name, a hierarchical lock's path, a multi-key lock's keys joined by commas); names can be unbounded, so a recorder
 * that turns them into tags should group them first.
 *
 * @since 0.1.0
 */
public interface LockMetricsRecorder {

    /** A recorder that records nothing: the default. */
    LockMetricsRecorder NOOP = new LockMetricsRecorder() {};

    /**
     * How an acquire ended.
     *
     * @since 0.1.0
     */
    enum AcquireOutcome {
        /** A lease was handed out. */
        ACQUIRED,
        /** The lock stayed held by another owner until {@code maxWait} ran out ({@code LockAcquireTimeoutException}). */
        TIMED_OUT,
        /** Too few nodes answered ({@code QuorumUnavailableException}). */
        QUORUM_UNAVAILABLE,
        /** The client was closed. */
        CLOSED,
        /** The subscriber cancelled before the outcome. */
        CANCELLED,
        /** Any other error. */
        ERROR
    }

    /**
     * An acquire ended.
     *
     * @param name the lock's name
     * @param outcome how it ended
     * @param waited from subscription to the outcome, waiting for a held lock included
     */
    default void acquireEnded(String name, AcquireOutcome outcome, Duration waited) {}

    /**
     * A lease was handed out.
     *
     * @param name the lock's name
     * @param validity how long it was valid when handed out: the lease time minus the time the quorum took and the
     *     clock drift (a small margin means slow nodes or a lease time too short for them)
     */
    default void leaseAcquired(String name, Duration validity) {}

    /**
     * A renewal ended.
     *
     * @param name the lock's name
     * @param renewed whether a quorum renewed in time; a failed renewal leaves the lease valid until its deadline
     */
    default void leaseRenewed(String name, boolean renewed) {}

    /**
     * A lease was lost.
     *
     * @param name the lock's name
     * @param reason why
     */
    default void leaseLost(String name, LeaseLostException.Reason reason) {}

    /**
     * A lease was released.
     *
     * @param name the lock's name
     * @param held from the acquire to the release
     * @param confirmed whether enough nodes confirmed it is gone ({@code false}: its keys expire with the lease
     *     time)
     */
    default void leaseReleased(String name, Duration held, boolean confirmed) {}

    /**
     * The adaptive lease time of a group of locks changed ({@code LockOptions.adaptiveLeaseTime}): reported by the
     * first acquire that uses the new figure, and by the group's first acquire.
     *
     * @param group the group, as {@code RedLockBuilder.adaptiveLeaseGroups} made it from the lock's name (the name
     *     itself by default)
     * @param leaseTime the lease time acquires of the group use now
     * @since 0.1.0
     */
    default void adaptiveLeaseTime(String group, Duration leaseTime) {}

    /**
     * A node went down (health checks failed) or came back up.
     *
     * @param node {@code host:port}
     * @param up whether it is up now
     */
    default void nodeStateChanged(String node, boolean up) {}

    /**
     * The restart guard holds a node out of quorums.
     *
     * @param node {@code host:port}
     * @param heldOutFor for how long
     */
    default void nodeHeldOut(String node, Duration heldOutFor) {}
    /**
     * How one node answered one command of a quorum call (an acquire, renewal, release or query script).
     *
     * @since 0.1.0
     */
    enum NodeReply {
        /** It answered and counts toward the quorum: granted, renewed, released. */
        YES,
        /** It answered no: held by another owner, not held any more. */
        NO,
        /** It failed: a connection error or an error reply. */
        ERROR,
        /** No reply within the node timeout. */
        TIMEOUT,
        /** Not asked: its circuit breaker is open, or the restart guard holds it out. */
        SKIPPED
    }

    /**
     * A node answered (or failed) one command of a quorum call. Reported only where a recorder is installed, once
     * per node per command, on the thread of the reply.
     *
     * @param node {@code host:port}
     * @param script the script's name ({@code acquire}, {@code extend}, {@code release}, {@code fair-acquire}, ...: a
     *     fixed set, fit for a tag)
     * @param reply how it answered
     * @param latency from sending the command to the reply (to the timeout for {@link NodeReply#TIMEOUT})
     * @since 0.1.0
     */
    default void nodeReplied(String node, String script, NodeReply reply, Duration latency) {}

    /**
     * A node's circuit breaker changed state.
     *
     * @param node {@code host:port}
     * @param state its new state
     * @since 0.1.0
     */
    default void breakerStateChanged(String node, NodeStatus.BreakerState state) {}

    /**
     * The permits this client holds of a semaphore changed: {@code delta > 0} when a permit lease was granted,
     * {@code < 0} when it was released or lost.
     *
     * @param semaphore the semaphore's name
     * @param delta the change
     * @since 0.1.0
     */
    default void permitsHeld(String semaphore, int delta) {}

    /**
     * A rate limiter decided a request.
     *
     * @param limiter the limiter's name
     * @param allowed whether the request was let through
     * @since 0.1.0
     */
    default void rateLimitDecided(String limiter, boolean allowed) {}

    /**
     * Wraps every acquire of a lock (from subscription to the lease, an error or cancel), for an Observation or a
     * span around it; the Micrometer binding taps it with {@code Micrometer.observation}. The default returns it as
     * it is. Called at assembly; what it returns must stay lazy and must pass cancellation through.
     *
     * @param name the lock's name
     * @param acquire the acquire
     * @param <T> the lease type
     * @return the acquire, wrapped
     * @since 0.1.0
     */
    default <T> Mono<T> observeAcquire(String name, Mono<T> acquire) {
        return acquire;
    }

    /**
     * Wraps the body of every scope ({@code withLock}, {@code withPermits}, ...) that runs while a lease is held, for
     * an Observation or a span around the hold; work the body does shows up inside it. The default returns it as it
     * is. Called at assembly; what it returns must stay lazy and must pass cancellation through.
     *
     * @param name the lock's name
     * @param body the body
     * @param <T> the body's element type
     * @return the body, wrapped
     * @since 0.1.0
     */
    default <T> Flux<T> observeHold(String name, Flux<T> body) {
        return body;
    }

    /**
     * A recorder that passes every call to each of {@code recorders} in order (a Micrometer binding and the
     * monitoring server's statistics, say). One that throws does not keep the others from their calls: the client
     * logs and ignores what each throws.
     *
     * @param recorders the recorders
     * @return one recorder for all of them
     * @throws IllegalArgumentException when {@code recorders} is empty or holds {@code null}
     * @since 0.1.0
     */
    static LockMetricsRecorder composite(LockMetricsRecorder... recorders) {
        return CompositeRecorder.of(recorders);
    }
}
