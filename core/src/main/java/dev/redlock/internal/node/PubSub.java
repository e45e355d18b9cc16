package dev.redlock.internal.node;

import dev.redlock.RedisNode;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's release notifications: one auto-reconnecting pub/sub connection (Lettuce subscribes its channels again
 * after a reconnect), opened on first use, and one handler per channel.
 */
final class PubSub {

    private static final Logger log = LoggerFactory.getLogger(PubSub.class);

    private final RedisNode node;
    private final RedisClient client;
    private final Map<String, Runnable> subscriptions = new ConcurrentHashMap<>();
    private final Object order = new Object();
    private final AtomicReference<CompletableFuture<StatefulRedisPubSubConnection<String, String>>> connection =
            new AtomicReference<>();
    private volatile boolean closed;

    PubSub(RedisNode node, RedisClient client) {
        this.node = node;
        this.client = client;
    }

    /** {@link NodeChannel#subscribe}. */
    CompletionStage<Void> subscribe(String channel, Runnable onMessage) {
        if (closed) {
            return new CompletableFuture<>();
        }
        synchronized (order) {
            subscriptions.put(channel, onMessage);
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        connection().whenComplete((c, error) -> {
            if (error != null) {
                done.completeExceptionally(error);
                return;
            }
            RedisFuture<Void> sent;
            synchronized (order) {
                if (subscriptions.get(channel) != onMessage) {
                    done.complete(null); // unsubscribed (or taken over) before the connection was there
                    return;
                }
                sent = c.async().subscribe(channel);
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

    /** {@link NodeChannel#unsubscribe}. */
    void unsubscribe(String channel, Runnable onMessage) {
        CompletableFuture<StatefulRedisPubSubConnection<String, String>> f = connection.get();
        StatefulRedisPubSubConnection<String, String> c =
                f == null || f.isCompletedExceptionally() ? null : f.getNow(null);
        // SUBSCRIBE and UNSUBSCRIBE of one channel are written under one monitor, in the order of the map updates:
        // written from different threads unordered, an UNSUBSCRIBE could overtake the next SUBSCRIBE of the same
        // channel and leave it unsubscribed on the node while the client believes it listens (lost wake-ups).
        synchronized (order) {
            if (subscriptions.remove(channel, onMessage) && c != null && c.isOpen()) {
                c.async().unsubscribe(channel);
            }
        }
    }

    private CompletableFuture<StatefulRedisPubSubConnection<String, String>> connection() {
        CompletableFuture<StatefulRedisPubSubConnection<String, String>> f = connection.get();
        if (f != null && !f.isCompletedExceptionally()) {
            return f;
        }
        CompletableFuture<StatefulRedisPubSubConnection<String, String>> mine = new CompletableFuture<>();
        if (!connection.compareAndSet(f, mine)) {
            return connection.get();
        }
        client.connectPubSubAsync(StringCodec.UTF8, node.uri()).whenComplete((c, e) -> {
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

    /** Closes the connection, if one was opened; later subscriptions never complete. */
    CompletableFuture<Void> closeAsync() {
        closed = true;
        CompletableFuture<StatefulRedisPubSubConnection<String, String>> f = connection.get();
        return f == null
                ? CompletableFuture.completedFuture(null)
                : f.handle((c, e) -> c).thenCompose(c -> c == null
                        ? CompletableFuture.completedFuture(null)
                        : c.closeAsync());
    }
}
