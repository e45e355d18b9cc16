package dev.redlock.metrics;

import dev.redlock.LeaseLostException;
import java.time.Duration;

/**
 * Receives what a client measures: how acquires end, how long they waited and held, renewals, losses, and node
 * state. The Micrometer binding implements it; an application may implement it too. Every method has a no-op
 * default, so a recorder overrides only what it wants, and methods added later do not break it.
 *
 * <p>Called on the threads that run lock operations (Lettuce's event loops, the client's scheduler): an
 * implementation must be fast and must not block (a Micrometer counter or timer update is fine). An exception it
 * throws is logged and otherwise ignored: metrics never fail a lock operation.
 *
 * <p>{@code name} is the lock's name as the caller gave it; names can be unbounded, so a recorder that turns them into
 * tags should group them first.
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
}
