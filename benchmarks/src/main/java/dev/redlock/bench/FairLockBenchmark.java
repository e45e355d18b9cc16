package dev.redlock.bench;

import dev.redlock.Backoff;
import dev.redlock.LockOptions;
import java.time.Duration;
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
import org.openjdk.jmh.infra.IterationParams;

/**
 * Contended handoff and fairness of the fair lock: {@code clients} separate clients (3), each with
 * {@code perClient} workers (4), loop on <b>one</b> key: acquire, hold it for a 1 ms critical section
 * ({@code Mono.delay}), release, at once queue again ({@link ContentionLoop}; one invocation = one acquisition, so the
 * score is acquisitions per second). Implementations ({@code impl}): this library's fair lock ({@code fair},
 * {@code fairLock(key).acquire()}), its plain lock ({@code redlock}, {@code acquire(key)}: waiters of one client in a
 * local line, the clients racing on the release notification) and Redisson's {@code RFairLock} ({@code redissonFair},
 * reactive, 30 s lease). <b>Redisson has no multi-node fair lock: on 5 nodes {@code redissonFair} runs on the first
 * node only</b> (one master), while this library's locks ask all 5 and decide at a quorum.
 *
 * <p>Figures, one parseable line per measurement iteration and per trial (pooled over the measurement iterations):
 * the handoff gap (the holder starting its release to the next, different, worker's acquire completing; HdrHistogram)
 * p50/p99, the share of the acquisitions each client got, the smallest and largest share of one worker, and the
 * acquires' waits (subscription to grant) p50/p99 and the longest:
 *
 * <pre>
 * FAIRNESS scope=trial impl=fair nodes=1 clients=3 workers=12 acquisitions=... handoffs=... gapP50us=... gapP99us=...
 *          sameOwnerPct=... clientSharePct=33.3/33.3/33.3 workerMinPct=... workerMaxPct=... waitP50ms=...
 *          waitP99ms=... waitMaxMs=... violations=0
 * </pre>
 *
 * After each trial: what the nodes ran per acquisition over the measurement iterations ({@link CommandStats}:
 * scripts, subscriptions, publishes and their server time, one {@code COMMANDS fair ...} line), and a check for lock
 * keys and waiter queues left behind ({@code LEFTOVER fair ...}).
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar FairLockBenchmark 2>&amp;1 | tee fair.txt; grep '^FAIRNESS scope=trial' fair.txt
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Benchmark)
public class FairLockBenchmark {

    @Param({"1", "5"})
    public int nodes;

    @Param({"fair", "redlock", "redissonFair"})
    public String impl;

    @Param({"3"})
    public int clients;

    @Param({"4"})
    public int perClient;

    /**
     * This library's backoff between a waiter's attempts: {@code default} (the default options), or a constant delay
     * in ms (to see what the waiters' own retries cost; they are also woken by the release).
     */
    @Param({"default"})
    public String backoff;

    private Env env;
    private Slot[] slots;
    private final ContentionLoop loop = new ContentionLoop();
    /** The nodes' command counts cover the measurement iterations. */
    private final CommandStats.Window window = new CommandStats.Window();

    @Setup(Level.Trial)
    public void setUp() {
        LockOptions options = backoff.equals("default") ? LockOptions.defaults()
                : LockOptions.builder().backoff(Backoff.constant(Duration.ofMillis(Long.parseLong(backoff)))).build();
        env = Env.start(nodes, Impl.of(impl), options, clients);
        slots = env.prepare(Slot.shared("bench:f", clients * perClient));
    }

    @Setup(Level.Iteration)
    public void startWorkers(IterationParams params) {
        loop.start(env.driver, slots, window.iteration(params, env.servers));
    }

    @TearDown(Level.Iteration)
    public void stopWorkers() throws InterruptedException {
        boolean measuring = loop.measuring();
        HandoffRecorder.Snapshot s = loop.stop(impl);
        if (measuring) {
            System.out.println(s.fairnessLine("iteration", impl, nodes, clients, perClient));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        try {
            HandoffRecorder.Snapshot trial = loop.trial.snapshot();
            System.out.println(trial.fairnessLine("trial", impl, nodes, clients, perClient));
            System.out.println(CommandStats.line("fair", impl, nodes, CommandStats.read(env.servers), trial.acquisitions));
            env.verifyNoLocksLeft("fair");
        } finally {
            env.close();
        }
    }

    @Benchmark
    public void acquisitions() throws InterruptedException {
        loop.awaitAcquisition();
    }
}
