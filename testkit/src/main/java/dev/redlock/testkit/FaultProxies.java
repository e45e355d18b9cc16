package dev.redlock.testkit;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;

/**
 * One {@link FaultProxy} in front of each node of a {@link RedisServers} group, in node order: proxy {@code i}
 * forwards to {@code servers.get(i)}. Give the client {@link #uris()} instead of {@link RedisServers#uris()}, inject
 * network faults through {@link #get(int)}, and use {@link RedisServer#admin()} to look at a node behind its proxy.
 *
 * <pre>{@code
 * @Test
 * void partitionedMinority(@RedisNodes(5) RedisServers servers) {
 *     try (FaultProxies proxies = FaultProxies.inFrontOf(servers)) {
 *         // ... build the lock client on proxies.uris() ...
 *         proxies.get(0).blackhole(true);
 *         proxies.get(1).latency(Duration.ofMillis(150), Duration.ofMillis(50), FaultProxy.Direction.BOTH);
 *         // ... acquire, expect success on the other 3 ...
 *         proxies.healAll();
 *     }
 * }
 * }</pre>
 *
 * <p>The proxies survive kills and restarts of their nodes. Instances are thread-safe; {@link #inFrontOf} and
 * {@link #close()} block, the other methods do not.
 *
 * @since 0.1.0
 */
public final class FaultProxies implements AutoCloseable, Iterable<FaultProxy> {

    private final List<FaultProxy> proxies;

    private FaultProxies(List<FaultProxy> proxies) {
        this.proxies = List.copyOf(proxies);
    }

    /**
     * Starts one proxy per node of {@code servers}, in node order. Blocking (a few milliseconds per node).
     *
     * @param servers the nodes to put proxies in front of
     * @return the proxies, without faults; close them when done (closing does not touch the nodes)
     * @throws RedisTestkitException when a proxy cannot be started (those already started are closed again)
     */
    public static FaultProxies inFrontOf(RedisServers servers) {
        Objects.requireNonNull(servers, "servers");
        List<FaultProxy> started = new ArrayList<>(servers.size());
        try {
            for (RedisServer server : servers) {
                started.add(FaultProxy.inFrontOf(server));
            }
        } catch (RuntimeException e) {
            for (FaultProxy proxy : started) {
                try {
                    proxy.close();
                } catch (RuntimeException closeFailure) {
                    e.addSuppressed(closeFailure);
                }
            }
            throw e;
        }
        return new FaultProxies(started);
    }

    /**
     * The proxy in front of node {@code index}. Non-blocking.
     *
     * @param index the node index, from 0
     * @return the proxy
     * @throws IndexOutOfBoundsException when {@code index} is not in {@code [0, size())}
     */
    public FaultProxy get(int index) {
        if (index < 0 || index >= proxies.size()) {
            throw new IndexOutOfBoundsException("proxy index " + index + " is out of range [0, " + proxies.size()
                    + ")");
        }
        return proxies.get(index);
    }

    /**
     * The number of proxies, the same as the number of nodes. Non-blocking.
     *
     * @return the count
     */
    public int size() {
        return proxies.size();
    }

    /**
     * The proxies in node order. Non-blocking.
     *
     * @return an unmodifiable list
     */
    public List<FaultProxy> list() {
        return proxies;
    }

    /**
     * The proxies' URIs in node order, to give the client instead of the nodes' URIs. Non-blocking.
     *
     * @return an unmodifiable list such as {@code [redis://127.0.0.1:41234, redis://127.0.0.1:41235]}
     */
    public List<String> uris() {
        List<String> uris = new ArrayList<>(proxies.size());
        for (FaultProxy proxy : proxies) {
            uris.add(proxy.uri());
        }
        return List.copyOf(uris);
    }

    /** {@link FaultProxy#heal()} on every proxy. Non-blocking. */
    public void healAll() {
        for (FaultProxy proxy : proxies) {
            proxy.heal();
        }
    }

    /** Iterates over the proxies in node order. */
    @Override
    public Iterator<FaultProxy> iterator() {
        return proxies.iterator();
    }

    /**
     * Closes every proxy (see {@link FaultProxy#close()}), even if some fail; the nodes keep running. Blocking.
     * Idempotent.
     *
     * @throws RedisTestkitException after all were tried, when one could not be closed
     */
    @Override
    public void close() {
        RuntimeException failure = null;
        for (FaultProxy proxy : proxies) {
            try {
                proxy.close();
            } catch (RuntimeException e) {
                failure = RedisServers.addFailure(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "FaultProxies" + proxies;
    }
}
