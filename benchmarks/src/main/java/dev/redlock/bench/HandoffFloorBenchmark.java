package dev.redlock.bench;

import dev.redlock.testkit.RedisServers;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.protocol.ProtocolVersion;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The floor of a contended handoff on this machine, without any lock library: the key is held by one token; one
 * invocation hands it to the next token on every node and waits for a quorum of grants. {@code pipelined}: the
 * holder's compare-and-delete and the next owner's {@code SET NX PX}-style acquire script written back to back on
 * each node's connection (what this library does when the next waiter is in the same client);
 * {@code combined}: one script per node that replaces the holder's token with the next one (what a dedicated
 * handover script would cost). Raw Lettuce async commands, one connection per node, sent from the JMH thread, which
 * blocks until the quorum replied ({@code Mode.SampleTime}: p50, p99 in µs).
 *
 * <p>{@code ContendedBenchmark}'s handoff gap of this library divided by the {@code pipelined} p50 of the same run
 * is what the engine adds on top of Redis and Lettuce.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar HandoffFloorBenchmark
 * </pre>
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Benchmark)
public class HandoffFloorBenchmark {

    static final String KEY = "bench:floor";
    static final String RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) return 1 end"
            + " return 0";
    static final String ACQUIRE = "if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end return 0";
    static final String HANDOVER = "local v = redis.call('get', KEYS[1])"
            + " if v == ARGV[1] or not v then redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0";
    private static final String LEASE_MILLIS = "30000";
    private static final String[] KEYS = {KEY};

    @Param({"1", "5"})
    public int nodes;

    @Param({"pipelined", "combined"})
    public String mode;

    private RedisServers servers;
    private ClientResources resources;
    private RedisClient[] clients;
    private RedisAsyncCommands<String, String>[] commands;
    private String releaseSha;
    private String acquireSha;
    private String handoverSha;
    private int quorum;
    private boolean pipelined;
    private String holder;
    private final AtomicInteger refused = new AtomicInteger();

    @Setup(Level.Trial)
    @SuppressWarnings("unchecked")
    public void setUp() {
        servers = RedisServers.start(nodes);
        resources = DefaultClientResources.create();
        clients = new RedisClient[nodes];
        commands = new RedisAsyncCommands[nodes];
        for (int i = 0; i < nodes; i++) {
            clients[i] = RedisClient.create(resources, servers.uris().get(i));
            clients[i].setOptions(ClientOptions.builder().protocolVersion(ProtocolVersion.RESP2).build());
            StatefulRedisConnection<String, String> connection = clients[i].connect(StringCodec.UTF8);
            commands[i] = connection.async();
            releaseSha = connection.sync().scriptLoad(RELEASE);
            acquireSha = connection.sync().scriptLoad(ACQUIRE);
            handoverSha = connection.sync().scriptLoad(HANDOVER);
        }
        quorum = nodes / 2 + 1;
        pipelined = mode.equals("pipelined");
        holder = RawLettuceDriver.token();
        for (RedisAsyncCommands<String, String> c : commands) {
            c.set(KEY, holder);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        try {
            if (refused.get() > 0) {
                throw new IllegalStateException(refused.get() + " handoffs were refused by a node: the floor is wrong");
            }
        } finally {
            for (RedisClient client : clients) {
                client.shutdown(0, 2, TimeUnit.SECONDS);
            }
            resources.shutdown(0, 2, TimeUnit.SECONDS);
            servers.close();
        }
    }

    @Benchmark
    public void handoff() throws Exception {
        String next = RawLettuceDriver.token();
        CompletableFuture<Void> granted = new CompletableFuture<>();
        AtomicInteger grants = new AtomicInteger();
        for (RedisAsyncCommands<String, String> c : commands) {
            CompletableFuture<Long> reply;
            if (pipelined) {
                c.evalsha(releaseSha, ScriptOutputType.INTEGER, KEYS, holder);
                reply = c.<Long>evalsha(acquireSha, ScriptOutputType.INTEGER, KEYS, next, LEASE_MILLIS)
                        .toCompletableFuture();
            } else {
                reply = c.<Long>evalsha(handoverSha, ScriptOutputType.INTEGER, KEYS, holder, next, LEASE_MILLIS)
                        .toCompletableFuture();
            }
            reply.whenComplete((v, e) -> {
                if (e != null || v == null || v != 1) {
                    refused.incrementAndGet();
                    granted.completeExceptionally(e != null ? e : new IllegalStateException("refused: " + v));
                } else if (grants.incrementAndGet() == quorum) {
                    granted.complete(null);
                }
            });
        }
        granted.get(5, TimeUnit.SECONDS);
        holder = next;
    }
}
