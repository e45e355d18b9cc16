package dev.redlock.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * Contended handoff: {@code workers} (16) workers loop on one key: acquire, hold it for a 1 ms critical section
 * ({@code Mono.delay}), release, and at once try again. The workers run on the implementations' threads from the
 * start to the end of each iteration; the JMH thread only counts acquisitions (one invocation = one acquisition,
 * so the score is acquisitions per second). Implementations: this library ({@code redlock}: one client, release
 * notifications over pub/sub plus its local waiting line), Redisson ({@code redisson}: {@code RLockReactive} and its
 * pub/sub wake-up on 1 node, {@code RedissonRedLock} on 5) and a naive lock service polling every 100 ms
 * ({@code polling}: the raw attempt retried with {@code Mono.delay}).
 *
 * <p>The gap between one holder starting its release and the next (different) holder's acquire completing is
 * recorded with HdrHistogram ({@link HandoffRecorder}) and printed as one parseable line per measurement iteration
 * and per trial (pooled over the measurement iterations) on the benchmark's output; the secondary results
 * {@code handoffs} and {@code violations} (JMH {@code @AuxCounters}) are totals over the measurement iterations:
 *
 * <pre>
 * HANDOFF scope=trial impl=redlock nodes=1 workers=16 acquisitions=... handoffs=... gapP50us=... gapP99us=...
 *         anyGapP50us=... anyGapP99us=... sameOwnerPct=... violations=0
 * </pre>
 *
 * ({@code gap*}: handoffs to another worker only; {@code anyGap*}: also a worker re-acquiring after its own
 * release.) Command:
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar ContendedBenchmark 2>&amp;1 | tee contended.txt; grep '^HANDOFF scope=trial' contended.txt
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Benchmark)
public class ContendedBenchmark {

    @Param({"1", "5"})
    public int nodes;

    @Param({"redlock", "redisson", "polling"})
    public String impl;

    @Param({"16"})
    public int workers;

    private Env env;
    private Slot[] slots;
    private final ContentionLoop loop = new ContentionLoop();

    @Setup(Level.Trial)
    public void setUp() {
        env = Env.start(nodes, impl);
        slots = env.prepare(Slot.shared("bench:c", workers));
    }

    @Setup(Level.Iteration)
    public void startWorkers(IterationParams params) {
        loop.start(env.driver, slots, params.getType() == IterationType.MEASUREMENT);
    }

    @TearDown(Level.Iteration)
    public void stopWorkers() throws InterruptedException {
        boolean measuring = loop.measuring();
        HandoffRecorder.Snapshot s = loop.stop(impl);
        if (measuring) {
            System.out.println(s.line("iteration", impl, nodes, workers));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        try {
            System.out.println(loop.trial.snapshot().line("trial", impl, nodes, workers));
            env.verifyNoLocksLeft("contended");
        } finally {
            env.close();
        }
    }

    /**
     * Secondary results, totals over the measurement iterations (JMH sums {@code EVENTS} counters over iterations,
     * which is why the gap percentiles are not reported this way but in the {@code HANDOFF} lines).
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Counts {
        /** Acquisitions by a different worker than the previous holder. */
        public long handoffs;
        /** Acquisitions while another worker held the lock (must be 0). */
        public long violations;

        /** JMH runs this before the benchmark state's iteration teardown: read the live recorder. */
        @TearDown(Level.Iteration)
        public void collect(ContendedBenchmark bench) {
            HandoffRecorder.Snapshot s = bench.loop.iteration.snapshot();
            handoffs = s.handoffs;
            violations = s.violations;
        }
    }

    @Benchmark
    public void acquisitions(Counts counts) throws InterruptedException {
        loop.awaitAcquisition();
    }
}
