package dev.redlock.testkit;

import org.jspecify.annotations.Nullable;

/**
 * How the nodes of a {@link RedisServers} group run, for {@link RedisServers#start(int, NodeOptions)}. Immutable;
 * each {@code with...} method returns a copy.
 *
 * <pre>{@code
 * RedisServers.start(3, NodeOptions.defaults().withClusterMode(true));   // 3 independent one-node clusters
 * }</pre>
 *
 * @since 0.1.0
 */
public final class NodeOptions {

    private static final NodeOptions DEFAULTS = new NodeOptions(false, false);

    private final boolean persistence;
    private final boolean clusterMode;

    private NodeOptions(boolean persistence, boolean clusterMode) {
        this.persistence = persistence;
        this.clusterMode = clusterMode;
    }

    /**
     * No persistence, no cluster mode: what {@link RedisServers#start(int)} uses.
     *
     * @return the default options
     */
    public static NodeOptions defaults() {
        return DEFAULTS;
    }

    /**
     * Sets persistence: {@code true} for AOF with {@code appendfsync always}, so that acknowledged writes survive
     * {@link RedisServer#restart()}; {@code false} (default) for no persistence at all (a restarted node is empty).
     *
     * @param persistence whether nodes persist writes
     * @return a copy with this setting
     */
    public NodeOptions withPersistence(boolean persistence) {
        return new NodeOptions(persistence, clusterMode);
    }

    /**
     * Sets cluster mode: {@code true} runs every node with {@code --cluster-enabled yes} as its own one-node Redis
     * Cluster that owns all 16384 hash slots, so it behaves like a cluster-mode endpoint (it rejects a command or
     * script whose keys span hash slots with {@code CROSSSLOT}) while the nodes stay independent masters, as
     * Redlock expects. A node is handed out, and after every restart handed back, only once it owns all slots and
     * {@code CLUSTER INFO} says {@code cluster_state:ok}; that takes about 2 s after each start, the time Redis keeps
     * a starting master's cluster state {@code fail}. {@code false} (default): plain standalone nodes.
     *
     * @param clusterMode whether nodes run in cluster mode
     * @return a copy with this setting
     */
    public NodeOptions withClusterMode(boolean clusterMode) {
        return new NodeOptions(persistence, clusterMode);
    }

    /**
     * Whether nodes persist writes; see {@link #withPersistence(boolean)}.
     *
     * @return the persistence setting
     */
    public boolean persistence() {
        return persistence;
    }

    /**
     * Whether nodes run in cluster mode; see {@link #withClusterMode(boolean)}.
     *
     * @return the cluster-mode setting
     */
    public boolean clusterMode() {
        return clusterMode;
    }

    @Override
    public boolean equals(@Nullable Object other) {
        return other instanceof NodeOptions o && o.persistence == persistence && o.clusterMode == clusterMode;
    }

    @Override
    public int hashCode() {
        return (persistence ? 1 : 0) + (clusterMode ? 2 : 0);
    }

    /** E.g. {@code NodeOptions[persistence=false, clusterMode=true]}. */
    @Override
    public String toString() {
        return "NodeOptions[persistence=" + persistence + ", clusterMode=" + clusterMode + "]";
    }
}
