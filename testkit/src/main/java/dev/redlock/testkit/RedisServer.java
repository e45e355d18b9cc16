package dev.redlock.testkit;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.resource.ClientResources;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * One real Redis node of a {@link RedisServers} group, with fault injection and an admin connection.
 *
 * <p>The node listens on {@link #host()}:{@link #port()}, which stay the same for its whole life, restarts included.
 * Every fault method blocks the calling thread until the fault is in effect and is meant to be called from the test
 * thread, never from a reactive (non-blocking) thread. Methods other than {@link #restartAfter(Duration)} return
 * only when their effect is complete.
 *
 * <p>{@link #admin()} talks to the node directly (bypassing any proxy a test puts in front of it) through a Lettuce
 * connection with a 2 s command timeout that reconnects by itself after a restart. While the node is killed, admin
 * commands fail immediately; while it is paused they time out after 2 s.
 *
 * <p>Instances are created by {@link RedisServers#start(int)} and are thread-safe.
 *
 * @since 0.1.0
 */
public final class RedisServer implements AutoCloseable {

    /** Command timeout of the admin connection. */
    static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(2);
    /**
     * Connect and handshake timeout of the admin connection: the first Lettuce connection of a JVM loads a few
     * thousand classes, which takes seconds in a cold JVM with an instrumenting agent such as BlockHound.
     */
    static final Duration ADMIN_CONNECT_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration ADMIN_RECONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final int SCAN_COUNT = 1000;

    private static final AtomicInteger THREADS = new AtomicInteger();
    /** Daemon threads for parallel starts and delayed restarts; never blocks JVM exit. */
    static final ExecutorService WORKERS = Executors.newCachedThreadPool(task -> {
        Thread thread = new Thread(task, "redlock-testkit-" + THREADS.incrementAndGet());
        thread.setDaemon(true);
        return thread;
    });
    /** Only waits out delays of {@link #restartAfter(Duration)}; the restart itself runs on {@link #WORKERS}. */
    private static final ScheduledThreadPoolExecutor TIMER = new ScheduledThreadPoolExecutor(1, task -> {
        Thread thread = new Thread(task, "redlock-testkit-timer");
        thread.setDaemon(true);
        return thread;
    });

    static {
        TIMER.setRemoveOnCancelPolicy(true);
    }

    private final int index;
    private final RedisProcess process;
    private final boolean persistent;
    private final boolean clusterMode;
    private final ClientResources resources;
    private final Object lock = new Object();

    private @Nullable RedisClient client;
    private volatile @Nullable StatefulRedisConnection<String, String> connection;
    private volatile boolean paused;
    private volatile boolean closed;
    private long generation; // guarded by lock; bumped whenever a pending delayed restart is superseded
    private @Nullable CompletableFuture<@Nullable Void> pendingRestart; // guarded by lock
    private @Nullable ScheduledFuture<?> pendingTimer; // guarded by lock

    RedisServer(int index, RedisProcess process, NodeOptions options, ClientResources resources) {
        this.index = index;
        this.process = process;
        this.persistent = options.persistence();
        this.clusterMode = options.clusterMode();
        this.resources = resources;
    }

    /** First start of the process, then the admin connection. */
    void startFirst() {
        synchronized (lock) {
            process.start();
            RedisURI uri = RedisURI.builder().withHost(process.host()).withPort(process.port())
                    .withTimeout(ADMIN_CONNECT_TIMEOUT).build();
            client = RedisClient.create(resources, uri);
            client.setOptions(ClientOptions.builder()
                    .autoReconnect(true)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .socketOptions(SocketOptions.builder().connectTimeout(ADMIN_CONNECT_TIMEOUT).build())
                    .timeoutOptions(TimeoutOptions.enabled(ADMIN_TIMEOUT))
                    .build());
            connection = client.connect();
        }
    }

    /**
     * The host to connect to. Non-blocking.
     *
     * @return {@code 127.0.0.1} (with Testcontainers, the Docker host)
     */
    public String host() {
        return process.host();
    }

    /**
     * The TCP port of this node; the same after restarts. Non-blocking.
     *
     * @return the port, in {@code [20000, 32000)}
     */
    public int port() {
        return process.port();
    }

    /**
     * The node's URI. Non-blocking.
     *
     * @return {@code redis://<host>:<port>}, e.g. {@code redis://127.0.0.1:23456}
     */
    public String uri() {
        return "redis://" + host() + ":" + port();
    }

    /**
     * Whether this node persists writes (AOF, fsync always), so that data survives {@link #restart()}.
     *
     * @return true when started with persistence
     */
    public boolean persistent() {
        return persistent;
    }

    /**
     * Whether this node runs in cluster mode ({@code --cluster-enabled yes}) as its own one-node cluster that owns
     * all 16384 hash slots; see {@link NodeOptions#withClusterMode(boolean)}. Non-blocking.
     *
     * @return true when started in cluster mode
     */
    public boolean clusterMode() {
        return clusterMode;
    }

    /**
     * The pid of the current {@code redis-server} process, or of the last one while the node is killed or after it
     * was closed. The pid changes with every restart. Non-blocking.
     *
     * @return the pid of redis-server itself (not of a wrapper shell)
     * @throws UnsupportedOperationException with {@code redlock.test.redis=testcontainers}, where there is no host pid
     */
    public long pid() {
        return process.pid();
    }

    /**
     * Whether the {@code redis-server} process exists: true while paused, false after {@link #kill()} and after
     * {@link #close()}. Cheap (no network round trip) for local processes.
     *
     * @return whether the process exists
     */
    public boolean isRunning() {
        return !closed && process.isRunning();
    }

    /**
     * Whether the node is frozen by {@link #pause()} and not yet {@link #resume() resumed}. Non-blocking.
     *
     * @return true while paused
     */
    public boolean isPaused() {
        return paused;
    }

    /**
     * The node's {@code run_id} from {@code INFO server}; every (re)start yields a new one, with or without
     * persistence. Blocks for one admin round trip.
     *
     * @return the 40-character run id
     * @throws IllegalStateException when the node is killed, paused or closed
     */
    public String runId() {
        requireReachable("runId()");
        String info = connection.sync().info("server");
        for (String line : info.split("\r?\n")) {
            if (line.startsWith("run_id:")) {
                return line.substring("run_id:".length()).trim();
            }
        }
        throw new RedisTestkitException("INFO server of " + uri() + " has no run_id line: " + info);
    }

    /**
     * SIGKILLs {@code redis-server} and waits until the process is gone; clients then get "connection refused".
     * A paused node is killed too. No-op when the node is already killed. Blocking. Supersedes a pending
     * {@link #restartAfter(Duration)}.
     *
     * @throws IllegalStateException when the node is closed
     */
    public void kill() {
        synchronized (lock) {
            ensureOpen("kill()");
            supersedePending("kill()");
            process.kill();
            paused = false;
        }
    }

    /**
     * Freezes {@code redis-server} with SIGSTOP: connections still open (the kernel accepts them) but nothing is
     * answered, like a node stuck in a long GC pause or on a partitioned network. Blocks until the process is
     * stopped. No-op when already paused.
     *
     * @throws IllegalStateException when the node is killed or closed
     */
    public void pause() {
        synchronized (lock) {
            ensureOpen("pause()");
            if (paused) {
                return;
            }
            if (!process.isRunning()) {
                throw new IllegalStateException("pause() needs a running node but " + this
                        + " is killed; call restart() first");
            }
            process.pause();
            paused = true;
        }
    }

    /**
     * Unfreezes a {@link #pause() paused} node with SIGCONT; it then answers the requests that queued up meanwhile.
     * Blocking. No-op when the node is not paused.
     *
     * @throws IllegalStateException when the node is closed
     */
    public void resume() {
        synchronized (lock) {
            ensureOpen("resume()");
            if (paused) {
                process.resume();
                paused = false;
            }
        }
    }

    /**
     * Kills the node (SIGKILL, if running or paused) and starts it again at once on the same port, then waits until
     * it answers {@code PING} and the admin connection has reconnected. Without persistence the node comes back
     * empty with a new {@link #runId()}; with persistence it reloads its AOF. A cluster-mode node is handed back
     * only once it owns all slots again and says {@code cluster_state:ok}, whether or not it reloaded its cluster
     * config file. Blocks for typically tens of milliseconds (about 2 s in cluster mode), at most about 30 s.
     * Supersedes a pending {@link #restartAfter(Duration)}.
     *
     * @throws IllegalStateException when the node is closed
     * @throws RedisTestkitException when the node does not come back, with the tail of its log
     */
    public void restart() {
        synchronized (lock) {
            ensureOpen("restart()");
            supersedePending("restart()");
            process.kill();
            paused = false;
            process.start();
            awaitAdmin();
        }
    }

    /**
     * Kills the node now (blocking, like {@link #kill()}) and starts it again on the same port once {@code delay}
     * has passed, on a test-kit daemon thread. Returns as soon as the node is down; the returned future completes
     * when the node answers again (in cluster mode: owns all slots with {@code cluster_state:ok}, as after
     * {@link #restart()}; never earlier than {@code delay} after the kill), or exceptionally when the restart
     * fails. Nothing blocks the caller while waiting.
     *
     * <p>A later {@link #kill()}, {@link #restart()}, {@code restartAfter}, {@link #close()}, or the clean-up of
     * {@link RedisServersExtension} before the next test supersedes the pending restart: the future then completes
     * exceptionally with a {@link CancellationException} and the node is left alone. Cancelling the future also
     * prevents the restart.
     *
     * @param delay how long the node stays down; zero restarts as soon as possible
     * @return a future completed when the node is up again
     * @throws IllegalArgumentException when {@code delay} is negative
     * @throws IllegalStateException when the node is closed
     */
    public CompletableFuture<@Nullable Void> restartAfter(Duration delay) {
        Objects.requireNonNull(delay, "delay");
        if (delay.isNegative()) {
            throw new IllegalArgumentException("delay must not be negative but was " + delay);
        }
        CompletableFuture<@Nullable Void> future = new CompletableFuture<>();
        synchronized (lock) {
            ensureOpen("restartAfter(" + delay + ")");
            supersedePending("restartAfter(" + delay + ")");
            process.kill();
            paused = false;
            long token = ++generation;
            pendingRestart = future;
            pendingTimer = TIMER.schedule(() -> WORKERS.execute(() -> runDelayedRestart(token, future)),
                    delay.toNanos(), TimeUnit.NANOSECONDS);
        }
        return future;
    }

    private void runDelayedRestart(long token, CompletableFuture<@Nullable Void> future) {
        synchronized (lock) {
            if (future.isDone() || closed || token != generation) {
                future.completeExceptionally(new CancellationException("superseded"));
                return;
            }
            pendingRestart = null;
            pendingTimer = null;
            try {
                process.start();
                awaitAdmin();
                future.complete(null);
            } catch (Throwable t) {
                future.completeExceptionally(t);
            }
        }
    }

    /**
     * Kills the node, releases its port and deletes its temporary directory; same as {@link #close()}. The node
     * cannot be started again. Blocking. Idempotent.
     */
    public void stop() {
        close();
    }

    /**
     * Kills the node, closes the admin connection, releases the port and deletes the temporary directory (logs,
     * AOF). The node cannot be started again. Blocking. Idempotent; failures are thrown after everything was tried.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            supersedePending("close()");
        }
        RuntimeException failure = null;
        try {
            if (connection != null) {
                connection.close();
            }
            if (client != null) {
                client.shutdown(Duration.ZERO, ADMIN_TIMEOUT);
            }
        } catch (RuntimeException e) {
            failure = e;
        }
        try {
            process.close();
        } catch (RuntimeException e) {
            failure = RedisServers.addFailure(failure, e);
        }
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * The synchronous admin commands of this node's own connection: direct to the node, 2 s timeout, reconnects
     * by itself after restarts. Each call is a blocking round trip; while the node is killed commands fail at once,
     * while paused they time out. Do not close the connection behind it.
     *
     * @return the admin commands; the same object on every call
     * @throws IllegalStateException when the node is closed
     */
    public RedisCommands<String, String> admin() {
        ensureOpen("admin()");
        return connection.sync();
    }

    /**
     * The keys matching a glob-style {@code pattern} (as in {@code SCAN ... MATCH}), found with {@code SCAN}, never
     * {@code KEYS}. Sorted, without duplicates. Blocking.
     *
     * @param pattern a {@code MATCH} pattern such as {@code lock:*}
     * @return the matching keys, sorted, unmodifiable
     * @throws IllegalStateException when the node is killed, paused or closed
     */
    public List<String> keys(String pattern) {
        Objects.requireNonNull(pattern, "pattern");
        requireReachable("keys(\"" + pattern + "\")");
        RedisCommands<String, String> commands = connection.sync();
        ScanArgs args = ScanArgs.Builder.matches(pattern).limit(SCAN_COUNT);
        TreeSet<String> keys = new TreeSet<>();
        KeyScanCursor<String> cursor = commands.scan(args);
        keys.addAll(cursor.getKeys());
        while (!cursor.isFinished()) {
            cursor = commands.scan(cursor, args);
            keys.addAll(cursor.getKeys());
        }
        return List.copyOf(keys);
    }

    /**
     * Deletes every key of every database ({@code FLUSHALL}, synchronous). Blocking.
     *
     * @throws IllegalStateException when the node is killed, paused or closed
     */
    public void flushAll() {
        requireReachable("flushAll()");
        connection.sync().flushall();
    }

    /**
     * The number of keys in database 0 ({@code DBSIZE}). Blocking.
     *
     * @return the number of keys
     * @throws IllegalStateException when the node is killed, paused or closed
     */
    public long dbSize() {
        requireReachable("dbSize()");
        return connection.sync().dbsize();
    }

    /**
     * Brings the node back to a clean state for the next test: supersedes a pending delayed restart, resumes it if
     * paused, starts it if killed, and flushes all data; in cluster mode it then gives the node back any slot it
     * lost (a test may have deleted slots) and waits for {@code cluster_state:ok}.
     */
    void reset() {
        synchronized (lock) {
            ensureOpen("reset()");
            supersedePending("the reset before the next test");
            if (paused) {
                process.resume();
                paused = false;
            }
            if (!process.isRunning()) {
                process.kill(); // clears what is left of a process that died by itself
                process.start();
                awaitAdmin();
            }
        }
        flushAll();
        if (clusterMode) {
            // after the flush: CLUSTER RESET by a test needs an empty node, and slots come back the same way
            ClusterSlots.claimAllAndAwaitOk(host(), port(), LocalRedisProcess.READY_TIMEOUT, () -> "");
        }
    }

    /** The process behind this node (for tests). */
    RedisProcess process() {
        return process;
    }

    /** The index of this node in its group. */
    int index() {
        return index;
    }

    private void awaitAdmin() {
        StatefulRedisConnection<String, String> c = connection;
        if (c == null) {
            return;
        }
        long deadline = System.nanoTime() + ADMIN_RECONNECT_TIMEOUT.toNanos();
        RuntimeException last = null;
        while (true) {
            try {
                if ("PONG".equals(c.sync().ping())) {
                    return;
                }
            } catch (RuntimeException e) {
                last = e; // rejected while Lettuce has not reconnected yet
            }
            if (System.nanoTime() - deadline > 0) {
                throw new RedisTestkitException("The admin connection to " + uri() + " did not reconnect within "
                        + ADMIN_RECONNECT_TIMEOUT.toMillis() + " ms after the node was started again", last);
            }
            LocalRedisProcess.sleepMillis(5);
        }
    }

    private void supersedePending(String by) {
        CompletableFuture<@Nullable Void> pending = pendingRestart;
        if (pending != null) {
            pendingRestart = null;
            generation++;
            pendingTimer.cancel(false);
            pendingTimer = null;
            pending.completeExceptionally(new CancellationException("The delayed restart of " + describeUri()
                    + " was superseded by " + by));
        }
    }

    private void requireReachable(String operation) {
        ensureOpen(operation);
        if (paused) {
            throw new IllegalStateException(operation + " needs a reachable node but " + this
                    + " is paused; call resume() first");
        }
        if (!process.isRunning()) {
            throw new IllegalStateException(operation + " needs a reachable node but " + this
                    + " is killed; call restart() first");
        }
    }

    private void ensureOpen(String operation) {
        if (closed) {
            throw new IllegalStateException(operation + " called on " + this + ", which is closed");
        }
    }

    /** {@link #uri()}, or a placeholder before the first start; never throws (for messages). */
    String describeUri() {
        try {
            return uri();
        } catch (IllegalStateException e) {
            return "redis://(not started)";
        }
    }

    /** E.g. {@code RedisServer[#0 redis://127.0.0.1:23456, running, redis-server[127.0.0.1:23456, pid 4242]]}. */
    @Override
    public String toString() {
        String state;
        try {
            state = closed ? "closed" : paused ? "paused" : process.isRunning() ? "running" : "killed";
        } catch (RuntimeException e) {
            state = "unknown (" + e + ")";
        }
        return "RedisServer[#" + index + " " + describeUri() + ", " + state + ", " + process + "]";
    }
}
