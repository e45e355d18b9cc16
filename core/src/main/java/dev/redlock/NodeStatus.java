package dev.redlock;

import java.time.Duration;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A snapshot of what a client knows about one node, from {@link ReactiveRedLock#nodeStatus()}. Immutable.
 *
 * @since 0.1.0
 */
public final class NodeStatus {

    /**
     * The state of a node's circuit breaker ({@link BreakerOptions}).
     *
     * @since 0.1.0
     */
    public enum BreakerState {
        /** Calls go to the node. */
        CLOSED,
        /** The node is skipped while the other nodes can form a quorum. */
        OPEN,
        /** A few calls probe whether the node is back. */
        HALF_OPEN,
        /** The client has no breakers ({@link BreakerOptions#disabled()}). */
        DISABLED
    }

    private final String node;
    private final boolean up;
    private final @Nullable Duration pingLatency;
    private final BreakerState circuitBreaker;
    private final Duration heldOutFor;
    private final @Nullable String lastError;

    /**
     * A snapshot.
     *
     * @param node {@code host:port}
     * @param up whether health checks say the node is up
     * @param pingLatency the last health-check round trip, or {@code null} before the first
     * @param circuitBreaker the breaker's state
     * @param heldOutFor how much longer the restart guard holds the node out (zero when it counts)
     * @param lastError the message of the last error seen on the node, or {@code null}
     */
    public NodeStatus(String node, boolean up, @Nullable Duration pingLatency, BreakerState circuitBreaker,
            Duration heldOutFor, @Nullable String lastError) {
        this.node = node;
        this.up = up;
        this.pingLatency = pingLatency;
        this.circuitBreaker = circuitBreaker;
        this.heldOutFor = heldOutFor;
        this.lastError = lastError;
    }

    /**
     * The node.
     *
     * @return {@code host:port}
     */
    public String node() {
        return node;
    }

    /**
     * Whether health checks say the node is up.
     *
     * @return {@code false} once health checks failed several times in a row; {@code true} again after one succeeds
     */
    public boolean up() {
        return up;
    }

    /**
     * The last health-check round trip.
     *
     * @return the round trip; empty before any check answered
     */
    public Optional<Duration> pingLatency() {
        return Optional.ofNullable(pingLatency);
    }

    /**
     * The circuit breaker's state.
     *
     * @return the state
     */
    public BreakerState circuitBreaker() {
        return circuitBreaker;
    }

    /**
     * How much longer the restart guard keeps this node out of quorums.
     *
     * @return the remaining hold-out time; zero when the guard lets it count
     */
    public Duration heldOutFor() {
        return heldOutFor;
    }

    /**
     * Whether this node may count toward a quorum now.
     *
     * @return {@code true} when it is up, its breaker is not open and the restart guard does not hold it out
     */
    public boolean counts() {
        return up && circuitBreaker != BreakerState.OPEN && heldOutFor.isZero();
    }

    /**
     * The message of the last error seen on this node.
     *
     * @return the message; empty when no error was seen
     */
    public Optional<String> lastError() {
        return Optional.ofNullable(lastError);
    }

    @Override
    public String toString() {
        return "NodeStatus{" + node + (up ? " up" : " DOWN") + ", ping=" + pingLatency + ", breaker=" + circuitBreaker
                + (heldOutFor.isZero() ? "" : ", heldOutFor=" + heldOutFor) + (lastError == null ? "" : ", lastError=" + lastError)
                + '}';
    }
}
