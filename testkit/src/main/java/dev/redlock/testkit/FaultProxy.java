package dev.redlock.testkit;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An in-JVM TCP proxy on {@code 127.0.0.1} in front of one Redis node (or any TCP server), with network faults that
 * can be switched on and off while traffic flows: latency, blackhole, pause, refused connections and connection
 * resets. Point the client at {@link #uri()} instead of the node.
 *
 * <pre>{@code
 * try (RedisServers servers = RedisServers.start(1);
 *      FaultProxy proxy = FaultProxy.inFrontOf(servers.get(0))) {
 *     RedisClient client = RedisClient.create(RedisURI.builder()
 *             .withHost(proxy.host()).withPort(proxy.port()).withTimeout(Duration.ofSeconds(2)).build());
 *     proxy.latency(Duration.ofMillis(200), Duration.ZERO, FaultProxy.Direction.DOWNSTREAM); // replies 200 ms late
 *     proxy.blackhole(true);                 // partition without RST: commands time out
 *     proxy.heal();                          // back to normal
 * }
 * }</pre>
 *
 * <h2>Faults</h2>
 * Every fault applies to current and new connections, can be combined with the others, and stays until it is
 * switched off or {@link #heal() healed}. A TCP stream is never reordered: whatever the faults, the bytes that are
 * delivered arrive in the order they were sent.
 * <ul>
 *   <li>{@link #latency latency}: each chunk read is held for {@code delay} plus a uniform random jitter, per
 *       direction, but never released before the chunk read before it;</li>
 *   <li>{@link #blackhole(boolean) blackhole}: sockets stay open and bytes are silently discarded (a partition
 *       without RST); new connections are accepted but nothing passes. When a blackhole is lifted, the connections
 *       that lost bytes in that direction are reset, because a stream with a hole cannot go on: Lettuce would match
 *       every later reply to the wrong command. Connections that lost nothing carry on;</li>
 *   <li>{@link #pause(boolean) pause}: nothing is forwarded, bytes are buffered and delivered in order on resume (a
 *       stalled path). Each direction of a connection buffers at most about 1 MiB, then the proxy stops reading it
 *       and TCP flow control pushes back to the sender;</li>
 *   <li>{@link #refuseConnections(boolean) refuseConnections}: new connections are reset as soon as they are
 *       accepted; current ones are untouched;</li>
 *   <li>{@link #resetConnections()}: closes the current connections with RST.</li>
 * </ul>
 * When the target is down (a killed node) a new connection is accepted and then reset at once; when the target
 * closes a connection (node killed or restarted) the client side is closed after the bytes already on their way.
 * New connections always go to the same target host and port, so the proxy survives restarts of the node.
 *
 * <h2>Threads</h2>
 * Instances are thread-safe. Fault switches and getters never block and may be called from any thread, reactive
 * ones included; a switch applies to bytes that have not been forwarded yet when it returns (a write already under
 * way on the proxy's thread may still complete). {@link #start}, {@link #inFrontOf}, {@link #resetConnections()} and
 * {@link #close()} block the caller and must not be called from a non-blocking thread. Each proxy has one daemon
 * Netty event-loop thread, which never blocks, and shuts it down on {@link #close()}.
 *
 * @since 0.1.0
 */
public final class FaultProxy implements AutoCloseable {

    /**
     * The direction a fault applies to.
     *
     * @since 0.1.0
     */
    public enum Direction {
        /** Client to server: the requests. */
        UPSTREAM,
        /** Server to client: the replies. */
        DOWNSTREAM,
        /** Both directions. */
        BOTH;

        boolean includesUpstream() {
            return this != DOWNSTREAM;
        }

        boolean includesDownstream() {
            return this != UPSTREAM;
        }
    }

    /** The host every proxy listens on. */
    static final String HOST = "127.0.0.1";
    /** Per connection and direction: above this many queued bytes the source is not read any more. */
    static final int MAX_PENDING_BYTES = 1 << 20;
    private static final Duration BLOCKING_TIMEOUT = Duration.ofSeconds(10);
    private static final AtomicInteger IDS = new AtomicInteger();

    /** A delay plus a uniform jitter in {@code [0, jitter]}, in nanoseconds. */
    private static final class Latency {
        static final Latency NONE = new Latency(0, 0);
        final long delayNanos;
        final long jitterNanos;

        Latency(long delayNanos, long jitterNanos) {
            this.delayNanos = delayNanos;
            this.jitterNanos = jitterNanos;
        }

        long sample() {
            return jitterNanos == 0 ? delayNanos
                    : delayNanos + ThreadLocalRandom.current().nextLong(jitterNanos + 1);
        }

        @Override
        public String toString() {
            return TimeUnit.NANOSECONDS.toMillis(delayNanos) + " ms"
                    + (jitterNanos == 0 ? "" : " + [0, " + TimeUnit.NANOSECONDS.toMillis(jitterNanos) + "] ms");
        }
    }

    private final InetSocketAddress target;
    private final EventLoopGroup group;
    private final EventLoop loop;
    private final Set<ProxyConnection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong forwarded = new AtomicLong();
    private final AtomicLong buffered = new AtomicLong();
    /** Serialises fault switches with each other and with {@link #close()}. */
    private final Object lock = new Object();
    private final Channel listener;
    private final int port;

    private volatile Latency upstreamLatency = Latency.NONE;
    private volatile Latency downstreamLatency = Latency.NONE;
    private volatile boolean upstreamBlackhole;
    private volatile boolean downstreamBlackhole;
    private volatile boolean paused;
    private volatile boolean refusing;
    private volatile boolean closed;

    private FaultProxy(InetSocketAddress target, EventLoopGroup group) {
        this.target = target;
        this.group = group;
        this.loop = group.next();
        ChannelFuture bound = new ServerBootstrap()
                .group(loop)
                .channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        accept(channel);
                    }
                })
                .bind(HOST, 0);
        if (!bound.awaitUninterruptibly(BLOCKING_TIMEOUT.toMillis()) || !bound.isSuccess()) {
            throw new RedisTestkitException("Cannot listen on " + HOST + " for a fault proxy to " + describeTarget(),
                    bound.cause());
        }
        this.listener = bound.channel();
        this.port = ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /**
     * Starts a proxy to {@code targetHost:targetPort}, listening on {@code 127.0.0.1} on a free port chosen by the
     * system. The target does not need to be up. Blocking (resolves {@code targetHost} once, binds the port).
     *
     * @param targetHost the host to forward to, such as {@code 127.0.0.1}
     * @param targetPort the port to forward to
     * @return the running proxy, without faults; close it when done
     * @throws IllegalArgumentException when the port is out of range
     * @throws RedisTestkitException when the proxy cannot listen or the host cannot be resolved
     */
    public static FaultProxy start(String targetHost, int targetPort) {
        Objects.requireNonNull(targetHost, "targetHost");
        if (targetPort < 1 || targetPort > 65_535) {
            throw new IllegalArgumentException("targetPort must be in [1, 65535] but was " + targetPort);
        }
        // resolved here, on the caller's thread: a name lookup must never run on the event loop
        InetSocketAddress target = new InetSocketAddress(targetHost, targetPort);
        if (target.isUnresolved()) {
            throw new RedisTestkitException("Cannot resolve the fault proxy target host " + targetHost);
        }
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
                new DefaultThreadFactory("redlock-fault-proxy-" + IDS.incrementAndGet(), true),
                NioIoHandler.newFactory());
        try {
            return new FaultProxy(target, group);
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw e;
        }
    }

    /**
     * Starts a proxy in front of {@code server} (to its {@link RedisServer#host() host} and
     * {@link RedisServer#port() port}, which survive restarts). Blocking, like {@link #start(String, int)}.
     *
     * @param server the node to forward to
     * @return the running proxy, without faults; close it when done
     */
    public static FaultProxy inFrontOf(RedisServer server) {
        Objects.requireNonNull(server, "server");
        return start(server.host(), server.port());
    }

    /**
     * The host the proxy listens on. Non-blocking.
     *
     * @return {@code 127.0.0.1}
     */
    public String host() {
        return HOST;
    }

    /**
     * The port the proxy listens on; fixed for its whole life. Non-blocking.
     *
     * @return the port
     */
    public int port() {
        return port;
    }

    /**
     * The URI to give a client instead of the target's. Non-blocking.
     *
     * @return {@code redis://127.0.0.1:<port()>}
     */
    public String uri() {
        return "redis://" + HOST + ":" + port;
    }

    /**
     * Sets the latency of {@code direction} (for {@link Direction#BOTH}, of each direction): every chunk of bytes
     * read afterwards is held for {@code delay} plus a uniform random jitter in {@code [0, jitter]}, but never
     * released before the chunk read before it, so bytes keep their order. Bytes already held keep their release
     * time. {@code latency(Duration.ZERO, Duration.ZERO, Direction.BOTH)} removes the latency. Non-blocking.
     *
     * @param delay the fixed part, zero or more
     * @param jitter the upper bound of the random part, zero or more
     * @param direction the direction(s) to set; the other one keeps its latency
     * @return this proxy
     * @throws IllegalArgumentException when {@code delay} or {@code jitter} is negative
     * @throws IllegalStateException when the proxy is closed
     */
    public FaultProxy latency(Duration delay, Duration jitter, Direction direction) {
        Objects.requireNonNull(delay, "delay");
        Objects.requireNonNull(jitter, "jitter");
        Objects.requireNonNull(direction, "direction");
        if (delay.isNegative() || jitter.isNegative()) {
            throw new IllegalArgumentException("delay and jitter must not be negative but were " + delay + " and "
                    + jitter);
        }
        Latency latency = delay.isZero() && jitter.isZero() ? Latency.NONE
                : new Latency(delay.toNanos(), jitter.toNanos());
        synchronized (lock) {
            ensureOpen("latency(" + delay + ", " + jitter + ", " + direction + ")");
            if (direction.includesUpstream()) {
                upstreamLatency = latency;
            }
            if (direction.includesDownstream()) {
                downstreamLatency = latency;
            }
        }
        return this;
    }

    /**
     * Switches a blackhole in both directions on or off; same as {@code blackhole(on, Direction.BOTH)}.
     * Non-blocking.
     *
     * @param on true to drop bytes, false to let them pass again
     * @return this proxy
     * @throws IllegalStateException when the proxy is closed
     * @see #blackhole(boolean, Direction)
     */
    public FaultProxy blackhole(boolean on) {
        return blackhole(on, Direction.BOTH);
    }

    /**
     * Switches a blackhole in {@code direction} on or off. While on, sockets stay open and bytes of that direction
     * (read or held by latency) are silently discarded: a partition without RST. New connections are still
     * accepted and connected to the target. When it is switched off, every connection that lost bytes in that
     * direction is reset (RST), since its stream has a hole, before any more of its bytes pass; the others carry
     * on. Closes from either end still pass.
     * Non-blocking.
     *
     * @param on true to drop bytes, false to let them pass again
     * @param direction the direction(s) to switch; the other one is left as it is
     * @return this proxy
     * @throws IllegalStateException when the proxy is closed
     */
    public FaultProxy blackhole(boolean on, Direction direction) {
        Objects.requireNonNull(direction, "direction");
        synchronized (lock) {
            ensureOpen("blackhole(" + on + ", " + direction + ")");
            if (direction.includesUpstream()) {
                upstreamBlackhole = on;
            }
            if (direction.includesDownstream()) {
                downstreamBlackhole = on;
            }
            notifyConnections(false);
        }
        return this;
    }

    /**
     * Pauses or resumes forwarding in both directions. While paused, bytes are read and buffered (at most about
     * 1 MiB per connection and direction, then the proxy stops reading and TCP pushes back to the sender); on
     * resume they are delivered in order, after any latency they still owe, also those of a connection whose
     * client has closed meanwhile (like packets a stalled path still carries): the target side of such a connection
     * is closed once they are delivered. Non-blocking.
     *
     * @param on true to pause, false to resume
     * @return this proxy
     * @throws IllegalStateException when the proxy is closed
     */
    public FaultProxy pause(boolean on) {
        synchronized (lock) {
            ensureOpen("pause(" + on + ")");
            paused = on;
            notifyConnections(false);
        }
        return this;
    }

    /**
     * While on, every new connection is reset (RST) right after it is accepted, so clients fail to connect (the
     * connect itself succeeds at the TCP level, then the first read or write fails). Current connections are
     * untouched. Non-blocking.
     *
     * @param on true to refuse new connections, false to accept them again
     * @return this proxy
     * @throws IllegalStateException when the proxy is closed
     */
    public FaultProxy refuseConnections(boolean on) {
        synchronized (lock) {
            ensureOpen("refuseConnections(" + on + ")");
            refusing = on;
        }
        return this;
    }

    /**
     * Closes every current connection with RST (SO_LINGER 0) on both sides, dropping the bytes still held; the
     * client sees "connection reset by peer". New connections are accepted as before. Blocks until those
     * connections are closed (a few milliseconds); called on the proxy's own event loop it does not wait.
     *
     * @throws IllegalStateException when the proxy is closed
     */
    public void resetConnections() {
        List<ProxyConnection> current;
        synchronized (lock) {
            ensureOpen("resetConnections()");
            current = new ArrayList<>(connections);
            loop.execute(() -> current.forEach(ProxyConnection::reset));
        }
        if (loop.inEventLoop()) {
            return;
        }
        long deadline = System.nanoTime() + BLOCKING_TIMEOUT.toNanos();
        for (ProxyConnection connection : current) {
            long left = deadline - System.nanoTime();
            if (!connection.client().closeFuture().awaitUninterruptibly(Math.max(0, left),
                    TimeUnit.NANOSECONDS)) {
                throw new RedisTestkitException("Connections of " + this + " were not closed within "
                        + BLOCKING_TIMEOUT.toMillis() + " ms after a reset");
            }
        }
    }

    /**
     * Removes every fault: no latency, no blackhole, no pause, connections accepted. Bytes held by latency or a
     * pause are delivered at once, in order; connections that lost bytes to a blackhole are reset. Non-blocking.
     * No-op when the proxy is closed.
     */
    public void heal() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            upstreamLatency = Latency.NONE;
            downstreamLatency = Latency.NONE;
            upstreamBlackhole = false;
            downstreamBlackhole = false;
            paused = false;
            refusing = false;
            notifyConnections(true);
        }
    }

    /**
     * The number of client connections currently open through the proxy (accepted and not closed yet). Non-blocking.
     *
     * @return the count
     */
    public int activeConnections() {
        int open = 0;
        for (ProxyConnection connection : connections) {
            if (connection.client().isOpen()) {
                open++;
            }
        }
        return open;
    }

    /**
     * The total number of bytes forwarded so far, both directions, all connections (bytes dropped by a blackhole or
     * still held are not counted). Non-blocking.
     *
     * @return the byte count
     */
    public long bytesForwarded() {
        return forwarded.get();
    }

    /** Whether {@link #close()} has stopped the proxy's thread. */
    boolean isTerminated() {
        return group.isTerminated();
    }

    /** Bytes currently held by the proxy (latency, pause, backpressure), all connections and directions. */
    long bufferedBytes() {
        return buffered.get();
    }

    /**
     * Stops listening, which frees the port, closes every connection (FIN, without delivering what is still held)
     * and stops the proxy's thread. Blocking (usually a few milliseconds). Idempotent.
     *
     * @throws IllegalStateException when called on the proxy's own event loop
     */
    @Override
    public void close() {
        if (loop.inEventLoop()) {
            throw new IllegalStateException("close() of " + this + " must not be called on its own event loop");
        }
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        listener.close().awaitUninterruptibly(BLOCKING_TIMEOUT.toMillis());
        // Closed here, not left to the group's shutdown: a terminated NIO event loop does not reliably close the
        // channels still registered with it, and a client would then wait on an open socket nobody serves.
        // (accept() refuses new connections once closed is set, so the list is complete.)
        loop.submit(() -> connections.forEach(ProxyConnection::close))
                .awaitUninterruptibly(BLOCKING_TIMEOUT.toMillis());
        long deadline = System.nanoTime() + BLOCKING_TIMEOUT.toNanos();
        for (ProxyConnection connection : new ArrayList<>(connections)) {
            connection.client().closeFuture().awaitUninterruptibly(
                    Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
        boolean terminated = group.shutdownGracefully(0, BLOCKING_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .awaitUninterruptibly(BLOCKING_TIMEOUT.toMillis() * 2);
        connections.clear();
        if (!terminated) {
            throw new RedisTestkitException("The event loop of " + this + " did not terminate within "
                    + BLOCKING_TIMEOUT.toMillis() * 2 + " ms");
        }
    }

    /** E.g. {@code FaultProxy[127.0.0.1:40123 -> 127.0.0.1:23456, paused, blackhole upstream]}. */
    @Override
    public String toString() {
        List<String> faults = new ArrayList<>();
        if (closed) {
            faults.add("closed");
        }
        if (upstreamLatency != Latency.NONE) {
            faults.add("latency upstream " + upstreamLatency);
        }
        if (downstreamLatency != Latency.NONE) {
            faults.add("latency downstream " + downstreamLatency);
        }
        if (upstreamBlackhole) {
            faults.add("blackhole upstream");
        }
        if (downstreamBlackhole) {
            faults.add("blackhole downstream");
        }
        if (paused) {
            faults.add("paused");
        }
        if (refusing) {
            faults.add("refusing connections");
        }
        StringBuilder text = new StringBuilder("FaultProxy[").append(HOST).append(':').append(port).append(" -> ")
                .append(describeTarget());
        for (String fault : faults) {
            text.append(", ").append(fault);
        }
        return text.append(']').toString();
    }

    private String describeTarget() {
        return target.getHostString() + ":" + target.getPort();
    }

    // ---- called on the event loop ----

    private void accept(SocketChannel channel) {
        if (closed || refusing) {
            ProxyConnection.resetChannel(channel);
            return;
        }
        ProxyConnection connection = new ProxyConnection(this, channel);
        connections.add(connection);
        connection.open(target);
    }

    /**
     * Both sides of {@code connection} are closed: it is forgotten. Until then it follows the fault switches, also
     * after its client closed, so bytes a pause held for the target are still delivered on resume.
     */
    void ended(ProxyConnection connection) {
        connections.remove(connection);
    }

    boolean blackholed(Direction direction) {
        return direction == Direction.UPSTREAM ? upstreamBlackhole : downstreamBlackhole;
    }

    boolean paused() {
        return paused;
    }

    long sampleLatencyNanos(Direction direction) {
        return (direction == Direction.UPSTREAM ? upstreamLatency : downstreamLatency).sample();
    }

    void addForwarded(long bytes) {
        forwarded.addAndGet(bytes);
    }

    void addBuffered(long bytes) {
        if (bytes != 0) {
            buffered.addAndGet(bytes);
        }
    }

    // ---- helpers ----

    /** Hands a fault switch to every connection, on the event loop; call with {@link #lock} held. */
    private void notifyConnections(boolean releaseNow) {
        loop.execute(() -> {
            for (ProxyConnection connection : connections) {
                connection.faultsChanged(releaseNow);
            }
        });
    }

    private void ensureOpen(String operation) {
        if (closed) {
            throw new IllegalStateException(operation + " called on " + this + ", which is closed");
        }
    }
}
