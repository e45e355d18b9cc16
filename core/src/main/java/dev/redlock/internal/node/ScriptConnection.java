package dev.redlock.internal.node;

import dev.redlock.NodeHeldOutException;
import dev.redlock.internal.script.Script;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One verified lock connection to a node ({@link Handshake} made it): it runs scripts through Lettuce's async API,
 * which on the hot path allocates less than its reactive API (measured in the benchmarks).
 *
 * <ul>
 *   <li>The {@code NOSCRIPT} rule: a script the node does not know is sent again with {@code EVAL}, except a script of
 *       kind {@link Script.Kind#ACQUIRE}: sent after the {@code NOSCRIPT} reply it could land after that node's
 *       release and leave a stale key; the node counts as failed for that attempt, and the scripts are loaded again.
 *   <li>Stale-connection detection: a connection that has answered nothing for {@link #STALE_NANOS} while its commands
 *       time out (a blackholed or stopped node) is closed, so the next use opens and verifies a new one.
 *   <li>{@link #closed()} completes when Lettuce reports the connection gone, whichever side closed it.
 * </ul>
 */
final class ScriptConnection implements NodeChannel.NodeConnection {

    private static final Logger log = LoggerFactory.getLogger(ScriptConnection.class);

    /** A connection that has answered nothing for this long while commands time out is closed and reopened. */
    static final long STALE_NANOS = TimeUnit.SECONDS.toNanos(2);

    final StatefulRedisConnection<String, String> connection;
    private final RedisAsyncCommands<String, String> async;
    private final String nodeName;
    private final RestartWatch restarts;
    private final Runnable crossSlot;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private volatile long lastReplyNanos;
    private volatile int consecutiveTimeouts;

    /**
     * @param crossSlot called when the node refuses a script whose keys span hash slots
     */
    ScriptConnection(StatefulRedisConnection<String, String> connection, String nodeName, RestartWatch restarts,
            Runnable crossSlot, LongSupplier now) {
        this.connection = connection;
        this.async = connection.async();
        this.nodeName = nodeName;
        this.restarts = restarts;
        this.crossSlot = crossSlot;
        this.lastReplyNanos = now.getAsLong();
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

    boolean isOpen() {
        return connection.isOpen();
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
            Throwable cause = unwrap(e);
            if (cause.getMessage() != null && cause.getMessage().startsWith("CROSSSLOT")) {
                crossSlot.run();
            }
            if (cause instanceof RedisNoScriptException) {
                async.<Long>eval(script.source(), ScriptOutputType.INTEGER, keys, args).whenComplete((v2, e2) -> {
                    if (e2 == null) {
                        result.complete(v2);
                    } else {
                        result.completeExceptionally(unwrap(e2));
                    }
                });
            } else {
                result.completeExceptionally(cause);
            }
        });
        return result;
    }

    @Override
    public NodeHeldOutException heldOut(long nowNanos) {
        return restarts.heldOut(nowNanos);
    }

    @Override
    public void replied(long nowNanos) {
        lastReplyNanos = nowNanos;
        consecutiveTimeouts = 0;
    }

    @Override
    public void timedOut(long nowNanos) {
        int timeouts = ++consecutiveTimeouts;
        if (timeouts >= 3 && nowNanos - lastReplyNanos > STALE_NANOS && connection.isOpen()) {
            // A blackholed or stopped node: drop the connection so the next use opens (and verifies) a new one,
            // instead of piling commands onto a socket nobody reads.
            log.warn("node {} answered nothing for {} ms; reconnecting", nodeName,
                    TimeUnit.NANOSECONDS.toMillis(nowNanos - lastReplyNanos));
            connection.closeAsync();
        }
    }

    /** The cause inside Lettuce's and the JDK's {@code CompletionException} wrappers. */
    static Throwable unwrap(Throwable e) {
        while (e instanceof CompletionException && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }
}
