package dev.redlock.internal.node;

import dev.redlock.NodeHeldOutException;
import dev.redlock.internal.script.LockScript;
import dev.redlock.internal.script.Script;
import java.util.concurrent.CompletionStage;

/**
 * One node as the engine sees it: a connection that runs {@link LockScript}s. The real implementation is
 * {@link LettuceNode}; unit tests use an in-memory fake driven by virtual time.
 *
 * <p>Calls never block. Commands are sent eagerly when called (the engine itself makes its publishers lazy).
 */
public interface NodeChannel {

    /** {@code host:port}. */
    String name();

    /** The open connection, or {@code null} if there is none right now. */
    NodeConnection ready();

    /**
     * Connects if needed (single flight). Completes with an open, verified connection, or fails quickly when the
     * node is in its reconnect backoff.
     */
    CompletionStage<NodeConnection> connect();

    /**
     * Why this node must not count toward a quorum at {@code nowNanos} (the restart guard), or {@code null} when it
     * counts.
     */
    default NodeHeldOutException heldOut(long nowNanos) {
        return null;
    }

    /**
     * Subscribes to release notifications on this node. The stage completes when the node confirmed the
     * subscription; it may never complete while the node is down (notifications are an optimisation).
     */
    CompletionStage<Void> subscribe(String channel, Runnable onMessage);

    /** Undoes {@link #subscribe} if {@code onMessage} is still the channel's handler. */
    void unsubscribe(String channel, Runnable onMessage);

    /**
     * Whether a script may only carry keys of one hash slot on this node: a cluster-mode node, anything whose
     * {@code INFO} did not say {@code redis_mode:standalone} (proxies, managed services), or a node that refused a
     * script with {@code CROSSSLOT}. The renewal batches of all nodes follow the strictest node.
     */
    default boolean slotStrict() {
        return false;
    }

    /** Closes all connections of this node. */
    CompletionStage<Void> closeAsync();

    /** One open connection to a node. */
    interface NodeConnection {

        /** Runs a script; completes with its integer reply or fails with the node's error. */
        CompletionStage<Long> eval(Script script, String[] keys, String[] args);

        /**
         * The reason this node must not count toward a quorum at {@code nowNanos} (the restart guard holds it out),
         * or {@code null} when it counts.
         */
        NodeHeldOutException heldOut(long nowNanos);

        /** Called by the engine when a command to this connection got no reply within the node timeout. */
        default void timedOut(long nowNanos) {}

        /** Called by the engine when a command to this connection got a reply. */
        default void replied(long nowNanos) {}

        /**
         * Completes once this connection is closed (by either side). After that nothing written to it can reach the
         * node any more: connections are closed abortively, dropping bytes not yet sent.
         */
        CompletionStage<Void> closed();
    }
}
