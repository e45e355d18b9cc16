package dev.redlock.bench;

import dev.redlock.LockOptions;
import dev.redlock.ReactiveRedLock;
import dev.redlock.RestartGuard;
import dev.redlock.ratelimit.RateLimit;
import dev.redlock.ratelimit.RateLimitDecision;
import dev.redlock.ratelimit.RedRateLimiter;
import dev.redlock.testkit.RedisServers;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.distributed.AsyncBucketProxy;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.redis.lettuce.Bucket4jLettuce;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.redisson.Redisson;
import org.redisson.api.RRateLimiterReactive;
import org.redisson.api.RateType;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;
import reactor.core.publisher.Mono;

/**
 * Rate limiter decisions per second, {@code inFlight} workers asking one limiter of {@value #RATE} permits per second
 * (bursts of {@value #RATE}) one {@code tryAcquire(1)} after another, far above the limit, so most answers are
 * refusals. Accuracy beside it: each trial prints a {@code RATELIMIT} line with the permits admitted over the whole
 * trial against the {@code RATE · t + RATE} the limit allows in that time (t on this JVM's clock, from the first
 * decision to the last).
 *
 * <ul>
 *   <li>{@code redlock}: this library's quorum mode ({@code RateLimit.perSecond(RATE).burst(RATE)}); on 5 nodes every
 *       decision runs the script on all 5 and a majority decides.
 *   <li>{@code redlockStrict}: the same limit in strict mode (one node).
 *   <li>{@code bucket4j}: Bucket4j 8.14.0's Lettuce backend ({@code Bucket4jLettuce.casBasedBuilder}, async API), a
 *       bucket of capacity RATE refilled greedily RATE per second; one node (it has no multi-master mode: on 5
 *       nodes it uses the first).
 *   <li>{@code redisson}: Redisson 3.52.0's {@code RRateLimiterReactive}, {@code RateType.OVERALL}, RATE per 1 s
 *       (a sliding window of RATE permits); one node likewise.
 * </ul>
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar RateLimiterBenchmark
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Benchmark)
public class RateLimiterBenchmark {

    static final int RATE = 1000;

    @Param({"1", "5"})
    public int nodes;

    @Param({"16"})
    public int inFlight;

    @Param({"redlock", "redlockStrict", "bucket4j", "redisson"})
    public String impl;

    private RedisServers servers;
    private AutoCloseable client;
    private EventLoopGroup eventLoops;
    private Supplier<Mono<Boolean>> decision;
    private Slot[] slots;
    private final AtomicLong decisions = new AtomicLong();
    private final AtomicLong admitted = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private long firstNanos;
    private long lastNanos;

    @Setup(Level.Trial)
    public void setUp() {
        servers = RedisServers.start(nodes);
        String first = servers.uris().get(0);
        switch (impl) {
            case "redlock", "redlockStrict" -> {
                ReactiveRedLock redlock = ReactiveRedLock.builder()
                        .nodes(servers.uris().toArray(String[]::new))
                        .restartGuard(RestartGuard.RUN_ID)
                        // 1 s per node, not the default 100 ms: the peers wait seconds for a reply, and on a loaded
                        // 2-core machine a JIT or GC pause of 100 ms would fail a decision instead of slowing it
                        .defaults(LockOptions.builder().nodeTimeout(Duration.ofSeconds(1)).build())
                        .build();
                client = redlock;
                redlock.connect().block(Duration.ofSeconds(10));
                RateLimit limit = RateLimit.perSecond(RATE).burst(RATE);
                RedRateLimiter limiter = redlock.rateLimiter("bench:rate",
                        impl.equals("redlockStrict") ? limit.strict() : limit);
                decision = () -> limiter.tryAcquire(1).map(RateLimitDecision::allowed);
            }
            case "bucket4j" -> {
                RedisClient redis = RedisClient.create(first);
                StatefulRedisConnection<String, byte[]> connection =
                        redis.connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE));
                client = () -> {
                    connection.close();
                    redis.shutdown();
                };
                AsyncBucketProxy bucket = Bucket4jLettuce.casBasedBuilder(connection)
                        .expirationAfterWrite(ExpirationAfterWriteStrategy
                                .basedOnTimeForRefillingBucketUpToMax(Duration.ofSeconds(10)))
                        .build()
                        .asAsync()
                        .builder()
                        .build("bench:rate", BucketConfiguration.builder()
                                .addLimit(l -> l.capacity(RATE).refillGreedy(RATE, Duration.ofSeconds(1)))
                                .build());
                decision = () -> Mono.fromFuture(() -> bucket.tryConsume(1));
            }
            case "redisson" -> {
                eventLoops = new MultiThreadIoEventLoopGroup(
                        Math.max(2, Runtime.getRuntime().availableProcessors()), NioIoHandler.newFactory());
                Config config = new Config();
                config.setEventLoopGroup(eventLoops);
                config.useSingleServer().setAddress(first);
                RedissonClient redisson = Redisson.create(config);
                client = redisson::shutdown;
                RRateLimiterReactive limiter = redisson.reactive().getRateLimiter("bench:rate");
                limiter.trySetRate(RateType.OVERALL, RATE, Duration.ofSeconds(1)).block(Duration.ofSeconds(10));
                decision = () -> limiter.tryAcquire(1);
            }
            default -> throw new IllegalArgumentException("unknown impl " + impl);
        }
        slots = Slot.distinct("bench:r", inFlight);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        try {
            double seconds = (lastNanos - firstNanos) / 1e9;
            double allowed = RATE * seconds + RATE;
            System.out.printf("RATELIMIT impl=%s nodes=%d decisions=%d failed=%d admitted=%d allowed=%.0f t=%.3fs"
                            + " admitted/allowed=%.4f%n", impl, nodes, decisions.get(), failed.get(), admitted.get(),
                    allowed, seconds, admitted.get() / allowed);
        } finally {
            try {
                client.close();
            } finally {
                if (eventLoops != null) {
                    eventLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
                }
                servers.close();
            }
        }
    }

    @Benchmark
    @OperationsPerInvocation(Batch.SIZE)
    public void decisions() {
        if (firstNanos == 0) {
            firstNanos = System.nanoTime();
        }
        Batch.run(slots, slot -> decision.get().doOnNext(allowed -> {
            decisions.incrementAndGet();
            if (allowed) {
                admitted.incrementAndGet();
            }
        }).onErrorResume(e -> {
            failed.incrementAndGet(); // counted, not fatal: the RATELIMIT line reports them
            return Mono.empty();
        }));
        lastNanos = System.nanoTime();
    }
}
