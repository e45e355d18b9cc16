package dev.redlock;

import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
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
    private final long usedMemory;
    private final long maxMemory;

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
        this(node, up, pingLatency, circuitBreaker, heldOutFor, lastError, -1, -1);
    }

    /**
     * A snapshot with the node's memory figures.
     *
     * @param node {@code host:port}
     * @param up whether health checks say the node is up
     * @param pingLatency the last health-check round trip, or {@code null} before the first
     * @param circuitBreaker the breaker's state
     * @param heldOutFor how much longer the restart guard holds the node out (zero when it counts)
     * @param lastError the message of the last error seen on the node, or {@code null}
     * @param usedMemory {@code used_memory} of the node's {@code INFO memory} in bytes at the last health check, or
     *     -1 before the first
     * @param maxMemory its {@code maxmemory} in bytes (0: no limit), or -1 before the first health check
     * @since 0.1.0
     */
    public NodeStatus(String node, boolean up, @Nullable Duration pingLatency, BreakerState circuitBreaker,
            Duration heldOutFor, @Nullable String lastError, long usedMemory, long maxMemory) {
        this.node = node;
        this.up = up;
        this.pingLatency = pingLatency;
        this.circuitBreaker = circuitBreaker;
        this.heldOutFor = heldOutFor;
        this.lastError = lastError;
        this.usedMemory = usedMemory;
        this.maxMemory = maxMemory;
    }

    /**
     * The memory the node used at the last health check ({@code used_memory} of {@code INFO memory}).
     *
     * @return bytes; empty before the first health check that read it
     * @since 0.1.0
     */
    public OptionalLong usedMemory() {
        return usedMemory < 0 ? OptionalLong.empty() : OptionalLong.of(usedMemory);
    }

    /**
     * The node's memory limit at the last health check ({@code maxmemory} of {@code INFO memory}).
     *
     * @return bytes, 0 when the node has no limit; empty before the first health check that read it
     * @since 0.1.0
     */
    public OptionalLong maxMemory() {
        return maxMemory < 0 ? OptionalLong.empty() : OptionalLong.of(maxMemory);
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
                + (usedMemory < 0 ? "" : ", usedMemory=" + usedMemory + ", maxMemory=" + maxMemory) + '}';
    }
}
