package dev.redlock.bench;

import dev.redlock.LockOptions;
import dev.redlock.ReactiveRedLock;
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
import reactor.core.publisher.Mono;

/**
 * The cost of the scoped API over the bare lock: the same trivial body ({@code Mono.just(1)}) run under the lock
 * three ways, uncontended, {@code inFlight} workers each on its own key, {@value Batch#SIZE} runs per invocation
 * (score: runs per second):
 *
 * <ul>
 *   <li>{@code bare}: {@code acquire(key).flatMap(lease -> body.then(lease.release()))}, the body between a bare
 *       acquire and release;
 *   <li>{@code withLock}: {@code withLock(key, body)} with the default options (watchdog on: a renewal timer and a
 *       deadline timer per scope, the lease in the Reactor context, release on complete/error/cancel);
 *   <li>{@code withLockNoWatchdog}: {@code withLock} with {@code watchdog(false)} (deadline timer only).
 * </ul>
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar WithLockBenchmark -prof gc
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Benchmark)
public class WithLockBenchmark {

    private static final Mono<Integer> BODY = Mono.just(1);

    @Param({"1", "5"})
    public int nodes;

    @Param({"1", "16"})
    public int inFlight;

    private Env env;
    private ReactiveRedLock client;
    private Slot[] slots;
    private final LockOptions noWatchdog = LockOptions.defaults().mutate().watchdog(false).build();

    @Setup(Level.Trial)
    public void setUp() {
        env = Env.start(nodes, "redlock");
        client = ((RedlockDriver) env.driver).client;
        slots = Slot.distinct("bench:w", inFlight);
        Batch.run(slots, inFlight, this::withLockRun);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        try {
            env.verifyNoLocksLeft("withLock");
        } finally {
            env.close();
        }
    }

    private Mono<Integer> bareRun(Slot s) {
        return client.acquire(s.key).flatMap(lease -> BODY.flatMap(v -> lease.release().thenReturn(v)));
    }

    private Mono<Integer> withLockRun(Slot s) {
        return client.withLock(s.key, BODY);
    }

    private Mono<Integer> withLockNoWatchdogRun(Slot s) {
        return client.withLock(s.key, noWatchdog, BODY);
    }

    @Benchmark
    @OperationsPerInvocation(Batch.SIZE)
    public void bare() {
        Batch.run(slots, this::bareRun);
    }

    @Benchmark
    @OperationsPerInvocation(Batch.SIZE)
    public void withLock() {
        Batch.run(slots, this::withLockRun);
    }

    @Benchmark
    @OperationsPerInvocation(Batch.SIZE)
    public void withLockNoWatchdog() {
        Batch.run(slots, this::withLockNoWatchdogRun);
    }
}
