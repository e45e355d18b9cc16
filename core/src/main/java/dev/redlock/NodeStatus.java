package dev.redlock;

import java.time.Duration;
import java.util.Optional;

/** A snapshot of what a client knows about one node, from {@link ReactiveRedLock#nodeStatus()}. Immutable. */
public final class NodeStatus {

    private final String node;
    private final boolean up;
    private final Duration pingLatency;
    private final String circuitBreaker;
    private final Duration heldOutFor;
    private final String lastError;

    public NodeStatus(String node, boolean up, Duration pingLatency, String circuitBreaker, Duration heldOutFor, String lastError) {
        this.node = node;
        this.up = up;
        this.pingLatency = pingLatency;
        this.circuitBreaker = circuitBreaker;
        this.heldOutFor = heldOutFor;
        this.lastError = lastError;
    }

    /** {@code host:port}. */
    public String node() {
        return node;
    }

    /** False once health checks failed several times in a row; true again after one succeeds. */
    public boolean up() {
        return up;
    }

    /** The last health-check round trip, if any check answered yet. */
    public Optional<Duration> pingLatency() {
        return Optional.ofNullable(pingLatency);
    }

    /** The circuit breaker's state: {@code CLOSED}, {@code OPEN}, {@code HALF_OPEN}, or {@code DISABLED}. */
    public String circuitBreaker() {
        return circuitBreaker;
    }

    /** How much longer the restart guard keeps this node out of quorums; zero when it counts. */
    public Duration heldOutFor() {
        return heldOutFor;
    }

    /** Whether this node may count toward a quorum now (up, breaker not open, not held out). */
    public boolean counts() {
        return up && !"OPEN".equals(circuitBreaker) && heldOutFor.isZero();
    }

    /** The message of the last error seen on this node, if any. */
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
