package dev.redlock;

import java.time.Duration;

/**
 * The cause recorded for a node that answered but did not count toward a quorum, because the {@link RestartGuard}
 * holds it out after a restart. Found in {@link QuorumUnavailableException#nodeFailures()}.
 *
 * @since 0.1.0
 */
public final class NodeHeldOutException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The node, {@code host:port}. */
    private final String node;
    /** How much longer it stays out. */
    private final Duration remaining;

    /**
     * Creates the exception, as the client does.
     *
     * @param node the node, {@code host:port}
     * @param reason why the guard holds it out (a new {@code run_id}, a young uptime, ...), for the message
     * @param remaining how much longer it stays out
     */
    public NodeHeldOutException(String node, String reason, Duration remaining) {
        super("node " + node + " is held out of quorums for another " + remaining + " by the restart guard: " + reason,
                null, false, false);
        this.node = node;
        this.remaining = remaining;
    }

    /**
     * The node that is held out.
     *
     * @return {@code host:port}
     */
    public String node() {
        return node;
    }

    /**
     * How much longer the node stays out of quorums, from when this exception was made.
     *
     * @return the remaining hold-out time
     */
    public Duration remaining() {
        return remaining;
    }
}
