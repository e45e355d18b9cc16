package dev.redlock.internal.node;

import dev.redlock.NodeDownException;
import dev.redlock.NodeHeldOutException;
import dev.redlock.RedisNode;
import dev.redlock.RestartGuard;
import dev.redlock.internal.event.EventBus;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.protocol.ProtocolVersion;
import io.lettuce.core.resource.ClientResources;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.scheduler.Scheduler;

/**
 * A node reached through Lettuce: its lock connection and its reconnects. The parts live beside it: the
 * {@link Handshake} that verifies each new connection, the {@link ScriptConnection} that runs scripts (the
 * {@code NOSCRIPT} rule, stale-connection detection), the {@link RestartWatch} (the restart guard) and {@link PubSub}
 * (release notifications).
 *
 * <p>The lock connection has auto-reconnect off: a broken connection rejects commands at once (nothing buffered is
 * replayed later), and this class opens the next connection itself, one at a time, backing off (20 ms doubling to
 * 1 s) after a failed attempt.
 */
public final class LettuceNode implements NodeChannel {

    private static final Logger log = LoggerFactory.getLogger(LettuceNode.class);

    private static final long MIN_RECONNECT_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final long MAX_RECONNECT_DELAY_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final RedisNode node;
    private final RedisClient lockClient;
    private final RedisClient pubSubClient;
    private final Scheduler scheduler;
    private final Handshake handshake;
    private final RestartWatch restarts;
    private final PubSub pubSub;

    private volatile ScriptConnection current;
    private final AtomicReference<CompletableFuture<NodeConnection>> connecting = new AtomicReference<>();
    private volatile long reconnectAtNanos;
    private volatile long reconnectDelayNanos = MIN_RECONNECT_DELAY_NANOS;
    private volatile Throwable lastConnectFailure;
    private volatile boolean closed;
    /** See {@link NodeChannel#slotStrict()}; once true it stays true. */
    private volatile boolean slotStrict;

    public LettuceNode(
            RedisNode node,
            ClientResources resources,
            Scheduler scheduler,
            RestartGuard guard,
            HoldOutTime holdOut,
            String keyPrefix,
            Duration connectTimeout,
            SslOptions sslOptions,
            EventBus events) {
        this.node = node;
        this.scheduler = scheduler;
        this.restarts = new RestartWatch(node.name(), guard, holdOut, events);
        SocketOptions socket = SocketOptions.builder().connectTimeout(connectTimeout).build();
        SslOptions ssl = sslOptions != null ? sslOptions : SslOptions.create();
        this.lockClient = RedisClient.create(resources);
        this.lockClient.setOptions(ClientOptions.builder()
                // the engine enforces its own per-node timeouts; Lettuce's per-command timer would only add a timer
                // task per command (stuck commands are dropped with their connection instead, ScriptConnection)
                .timeoutOptions(TimeoutOptions.builder().timeoutCommands(false).build())
                .autoReconnect(false)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .protocolVersion(ProtocolVersion.RESP2)
                .socketOptions(socket)
                .sslOptions(ssl)
                .build());
        this.pubSubClient = RedisClient.create(resources);
        this.pubSubClient.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .protocolVersion(ProtocolVersion.RESP2)
                .socketOptions(socket)
                .sslOptions(ssl)
                .build());
        this.handshake = new Handshake(node, lockClient, scheduler, connectTimeout, guard, holdOut, keyPrefix);
        this.pubSub = new PubSub(node, pubSubClient);
    }

    @Override
    public String name() {
        return node.name();
    }

    private long now() {
        return scheduler.now(TimeUnit.NANOSECONDS);
    }

    @Override
    public NodeConnection ready() {
        ScriptConnection c = current;
        return c != null && c.isOpen() ? c : null;
    }

    @Override
    public CompletionStage<NodeConnection> connect() {
        NodeConnection open = ready();
        if (open != null) {
            return CompletableFuture.completedFuture(open);
        }
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("client is closed"));
        }
        CompletableFuture<NodeConnection> inFlight = connecting.get();
        if (inFlight != null) {
            return inFlight;
        }
        long now = now();
        if (now - reconnectAtNanos < 0) {
            Throwable last = lastConnectFailure;
            return CompletableFuture.failedFuture(new NodeDownException(node.name(), last, reconnectAtNanos - now));
        }
        CompletableFuture<NodeConnection> mine = new CompletableFuture<>();
        if (!connecting.compareAndSet(null, mine)) {
            CompletableFuture<NodeConnection> other = connecting.get();
            return other != null ? other : connect();
        }
        handshake.open(this::verified).whenComplete((conn, error) -> {
            connecting.set(null);
            if (error != null) {
                Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                lastConnectFailure = cause;
                long delay = reconnectDelayNanos;
                reconnectAtNanos = now() + delay;
                reconnectDelayNanos = Math.min(MAX_RECONNECT_DELAY_NANOS, delay * 2);
                mine.completeExceptionally(cause);
            } else {
                reconnectDelayNanos = MIN_RECONNECT_DELAY_NANOS;
                lastConnectFailure = null;
                current = conn;
                if (closed) {
                    conn.connection.closeAsync();
                }
                mine.complete(conn);
            }
        });
        return mine;
    }

    /**
     * Applies what a new connection learned about the node behind it: {@code redis_mode} for {@link #slotStrict()},
     * the rest for the restart guard.
     */
    private ScriptConnection verified(StatefulRedisConnection<String, String> connection, String info,
            Long recordedMaxLease) {
        if (!"standalone".equals(Handshake.infoField(info, "redis_mode"))) {
            slotStrict = true;
        }
        restarts.connected(info, recordedMaxLease, now());
        return new ScriptConnection(connection, node.name(), restarts, this::refusedCrossSlot, this::now);
    }

    @Override
    public NodeHeldOutException heldOut(long nowNanos) {
        return restarts.heldOut(nowNanos);
    }

    @Override
    public boolean slotStrict() {
        return slotStrict;
    }

    /** A node that refuses a script for spanning hash slots keeps its renewal batches to one slot from now on. */
    private void refusedCrossSlot() {
        if (!slotStrict) {
            slotStrict = true;
            log.warn("node {} refuses scripts whose keys span hash slots; renewals are batched per slot", node.name());
        }
    }

    /** A field of an {@code INFO} reply, or {@code null} when the reply has none. */
    public static String infoField(String info, String field) {
        return Handshake.infoField(info, field);
    }

    /** The cause inside Lettuce's and the JDK's {@code CompletionException} wrappers. */
    public static Throwable unwrap(Throwable e) {
        return ScriptConnection.unwrap(e);
    }

    @Override
    public CompletionStage<Void> subscribe(String channel, Runnable onMessage) {
        return closed ? new CompletableFuture<>() : pubSub.subscribe(channel, onMessage);
    }

    @Override
    public void unsubscribe(String channel, Runnable onMessage) {
        pubSub.unsubscribe(channel, onMessage);
    }

    @Override
    public CompletionStage<Void> closeAsync() {
        closed = true;
        CompletableFuture<Void> done = new CompletableFuture<>();
        ScriptConnection c = current;
        CompletableFuture<Void> closeLock = c == null ? CompletableFuture.completedFuture(null) : c.connection.closeAsync();
        CompletableFuture.allOf(closeLock, pubSub.closeAsync())
                .handle((v, e) -> null)
                .thenCompose(v -> CompletableFuture.allOf(
                        lockClient.shutdownAsync(0, 2, TimeUnit.SECONDS),
                        pubSubClient.shutdownAsync(0, 2, TimeUnit.SECONDS)))
                .whenComplete((v, e) -> done.complete(null));
        return done;
    }
}
