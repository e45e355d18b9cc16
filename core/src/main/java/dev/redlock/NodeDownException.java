package dev.redlock;

import dev.redlock.internal.Checks;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * The cause recorded for a node the client cannot reach right now: its last connection attempt failed and the next
 * one is not due yet. Found in {@link QuorumUnavailableException#nodeFailures()}.
 *
 * @since 0.1.0
 */
public final class NodeDownException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The node, {@code host:port}. */
    private final String node;

    /**
     * The cause for a node whose last connection attempt failed, as the client records it.
     *
     * @param node the node, {@code host:port}
     * @param lastFailure the error of the last connection attempt, or {@code null} if none is known; it becomes the
     *     cause
     * @param retryInNanos how long until the next connection attempt, in nanoseconds (shown in milliseconds)
     */
    public NodeDownException(String node, @Nullable Throwable lastFailure, long retryInNanos) {
        super("node " + node + " is down (next connection attempt in " + Duration.ofNanos(Math.max(0, retryInNanos)).toMillis()
                + " ms)" + (lastFailure == null ? "" : ": " + Checks.describe(lastFailure)), lastFailure, false, false);
        this.node = node;
    }

    /**
     * The cause for a node the client skips for another reason (its circuit breaker is open), as the client records
     * it.
     *
     * @param node the node, {@code host:port}
     * @param reason why it is skipped, for the message
     */
    public NodeDownException(String node, String reason) {
        super("node " + node + " is down: " + reason, null, false, false);
        this.node = node;
    }

    /**
     * The node that is down.
     *
     * @return {@code host:port}
     */
    public String node() {
        return node;
    }
}
