package dev.redlock.internal.node;

import dev.redlock.NodeDownException;
import dev.redlock.NodeHeldOutException;
import dev.redlock.RedisNode;
import dev.redlock.RestartGuard;
import dev.redlock.internal.event.EventBus;
import dev.redlock.internal.script.LockScript;
import dev.redlock.internal.script.Script;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.protocol.ProtocolVersion;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;

/**
 * A node reached through Lettuce.
 *
 * <p>The lock connection has auto-reconnect off: a broken connection rejects commands at once (nothing buffered is
 * replayed later), and this class opens the next connection itself. Every new connection is verified before use:
 * {@code INFO server} gives the {@code run_id} and uptime the {@link RestartGuard} needs, and the scripts are loaded.
 * Release notifications use a second, auto-reconnecting pub/sub connection.
 */
public final class LettuceNode implements NodeChannel {

    private static final Logger log = LoggerFactory.getLogger(LettuceNode.class);

    private static final long MIN_RECONNECT_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final long MAX_RECONNECT_DELAY_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** A connection that has answered nothing for this long while commands time out is closed and reopened. */
    private static final long STALE_CONNECTION_NANOS = TimeUnit.SECONDS.toNanos(2);

    private final RedisNode node;
    private final RedisClient lockClient;
    private final RedisClient pubSubClient;
    private final Scheduler scheduler;
    private final RestartGuard guard;
    private final HoldOutTime holdOut;
    /** The key of the key space's maximum lease time record ({@link HoldOutTime}). */
    private final String maxLeaseKey;
    private final Duration connectTimeout;
    private final EventBus events;

    private volatile Conn current;
    private final AtomicReference<CompletableFuture<NodeConnection>> connecting = new AtomicReference<>();
    private volatile long reconnectAtNanos;
    private volatile long reconnectDelayNanos = MIN_RECONNECT_DELAY_NANOS;
    private volatile Throwable lastConnectFailure;
    private volatile boolean closed;

    private final RestartWatch restarts;
    /** See {@link NodeChannel#slotStrict()}; once true it stays true. */
    private volatile boolean slotStrict;

    private final Map<String, Runnable> subscriptions = new ConcurrentHashMap<>();
    private final Object pubSubOrder = new Object();
    private final AtomicReference<CompletableFuture<StatefulRedisPubSubConnection<String, String>>> pubSub =
            new AtomicReference<>();

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
        this.guard = guard;
        this.holdOut = holdOut;
        this.maxLeaseKey = keyPrefix + "max-lease-ms";
        this.restarts = new RestartWatch(node.name(), guard, holdOut, events);
        this.connectTimeout = connectTimeout;
        this.events = events;
        SocketOptions socket = SocketOptions.builder().connectTimeout(connectTimeout).build();
        SslOptions ssl = sslOptions != null ? sslOptions : SslOptions.create();
        this.lockClient = RedisClient.create(resources);
        this.lockClient.setOptions(ClientOptions.builder()
                // the engine enforces its own per-node timeouts; Lettuce's per-command timer would only add a timer
                // task per command (stuck commands are dropped with their connection instead, see Conn#timedOut)
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
        Conn c = current;
        return c != null && c.connection.isOpen() ? c : null;
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
        openAndVerify().whenComplete((conn, error) -> {
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

    private CompletableFuture<Conn> openAndVerify() {
        CompletableFuture<Conn> result = new CompletableFuture<>();
        // Bound the whole handshake on the scheduler: a stopped server accepts TCP connections but never answers.
        Disposable timer = scheduler.schedule(
                () -> result.completeExceptionally(new TimeoutException(
                        "no handshake with " + node.name() + " within " + connectTimeout)),
                connectTimeout.toMillis(),
                TimeUnit.MILLISECONDS);
        lockClient
                .connectAsync(StringCodec.UTF8, node.uri())
                .thenCompose(connection -> {
                    if (result.isDone()) {
                        connection.closeAsync();
                        return result;
                    }
                    RedisAsyncCommands<String, String> async = connection.async();
                    CompletableFuture<?>[] loads = new CompletableFuture<?>[LockScript.PRELOADED.size()];
                    for (int i = 0; i < loads.length; i++) {
                        loads[i] = async.scriptLoad(LockScript.PRELOADED.get(i).source()).toCompletableFuture();
                    }
                    CompletableFuture<Long> recorded = guard == RestartGuard.OFF
                            ? CompletableFuture.completedFuture(null)
                            : async.<Long>eval(LockScript.MAX_LEASE.source(), ScriptOutputType.INTEGER,
                                    new String[] {maxLeaseKey}, Long.toString(holdOut.ownMillis())).toCompletableFuture();
                    return async.info("server")
                            .toCompletableFuture()
                            .thenCombine(CompletableFuture.allOf(loads), (info, ignored) -> info)
                            .thenCombine(recorded, (info, maxLease) -> verified(connection, info, maxLease))
                            .whenComplete((conn, error) -> {
                                if (error != null || result.isDone()) {
                                    connection.closeAsync();
                                }
                            });
                })
                .whenComplete((conn, error) -> {
                    timer.dispose();
                    if (error != null) {
                        result.completeExceptionally(error);
                    } else if (!result.complete(conn)) {
                        conn.connection.closeAsync();
                    }
                });
        return result;
    }

    /**
     * Applies what a new connection learned about the node behind it: {@code INFO server} ({@code redis_mode} for
     * {@link #slotStrict()}; {@code run_id} and {@code uptime_in_seconds} for the restart guard) and the key space's
     * maximum lease time record.
     */
    private Conn verified(StatefulRedisConnection<String, String> connection, String info, Long recordedMaxLease) {
        if (!"standalone".equals(infoField(info, "redis_mode"))) {
            slotStrict = true;
        }
        restarts.connected(info, recordedMaxLease, now());
        return new Conn(connection);
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
    private void noteCrossSlot(Throwable error) {
        Throwable e = unwrap(error);
        if (!slotStrict && e != null && e.getMessage() != null && e.getMessage().startsWith("CROSSSLOT")) {
            slotStrict = true;
            log.warn("node {} refuses scripts whose keys span hash slots; renewals are batched per slot", node.name());
        }
    }

    public static String infoField(String info, String field) {
        String prefix = field + ":";
        for (String line : info.split("\r?\n")) {
            if (line.startsWith(prefix)) {
                return line.substring(prefix.length()).trim();
            }
        }
        return null;
    }

    /** A verified lock connection. */
    private final class Conn implements NodeConnection {
        final StatefulRedisConnection<String, String> connection;
        final RedisAsyncCommands<String, String> async;
        final CompletableFuture<Void> closed = new CompletableFuture<>();
        volatile long lastReplyNanos = now();
        volatile int consecutiveTimeouts;

        Conn(StatefulRedisConnection<String, String> connection) {
            this.connection = connection;
            this.async = connection.async();
            if (connection instanceof RedisChannelHandler) {
                ((RedisChannelHandler<?, ?>) connection).addListener(new RedisConnectionStateListener() {
                    @Override
                    public void onRedisDisconnected(RedisChannelHandler<?, ?> c) {
                        closed.complete(null);
                    }
                });
            }
            if (!connection.isOpen()) {
                closed.complete(null); // closed before the listener was there
            }
        }

        @Override
        public CompletionStage<Void> closed() {
            return closed;
        }

        @Override
        public CompletionStage<Long> eval(Script script, String[] keys, String[] args) {
            CompletableFuture<Long> sent = async.<Long>evalsha(script.sha1(), ScriptOutputType.INTEGER, keys, args)
                    .toCompletableFuture();
            if (script.kind() == Script.Kind.ACQUIRE) {
                // No EVAL fallback for an acquire: sent after the NOSCRIPT reply it could land after this node's
                // release and leave a stale key. The node counts as failed for this attempt; scripts are reloaded.
                sent.whenComplete((v, e) -> {
                    if (unwrap(e) instanceof RedisNoScriptException) {
                        async.scriptLoad(script.source());
                    }
                });
                return sent;
            }
            CompletableFuture<Long> result = new CompletableFuture<>();
            sent.whenComplete((v, e) -> {
                if (e == null) {
                    result.complete(v);
                    return;
                }
                noteCrossSlot(e);
                if (unwrap(e) instanceof RedisNoScriptException) {
                    async.<Long>eval(script.source(), ScriptOutputType.INTEGER, keys, args).whenComplete((v2, e2) -> {
                        if (e2 == null) {
                            result.complete(v2);
                        } else {
                            result.completeExceptionally(unwrap(e2));
                        }
                    });
                } else {
                    result.completeExceptionally(unwrap(e));
                }
            });
            return result;
        }

        @Override
        public NodeHeldOutException heldOut(long nowNanos) {
            return LettuceNode.this.heldOut(nowNanos);
        }

        @Override
        public void replied(long nowNanos) {
            lastReplyNanos = nowNanos;
            consecutiveTimeouts = 0;
        }

        @Override
        public void timedOut(long nowNanos) {
            int timeouts = ++consecutiveTimeouts;
            if (timeouts >= 3 && nowNanos - lastReplyNanos > STALE_CONNECTION_NANOS && connection.isOpen()) {
                // A blackholed or stopped node: drop the connection so the next use opens (and verifies) a new one,
                // instead of piling commands onto a socket nobody reads.
                log.warn("node {} answered nothing for {} ms; reconnecting", node.name(),
                        TimeUnit.NANOSECONDS.toMillis(nowNanos - lastReplyNanos));
                connection.closeAsync();
            }
        }
    }

    public static Throwable unwrap(Throwable e) {
        while (e instanceof CompletionException && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    // == Release notifications ==

    @Override
    public CompletionStage<Void> subscribe(String channel, Runnable onMessage) {
        if (closed) {
            return new CompletableFuture<>();
        }
        synchronized (pubSubOrder) {
            subscriptions.put(channel, onMessage);
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        pubSubConnection().whenComplete((connection, error) -> {
            if (error != null) {
                done.completeExceptionally(error);
                return;
            }
            RedisFuture<Void> sent;
            synchronized (pubSubOrder) {
                if (subscriptions.get(channel) != onMessage) {
                    done.complete(null); // unsubscribed (or taken over) before the connection was there
                    return;
                }
                sent = connection.async().subscribe(channel);
            }
            sent.whenComplete((ok, e) -> {
                if (e != null) {
                    done.completeExceptionally(e);
                } else {
                    done.complete(null);
                }
            });
        });
        return done;
    }

    @Override
    public void unsubscribe(String channel, Runnable onMessage) {
        CompletableFuture<StatefulRedisPubSubConnection<String, String>> f = pubSub.get();
        StatefulRedisPubSubConnection<String, String> c =
                f == null || f.isCompletedExceptionally() ? null : f.getNow(null);
        // SUBSCRIBE and UNSUBSCRIBE of one channel are written under one monitor, in the order of the map updates:
        // written from different threads unordered, an UNSUBSCRIBE could overtake the next SUBSCRIBE of the same
        // channel and leave it unsubscribed on the node while the client believes it listens (lost wake-ups).
        synchronized (pubSubOrder) {
            if (subscriptions.remove(channel, onMessage) && c != null && c.isOpen()) {
                c.async().unsubscribe(channel);
            }
        }
    }

    private CompletableFuture<StatefulRedisPubSubConnection<String, String>> pubSubConnection() {
        CompletableFuture<StatefulRedisPubSubConnection<String, String>> f = pubSub.get();
        if (f != null && !f.isCompletedExceptionally()) {
            return f;
        }
        CompletableFuture<StatefulRedisPubSubConnection<String, String>> mine = new CompletableFuture<>();
        if (!pubSub.compareAndSet(f, mine)) {
            return pubSub.get();
        }
        pubSubClient.connectPubSubAsync(StringCodec.UTF8, node.uri()).whenComplete((c, e) -> {
            if (e != null) {
                log.debug("pub/sub connection to {} failed: {}", node.name(), e.toString());
                mine.completeExceptionally(e);
                return;
            }
            c.addListener(new RedisPubSubAdapter<>() {
                @Override
                public void message(String channel, String message) {
                    Runnable handler = subscriptions.get(channel);
                    if (handler != null) {
                        handler.run();
                    }
                }
            });
            mine.complete(c);
        });
        return mine;
    }

    @Override
    public CompletionStage<Void> closeAsync() {
        closed = true;
        CompletableFuture<Void> lock = new CompletableFuture<>();
        Conn c = current;
        CompletableFuture<Void> closeLock = c == null ? CompletableFuture.completedFuture(null) : c.connection.closeAsync();
        CompletableFuture<StatefulRedisPubSubConnection<String, String>> ps = pubSub.get();
        CompletableFuture<Void> closePubSub = ps == null
                ? CompletableFuture.completedFuture(null)
                : ps.handle((conn, e) -> conn).thenCompose(conn -> conn == null
                        ? CompletableFuture.completedFuture(null)
                        : conn.closeAsync());
        CompletableFuture.allOf(closeLock, closePubSub)
                .handle((v, e) -> null)
                .thenCompose(v -> CompletableFuture.allOf(
                        lockClient.shutdownAsync(0, 2, TimeUnit.SECONDS),
                        pubSubClient.shutdownAsync(0, 2, TimeUnit.SECONDS)))
                .whenComplete((v, e) -> lock.complete(null));
        return lock;
    }
}
