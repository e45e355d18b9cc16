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
import org.openjdk.jmh.infra.IterationParams;

/**
 * Acquire + release throughput of one kind of lock ({@link ReadWriteLockBenchmark}, {@link MultiLockBenchmark}) or of
 * one client setup ({@link MetricsOverheadBenchmark}): {@code inFlight} workers, each on its slot, acquire and
 * release, again and again; one invocation is a batch of {@value Batch#SIZE} cycles (the score is cycles per second),
 * on {@code nodes} nodes the trial starts itself. After each trial: what the nodes ran per cycle over the measurement
 * iterations ({@link CommandStats}, one {@code COMMANDS <label> ...} line) and a check for lock keys left behind
 * ({@code LEFTOVER <label> ...}).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Benchmark)
public abstract class LockCyclesBenchmark {

    @Param({"1", "5"})
    public int nodes;

    @Param({"1", "16"})
    public int inFlight;

    private Env env;
    private Slot[] slots;
    private final CommandStats.Window window = new CommandStats.Window();

    /** The trial's nodes and lock driver, from the parameters. */
    abstract Env start();

    /** The workers' slots, from the parameters. */
    abstract Slot[] slots();

    /** The label of the {@code COMMANDS} and {@code LEFTOVER} lines. */
    abstract String label();

    /** The trial's parameters in the {@code COMMANDS} line, {@code name=value} separated by spaces. */
    abstract String params();

    /** Called at the end of each trial, after the {@code COMMANDS} line and before the leftover check; none here. */
    void trialEnded() {}

    @Setup(Level.Trial)
    public void setUp() {
        env = start();
        slots = env.prepare(slots());
        Batch.run(slots, inFlight, env.driver::cycle); // connections and scripts warm before the first iteration
    }

    @Setup(Level.Iteration)
    public void iteration(IterationParams params) {
        window.iteration(params, env.servers);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        try {
            System.out.println(window.line(label(), params(), env.servers));
            trialEnded();
            env.verifyNoLocksLeft(label());
        } finally {
            env.close();
        }
    }

    @Benchmark
    @OperationsPerInvocation(Batch.SIZE)
    public void cycles() {
        Batch.run(slots, env.driver::cycle);
        window.count(Batch.SIZE);
    }
}
