package dev.redlock.internal.node;

import dev.redlock.RedisNode;
import dev.redlock.RestartGuard;
import dev.redlock.internal.script.LockScript;
import dev.redlock.internal.script.Preloaded;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;

/**
 * Opens and verifies one lock connection, within the connect timeout (a stopped server accepts TCP connections but
 * never answers): in one round trip it loads the scripts that must never fall back to {@code EVAL}
 * ({@link Preloaded#SCRIPTS}), records this client's maximum lease time on the node ({@link HoldOutTime}), and
 * reads {@code INFO server}, whose {@code run_id}, {@code uptime_in_seconds} and {@code redis_mode} go to the
 * {@link RestartWatch} and the node's slot rule.
 */
final class Handshake {

    private final RedisNode node;
    private final RedisClient client;
    private final Scheduler scheduler;
    private final Duration connectTimeout;
    private final RestartGuard guard;
    private final HoldOutTime holdOut;
    /** The key of the key space's maximum lease time record ({@link HoldOutTime}). */
    private final String maxLeaseKey;

    Handshake(RedisNode node, RedisClient client, Scheduler scheduler, Duration connectTimeout, RestartGuard guard,
            HoldOutTime holdOut, String keyPrefix) {
        this.node = node;
        this.client = client;
        this.scheduler = scheduler;
        this.connectTimeout = connectTimeout;
        this.guard = guard;
        this.holdOut = holdOut;
        this.maxLeaseKey = keyPrefix + "max-lease-ms";
    }

    /** What a verified connection learned about its node. */
    interface Verifier {
        ScriptConnection verified(StatefulRedisConnection<String, String> connection, String info,
                Long recordedMaxLeaseMillis);
    }

    /** A new verified connection, or the failure (a timeout when the node does not answer in time). */
    CompletableFuture<ScriptConnection> open(Verifier verifier) {
        CompletableFuture<ScriptConnection> result = new CompletableFuture<>();
        Disposable timer = scheduler.schedule(
                () -> result.completeExceptionally(new TimeoutException(
                        "no handshake with " + node.name() + " within " + connectTimeout)),
                connectTimeout.toMillis(),
                TimeUnit.MILLISECONDS);
        client.connectAsync(StringCodec.UTF8, node.uri())
                .thenCompose(connection -> {
                    if (result.isDone()) {
                        connection.closeAsync();
                        return result;
                    }
                    RedisAsyncCommands<String, String> async = connection.async();
                    CompletableFuture<?>[] loads = new CompletableFuture<?>[Preloaded.SCRIPTS.size()];
                    for (int i = 0; i < loads.length; i++) {
                        loads[i] = async.scriptLoad(Preloaded.SCRIPTS.get(i).source()).toCompletableFuture();
                    }
                    CompletableFuture<Long> recorded = guard == RestartGuard.OFF
                            ? CompletableFuture.completedFuture(null)
                            : async.<Long>eval(LockScript.MAX_LEASE.source(), ScriptOutputType.INTEGER,
                                    new String[] {maxLeaseKey}, Long.toString(holdOut.ownMillis())).toCompletableFuture();
                    return async.info("server")
                            .toCompletableFuture()
                            .thenCombine(CompletableFuture.allOf(loads), (info, ignored) -> info)
                            .thenCombine(recorded, (info, maxLease) -> verifier.verified(connection, info, maxLease))
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

    /** A field of an {@code INFO} reply, or {@code null} when the reply has none. */
    static String infoField(String info, String field) {
        String prefix = field + ":";
        for (String line : info.split("\r?\n")) {
            if (line.startsWith(prefix)) {
                return line.substring(prefix.length()).trim();
            }
        }
        return null;
    }

}
