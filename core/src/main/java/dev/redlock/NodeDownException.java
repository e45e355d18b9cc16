package dev.redlock;

import dev.redlock.internal.Checks;
import java.time.Duration;

/**
 * The cause recorded for a node the client cannot reach right now: its last connection attempt failed and the next
 * one is not due yet. Found in {@link QuorumUnavailableException#nodeFailures()}.
 */
public final class NodeDownException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String node;

    public NodeDownException(String node, Throwable lastFailure, long retryInNanos) {
        super("node " + node + " is down (next connection attempt in " + Duration.ofNanos(Math.max(0, retryInNanos)).toMillis()
                + " ms)" + (lastFailure == null ? "" : ": " + Checks.describe(lastFailure)), lastFailure, false, false);
        this.node = node;
    }

    public NodeDownException(String node, String reason) {
        super("node " + node + " is down: " + reason, null, false, false);
        this.node = node;
    }

    /** The node, {@code host:port}. */
    public String node() {
        return node;
    }
}
