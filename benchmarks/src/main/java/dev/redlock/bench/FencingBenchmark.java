package dev.redlock.bench;

import dev.redlock.LockOptions;
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
 * Fencing tokens on versus off: uncontended acquire + release of this library, {@code inFlight} workers each on its
 * own key, {@value Batch#SIZE} cycles per invocation (score: cycles per second). With {@code fencing=true} the
 * acquire script also reads the fence counter and a second quorum call writes the token back before the lease is
 * handed out: one more round trip per acquire.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar FencingBenchmark
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Benchmark)
public class FencingBenchmark {

    @Param({"1", "5"})
    public int nodes;

    @Param({"1", "16"})
    public int inFlight;

    @Param({"false", "true"})
    public boolean fencing;

    private Env env;
    private Slot[] slots;

    @Setup(Level.Trial)
    public void setUp() {
        env = Env.start(nodes, Impl.REDLOCK, LockOptions.defaults().mutate().fencing(fencing).build());
        slots = Slot.distinct("bench:f", inFlight);
        Batch.run(slots, inFlight, env.driver::cycle);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        try {
            env.verifyNoLocksLeft("fencing");
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
