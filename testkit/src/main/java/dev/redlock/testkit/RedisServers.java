package dev.redlock.testkit;

import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A group of independent real Redis nodes (no replication, no cluster), as Redlock expects, each a
 * {@code redis-server} process on its own port of {@code 127.0.0.1}. With
 * {@link NodeOptions#withClusterMode(boolean) cluster mode} each node is instead its own one-node Redis Cluster
 * owning all hash slots: still independent masters, but with a cluster-mode endpoint's rules ({@code CROSSSLOT}).
 *
 * <pre>{@code
 * try (RedisServers servers = RedisServers.start(5)) {
 *     servers.get(0).kill();                  // node 0 refuses connections
 *     servers.get(1).pause();                 // node 1 stops answering
 *     List<String> uris = servers.uris();     // ["redis://127.0.0.1:2xxxx", ...]
 * }
 * }</pre>
 *
 * <h2>Where redis-server comes from</h2>
 * The system property {@code redlock.test.redis} (or the environment variable {@code REDLOCK_TEST_REDIS}) selects
 * it:
 * <ul>
 *   <li>unset or {@code embedded} (default): the Redis 6.2 binary shipped inside the
 *       {@code com.github.codemonstur:embedded-redis} jar, extracted once per JVM to
 *       {@code ${java.io.tmpdir}/redlock-testkit-<hash>/redis-server} (Linux and macOS only);</li>
 *   <li>{@code path}: {@code redis-server} found on {@code PATH};</li>
 *   <li>a value containing {@code /}: that {@code redis-server} binary;</li>
 *   <li>{@code testcontainers}: one {@code redis:7.4-alpine} container per node; needs Docker and the optional
 *       {@code org.testcontainers:testcontainers} dependency. {@link RedisServer#pid()} is not available there.</li>
 * </ul>
 *
 * <h2>Ports and processes</h2>
 * Ports are picked from {@code [20000, 32000)}, outside the Linux ephemeral range, and reserved with a file lock in
 * {@code ${java.io.tmpdir}/redlock-testkit-ports} for the node's life, so parallel test JVMs never share one and
 * restarts get theirs back. A cluster-mode node also gets its cluster bus port (port + 10000, fixed by Redis 6.2)
 * reserved, so its port comes from {@code [20000, 22000)}. No process outlives the JVM: {@link #close()} kills
 * them, a shutdown hook kills what is left at exit, and a watcher next to each {@code redis-server} kills it within
 * about a second if the JVM itself is killed with SIGKILL.
 *
 * <p>Instances are thread-safe. All methods except {@link #get(int)}, {@link #size()}, {@link #list()},
 * {@link #uris()}, {@link #persistent()}, {@link #clusterMode()} and {@link #iterator()} block the calling thread.
 *
 * @since 0.1.0
 */
public final class RedisServers implements AutoCloseable, Iterable<RedisServer> {

    private static final Duration RESOURCES_SHUTDOWN_TIMEOUT = Duration.ofSeconds(5);

    private final List<RedisServer> servers;
    private final ClientResources resources;
    private final NodeOptions options;
    private final Object lock = new Object();
    private boolean closed; // guarded by lock

    private RedisServers(List<RedisServer> servers, ClientResources resources, NodeOptions options) {
        this.servers = List.copyOf(servers);
        this.resources = resources;
        this.options = options;
    }

    /**
     * Starts {@code count} nodes without persistence, in parallel, and returns once all of them answer
     * {@code PING}. Blocking (typically well under a second).
     *
     * @param count number of nodes, at least 1
     * @return the running group; close it when done
     * @throws IllegalArgumentException when {@code count < 1}
     * @throws RedisTestkitException when a node cannot be started (nodes already started are closed again)
     */
    public static RedisServers start(int count) {
        return start(count, false);
    }

    /**
     * Starts {@code count} nodes, in parallel, and returns once all of them answer {@code PING}. Blocking.
     *
     * @param count number of nodes, at least 1
     * @param persistence {@code true} for AOF with {@code appendfsync always}, so that acknowledged writes survive
     *     {@link RedisServer#restart()}; {@code false} for no persistence at all (a restarted node is empty)
     * @return the running group; close it when done
     * @throws IllegalArgumentException when {@code count < 1}
     * @throws RedisTestkitException when a node cannot be started (nodes already started are closed again)
     */
    public static RedisServers start(int count, boolean persistence) {
        return start(count, NodeOptions.defaults().withPersistence(persistence));
    }

    /**
     * Starts {@code count} nodes with {@code options}, in parallel, and returns once all of them answer
     * {@code PING} and, in cluster mode, own all 16384 slots with {@code cluster_state:ok} (about 2 s). Blocking.
     *
     * <pre>{@code
     * try (RedisServers servers = RedisServers.start(3, NodeOptions.defaults().withClusterMode(true))) {
     *     servers.get(0).admin().eval("return 1", ScriptOutputType.INTEGER, "{a}1", "{b}2"); // fails: CROSSSLOT
     * }
     * }</pre>
     *
     * @param count number of nodes, at least 1
     * @param options persistence and cluster mode of the nodes
     * @return the running group; close it when done
     * @throws IllegalArgumentException when {@code count < 1}
     * @throws NullPointerException when {@code options} is null
     * @throws RedisTestkitException when a node cannot be started (nodes already started are closed again)
     */
    public static RedisServers start(int count, NodeOptions options) {
        Objects.requireNonNull(options, "options");
        return start(count, options, RedisSource.fromEnvironment());
    }

    static RedisServers start(int count, boolean persistence, RedisSource source) {
        return start(count, NodeOptions.defaults().withPersistence(persistence), source);
    }

    static RedisServers start(int count, NodeOptions options, RedisSource source) {
        if (count < 1) {
            throw new IllegalArgumentException("count must be at least 1 but was " + count);
        }
        Supplier<RedisProcess> processes = processFactory(source, options);
        ClientResources resources = DefaultClientResources.builder()
                .ioThreadPoolSize(2)
                .computationThreadPoolSize(2)
                // reconnect quickly after a restart: the admin connection is checked right after one
                .reconnectDelay(Delay.exponential(Duration.ofMillis(2), Duration.ofMillis(100), 2,
                        TimeUnit.MILLISECONDS))
                .build();
        List<RedisServer> servers = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            servers.add(new RedisServer(i, processes.get(), options, resources));
        }
        RedisServers group = new RedisServers(servers, resources, options);
        try {
            group.forEachInParallel(RedisServer::startFirst);
        } catch (RuntimeException e) {
            try {
                group.close();
            } catch (RuntimeException closeFailure) {
                e.addSuppressed(closeFailure);
            }
            throw e;
        }
        return group;
    }

    private static Supplier<RedisProcess> processFactory(RedisSource source, NodeOptions options) {
        if (source.kind() == RedisSource.Kind.TESTCONTAINERS) {
            try {
                Class.forName("org.testcontainers.DockerClientFactory", false, RedisServers.class.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                throw new RedisTestkitException(source.describe() + " but org.testcontainers:testcontainers is not"
                        + " on the classpath; it is an optional dependency of redlock-testkit, add it to the test"
                        + " dependencies", e);
            }
            ContainerRedisProcess.requireDocker(source);
            return () -> new ContainerRedisProcess(options.persistence(), options.clusterMode());
        }
        Path binary = RedisBinary.resolve(source);
        return () -> new LocalRedisProcess(binary, options.persistence(), options.clusterMode());
    }

    /**
     * The node at {@code index}. Non-blocking.
     *
     * @param index the node index, from 0
     * @return the node
     * @throws IndexOutOfBoundsException when {@code index} is not in {@code [0, size())}
     */
    public RedisServer get(int index) {
        if (index < 0 || index >= servers.size()) {
            throw new IndexOutOfBoundsException("node index " + index + " is out of range [0, " + servers.size()
                    + ") of " + this);
        }
        return servers.get(index);
    }

    /**
     * The number of nodes. Non-blocking.
     *
     * @return the node count
     */
    public int size() {
        return servers.size();
    }

    /**
     * The nodes in index order. Non-blocking.
     *
     * @return an unmodifiable list of the nodes
     */
    public List<RedisServer> list() {
        return servers;
    }

    /**
     * The nodes' URIs in index order; stable across restarts. Non-blocking.
     *
     * @return an unmodifiable list such as {@code [redis://127.0.0.1:23456, redis://127.0.0.1:27001]}
     */
    public List<String> uris() {
        List<String> uris = new ArrayList<>(servers.size());
        for (RedisServer server : servers) {
            uris.add(server.uri());
        }
        return List.copyOf(uris);
    }

    /**
     * Whether the nodes were started with persistence (see {@link #start(int, boolean)}). Non-blocking.
     *
     * @return true when started with persistence
     */
    public boolean persistent() {
        return options.persistence();
    }

    /**
     * Whether the nodes run in cluster mode, each its own one-node cluster (see
     * {@link NodeOptions#withClusterMode(boolean)}). Non-blocking.
     *
     * @return true when started in cluster mode
     */
    public boolean clusterMode() {
        return options.clusterMode();
    }

    /**
     * The keys matching {@code pattern} on every node, found with {@code SCAN}: element {@code i} holds the sorted
     * keys of {@link #get(int) get(i)}. A node that is killed or paused contributes an empty list (it cannot be
     * asked); use {@link RedisServer#keys(String)} to get an error instead. Blocking.
     *
     * <p>For example, the number of nodes holding a lock key:
     * {@code servers.keys("lock:a").stream().filter(k -> !k.isEmpty()).count()}.
     *
     * @param pattern a {@code MATCH} pattern such as {@code lock:*}
     * @return one unmodifiable list per node, in index order
     */
    public List<List<String>> keys(String pattern) {
        List<List<String>> keys = new ArrayList<>(servers.size());
        for (RedisServer server : servers) {
            keys.add(server.isRunning() && !server.isPaused() ? server.keys(pattern) : List.of());
        }
        return List.copyOf(keys);
    }

    /** {@code FLUSHALL} on every node that is running and not paused; killed or paused nodes are skipped. Blocking. */
    public void flushAll() {
        for (RedisServer server : servers) {
            if (server.isRunning() && !server.isPaused()) {
                server.flushAll();
            }
        }
    }

    /**
     * Brings every node back to a clean state, as {@link RedisServersExtension} does before each test: cancels
     * pending {@link RedisServer#restartAfter(Duration) delayed restarts}, resumes paused nodes, restarts killed ones
     * (on their ports) and flushes all data; in cluster mode it also gives every node back any slot it lost and
     * waits for {@code cluster_state:ok}. Blocking.
     *
     * @throws IllegalStateException when the group is closed
     */
    public void reset() {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("reset() called on " + this + ", which is closed");
            }
        }
        forEachInParallel(RedisServer::reset);
    }

    /** Iterates over the nodes in index order. */
    @Override
    public Iterator<RedisServer> iterator() {
        return servers.iterator();
    }

    /**
     * Closes every node (kills it, releases its port, deletes its directory), even if some fail, then releases the
     * shared Lettuce resources. Blocking. Idempotent.
     *
     * @throws RedisTestkitException after everything was tried, when something could not be closed
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        RuntimeException failure = null;
        try {
            forEachInParallel(RedisServer::close);
        } catch (RuntimeException e) {
            failure = e;
        }
        try {
            resources.shutdown(0, RESOURCES_SHUTDOWN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .get(RESOURCES_SHUTDOWN_TIMEOUT.toMillis() * 2, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = addFailure(failure, new RedisTestkitException("Interrupted while shutting down Lettuce", e));
        } catch (ExecutionException | TimeoutException e) {
            failure = addFailure(failure, new RedisTestkitException("Cannot shut down the Lettuce resources of "
                    + this, e));
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Runs {@code action} on all nodes in parallel and waits; throws the first failure, others suppressed. */
    private void forEachInParallel(Consumer<RedisServer> action) {
        List<CompletableFuture<Void>> futures = new ArrayList<>(servers.size());
        for (RedisServer server : servers) {
            futures.add(CompletableFuture.runAsync(() -> action.accept(server), RedisServer.WORKERS));
        }
        RuntimeException failure = null;
        for (CompletableFuture<Void> future : futures) {
            try {
                future.join();
            } catch (CompletionException e) {
                Throwable cause = e.getCause() == null ? e : e.getCause();
                RuntimeException runtime = cause instanceof RuntimeException ? (RuntimeException) cause
                        : new RedisTestkitException(cause.toString(), cause);
                failure = addFailure(failure, runtime);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Keeps the first failure and attaches later ones to it as suppressed, so closing goes on past errors. */
    static RuntimeException addFailure(RuntimeException first, RuntimeException next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    @Override
    public String toString() {
        List<String> uris = new ArrayList<>(servers.size());
        for (RedisServer server : servers) {
            uris.add(server.describeUri());
        }
        return "RedisServers" + uris + (options.persistence() ? " with persistence" : "")
                + (options.clusterMode() ? " in cluster mode" : "");
    }
}
