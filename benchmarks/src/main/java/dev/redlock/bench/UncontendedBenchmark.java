package dev.redlock.bench;

import java.util.concurrent.TimeUnit;
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

/**
 * Uncontended acquire + release throughput: {@code inFlight} workers, each on its own key, each doing acquire then
 * release one after another; one invocation is a batch of {@value Batch#SIZE} cycles (so the score is cycles per
 * second), for this library ({@code redlock}), the raw Lettuce floor ({@code raw}), Redisson ({@code redisson}:
 * {@code RLockReactive} on 1 node, {@code RedissonRedLock} on 3 and 5) and {@code RedissonMultiLock}
 * ({@code redissonMulti}), on 1, 3 and 5 redis-server processes the trial starts itself. With {@code -prof gc},
 * {@code gc.alloc.rate.norm} is the allocation per acquire + release (all threads of the JVM).
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar UncontendedBenchmark -prof gc
 * java -jar benchmarks/target/benchmarks.jar UncontendedBenchmark -p nodes=5 -p inFlight=16   # one column
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Benchmark)
public class UncontendedBenchmark {

    @Param({"1", "3", "5"})
    public int nodes;

    @Param({"1", "16", "64"})
    public int inFlight;

    @Param({"redlock", "raw", "redisson", "redissonMulti"})
    public String impl;

    private Env env;
    private Slot[] slots;

    @Setup(Level.Trial)
    public void setUp() {
        env = Env.start(nodes, impl);
        slots = env.prepare(Slot.distinct("bench:u", inFlight));
        Batch.run(slots, inFlight, env.driver::cycle); // connections and scripts warm before the first iteration
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        try {
            env.verifyNoLocksLeft("uncontended");
        } finally {
            env.close();
        }
    }

    @Benchmark
    @OperationsPerInvocation(Batch.SIZE)
    public void cycles() {
        Batch.run(slots, env.driver::cycle);
    }
}
