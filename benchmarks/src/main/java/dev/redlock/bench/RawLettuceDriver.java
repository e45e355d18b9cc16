package dev.redlock.bench;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.reactive.RedisReactiveCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.protocol.ProtocolVersion;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * The floor: what a hand-written lock on raw Lettuce reactive commands costs. One connection per node (like the
 * engine), {@code SET key token NX PX 30000} to acquire, {@code EVALSHA} compare-and-delete to release, no per-node
 * timeouts beyond Lettuce's own, no retries, no events, a cheap non-cryptographic token.
 *
 * <p>On N > 1 nodes the {@code SET} goes to every node at once; the acquire is decided as soon as a quorum (N/2+1)
 * granted or can no longer grant. The release goes to every node, each node's {@code EVALSHA} sent only after that
 * node's own {@code SET} replied (commands written to one connection from different threads can be reordered, see
 * ecosystem.md §7), and completes once a quorum of nodes answered it, as the engine's does; the rest finish in the
 * background. A failed attempt releases everywhere before it reports.
 *
 * <p>With {@code async} set ({@code impl=rawAsync}) the same lock sends its commands through Lettuce's async API
 * ({@code RedisFuture} callbacks) instead of its reactive one: the pair shows what the choice of API alone costs,
 * which is why the engine uses the async API on its hot path.
 */
final class RawLettuceDriver implements LockDriver {

    static final String RELEASE_SCRIPT =
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";
    static final long LEASE_MILLIS = 30_000;

    private static final SetArgs NX_PX = SetArgs.Builder.nx().px(LEASE_MILLIS);

    private final ClientResources resources;
    private final RedisClient[] clients;
    private final StatefulRedisConnection<String, String>[] connections;
    private final RedisReactiveCommands<String, String>[] commands;
    private final RedisAsyncCommands<String, String>[] async;
    private final boolean useAsync;
    private final String releaseSha;
    private final int n;
    private final int quorum;

    @SuppressWarnings({"unchecked", "rawtypes"})
    RawLettuceDriver(List<String> uris) {
        this(uris, false);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    RawLettuceDriver(List<String> uris, boolean useAsync) {
        this.useAsync = useAsync;
        this.n = uris.size();
        this.quorum = n / 2 + 1;
        this.resources = DefaultClientResources.create();
        this.clients = new RedisClient[n];
        this.connections = new StatefulRedisConnection[n];
        this.commands = new RedisReactiveCommands[n];
        this.async = new RedisAsyncCommands[n];
        String sha = null;
        for (int i = 0; i < n; i++) {
            clients[i] = RedisClient.create(resources, uris.get(i));
            clients[i].setOptions(ClientOptions.builder().protocolVersion(ProtocolVersion.RESP2).build());
            connections[i] = clients[i].connect(StringCodec.UTF8);
            commands[i] = connections[i].reactive();
            async[i] = connections[i].async();
            sha = connections[i].sync().scriptLoad(RELEASE_SCRIPT);
        }
        this.releaseSha = sha;
    }

    int nodes() {
        return n;
    }

    static String token() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return Long.toHexString(r.nextLong()) + Long.toHexString(r.nextLong());
    }

    /** One attempt: emits the hold when granted (by a quorum), completes empty otherwise (after cleaning up). */
    Mono<Hold> tryAcquire(String key) {
        if (n == 1 && useAsync) {
            return Mono.create(sink -> {
                String token = token();
                async[0].set(key, token, NX_PX).whenComplete((ok, error) -> {
                    if (error != null) {
                        sink.error(error);
                    } else if (ok != null) {
                        sink.success(new Hold(key, token, 1));
                    } else {
                        sink.success();
                    }
                });
            });
        }
        if (n == 1) {
            return Mono.defer(() -> {
                String token = token();
                return commands[0].set(key, token, NX_PX).map(ok -> new Hold(key, token, 1));
            });
        }
        return Mono.create(sink -> new Hold(key, token(), n).start(sink));
    }

    @Override
    public Mono<Object> acquire(Slot slot) {
        return tryAcquire(slot.key)
                .switchIfEmpty(Mono.error(() -> new IllegalStateException(
                        "raw acquire of '" + slot.key + "' was refused by a quorum; it should be uncontended")))
                .cast(Object.class);
    }

    @Override
    public Mono<Void> release(Object held) {
        Hold hold = (Hold) held;
        if (n == 1 && useAsync) {
            return Mono.create(sink -> async[0].evalsha(releaseSha, ScriptOutputType.INTEGER, new String[] {hold.key}, hold.token)
                    .whenComplete((reply, error) -> {
                        if (error != null) {
                            sink.error(error);
                        } else {
                            sink.success();
                        }
                    }));
        }
        if (n == 1) {
            return commands[0].evalsha(releaseSha, ScriptOutputType.INTEGER, new String[] {hold.key}, hold.token).then();
        }
        return Mono.create(hold::release);
    }

    @Override
    public void close() {
        for (int i = 0; i < n; i++) {
            connections[i].close();
            clients[i].shutdown(0, 2, TimeUnit.SECONDS);
        }
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }

    /** One acquired (or attempted) lock over N nodes. */
    final class Hold {
        private static final int PENDING = 0;
        private static final int REPLIED = 1;
        private static final int RELEASE_WAITING = 2;
        private static final int RELEASE_SENT = 3;

        final String key;
        final String token;
        private final AtomicIntegerArray state;
        private final AtomicInteger yes = new AtomicInteger();
        private final AtomicInteger no = new AtomicInteger();
        private final AtomicInteger released = new AtomicInteger();
        private volatile MonoSink<Void> releaseSink;

        Hold(String key, String token, int nodes) {
            this.key = key;
            this.token = token;
            this.state = nodes > 1 ? new AtomicIntegerArray(nodes) : null;
        }

        void start(MonoSink<Hold> sink) {
            for (int i = 0; i < n; i++) {
                int node = i;
                if (useAsync) {
                    async[i].set(key, token, NX_PX).whenComplete((ok, error) -> onSet(node, ok != null, sink));
                    continue;
                }
                commands[i].set(key, token, NX_PX).hasElement().subscribe(
                        granted -> onSet(node, granted, sink),
                        error -> onSet(node, false, sink));
            }
        }

        private void onSet(int node, boolean granted, MonoSink<Hold> sink) {
            if (!state.compareAndSet(node, PENDING, REPLIED)) {
                // a release is waiting for this reply: send it now
                state.set(node, RELEASE_SENT);
                sendRelease(node);
            }
            if (granted) {
                if (yes.incrementAndGet() == quorum) {
                    sink.success(this);
                }
            } else if (no.incrementAndGet() == n - quorum + 1) {
                release(null); // failed attempt: clean up everywhere, nobody waits for it
                sink.success();
            }
        }

        /** Sends the release to every node, each after its SET replied; completes the sink at a quorum of replies. */
        void release(MonoSink<Void> sink) {
            releaseSink = sink;
            for (int i = 0; i < n; i++) {
                if (state.compareAndSet(i, PENDING, RELEASE_WAITING)) {
                    continue; // sent by onSet once this node's SET replied
                }
                if (state.compareAndSet(i, REPLIED, RELEASE_SENT)) {
                    sendRelease(i);
                }
            }
        }

        private void sendRelease(int node) {
            if (useAsync) {
                async[node].evalsha(releaseSha, ScriptOutputType.INTEGER, new String[] {key}, token)
                        .whenComplete((reply, error) -> onReleased());
                return;
            }
            commands[node].evalsha(releaseSha, ScriptOutputType.INTEGER, new String[] {key}, token)
                    .then()
                    .subscribe(null, e -> onReleased(), this::onReleased);
        }

        private void onReleased() {
            if (released.incrementAndGet() == quorum) {
                MonoSink<Void> s = releaseSink;
                if (s != null) {
                    s.success();
                }
            }
        }
    }
}
