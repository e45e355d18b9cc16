package dev.redlock.bench;

import java.util.concurrent.TimeUnit;
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
 * Latency of one uncontended acquire + release with one operation in flight: the JMH thread subscribes to the cycle
 * and blocks until the release completed; {@code Mode.SampleTime} gives the percentiles ({@code p0.50} is the goal
 * figure). Same implementations and nodes as {@link UncontendedBenchmark}. The wake-up of the blocked JMH thread is
 * part of every implementation's figure alike.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar CycleLatencyBenchmark
 * </pre>
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Benchmark)
public class CycleLatencyBenchmark {

    @Param({"1", "3", "5"})
    public int nodes;

    @Param({"redlock", "raw", "redisson", "redissonMulti"})
    public String impl;

    private Env env;
    private Slot slot;

    @Setup(Level.Trial)
    public void setUp() {
        env = Env.start(nodes, impl);
        slot = env.prepare(Slot.distinct("bench:l", 1))[0];
        for (int i = 0; i < 100; i++) {
            env.driver.cycle(slot).block();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        try {
            env.verifyNoLocksLeft("latency");
        } finally {
            env.close();
        }
    }

    @Benchmark
    public void cycle() {
        env.driver.cycle(slot).block();
    }
}
