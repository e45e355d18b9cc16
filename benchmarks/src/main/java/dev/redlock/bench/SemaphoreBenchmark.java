package dev.redlock.bench;

import dev.redlock.testkit.RedisServers;
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
 * Semaphore acquire + release throughput: {@code inFlight} workers share <b>one</b> semaphore of {@value #PERMITS}
 * permits, each acquiring one permit and releasing it, again and again; one invocation is a batch of
 * {@value Batch#SIZE} cycles (the score is cycles per second). {@value #PERMITS} permits = the largest in-flight
 * count, so no acquirer ever waits for a permit: what is measured is the cost of an uncontended acquire + release.
 * Implementations ({@link SemaphoreDriver}): this library ({@code redlock}, on all the trial's nodes), Redisson's
 * {@code RPermitExpirableSemaphore} ({@code redisson-permit-expirable}) and {@code RSemaphore}
 * ({@code redisson-semaphore}). <b>Redisson has no multi-master semaphore: on 5 nodes its semaphores run on one of
 * them (a single master)</b>, while this library asks all 5 and waits for a quorum.
 *
 * <p>After each trial the nodes are checked for permits still held ({@code LEFTOVER semaphore … keys=0}).
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar SemaphoreBenchmark -prof gc
 * java -jar benchmarks/target/benchmarks.jar SemaphoreBenchmark -p nodes=5 -p inFlight=16   # one column
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Benchmark)
public class SemaphoreBenchmark {

    /** The semaphore's permits, P: at least the largest in-flight count, so that acquirers do not wait. */
    static final int PERMITS = 64;

    @Param({"1", "5"})
    public int nodes;

    @Param({"1", "16", "64"})
    public int inFlight;

    @Param({"redlock", "redisson-permit-expirable", "redisson-semaphore"})
    public String impl;

    private RedisServers servers;
    private SemaphoreDriver driver;
    private Slot[] workers;

    @Setup(Level.Trial)
    public void setUp() {
        servers = RedisServers.start(nodes);
        try {
            driver = SemaphoreDriver.start(impl, servers, PERMITS);
        } catch (RuntimeException e) {
            servers.close();
            throw e;
        }
        workers = Slot.shared(SemaphoreDriver.NAME, inFlight);
        Batch.run(workers, inFlight, w -> driver.cycle()); // connections and scripts warm before the first iteration
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        try {
            verifyNoPermitsHeld();
        } finally {
            try {
                driver.close();
            } finally {
                servers.close();
            }
        }
    }

    /**
     * Every acquire was released: waits up to 2 s for releases still finishing on the other nodes, prints one
     * {@code LEFTOVER} line (counted in the summary with the lock benchmarks') and fails the trial if permits remain.
     */
    private void verifyNoPermitsHeld() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        int held = driver.heldPermits();
        while (held != 0 && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            held = driver.heldPermits();
        }
        System.out.println("LEFTOVER semaphore impl=" + impl + " nodes=" + nodes + " keys=" + held);
        if (held != 0) {
            throw new IllegalStateException("semaphore: permits still held after their release: " + held);
        }
    }

    @Benchmark
    @OperationsPerInvocation(Batch.SIZE)
    public void cycles() {
        Batch.run(workers, w -> driver.cycle());
    }
}
