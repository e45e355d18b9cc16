package dev.redlock;

import java.time.Duration;

/**
 * The cause recorded for a node that answered but did not count toward a quorum, because the {@link RestartGuard}
 * holds it out after a restart. Found in {@link QuorumUnavailableException#nodeFailures()}.
 */
public final class NodeHeldOutException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String node;
    private final Duration remaining;

    public NodeHeldOutException(String node, String reason, Duration remaining) {
        super("node " + node + " is held out of quorums for another " + remaining + " by the restart guard: " + reason,
                null, false, false);
        this.node = node;
        this.remaining = remaining;
    }

    /** The node, {@code host:port}. */
    public String node() {
        return node;
    }

    /** How much longer it stays out. */
    public Duration remaining() {
        return remaining;
    }
}
