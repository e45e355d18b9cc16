package dev.redlock.bench;

import dev.redlock.LockOptions;
import dev.redlock.ReactiveRedLock;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
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
import reactor.core.publisher.Sinks;

/**
 * Watchdog overhead: the uncontended acquire + release workload of {@link UncontendedBenchmark} (this library, 16
 * in flight, each worker on its own key) while the same client holds {@code held} other leases inside
 * {@code withLock} scopes whose watchdogs keep renewing them. The held leases use a lease time of
 * {@code heldLeaseMs} (default 3 s, so each is renewed every second: {@code held} renewals per second on every
 * node) and are taken in setup, at most 64 acquires in flight. Compare the score at {@code held=0} and
 * {@code held=10000}. At the end of the trial one parseable line reports the heap each held scope costs and how many
 * held leases were lost (should be 0; the smoke test requires it, the full suite reports it):
 *
 * <pre>
 * WATCHDOG nodes=1 held=10000 heldLeaseMs=3000 lost=0 activeAtEnd=10000 heapPerLeaseBytes=...
 * </pre>
 *
 * Command:
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar WatchdogBenchmark 2>&amp;1 | tee watchdog.txt; grep '^WATCHDOG' watchdog.txt
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Benchmark)
public class WatchdogBenchmark {

    private static final int IN_FLIGHT = 16;
    private static final int SETUP_CONCURRENCY = 64;

    @Param({"1", "5"})
    public int nodes;

    @Param({"0", "10000"})
    public int held;

    @Param({"3000"})
    public int heldLeaseMs;

    private Env env;
    private ReactiveRedLock client;
    private Slot[] slots;
    private final Sinks.Empty<Void> gate = Sinks.empty();
    private final AtomicInteger lost = new AtomicInteger();
    private long heapPerLease;

    @Setup(Level.Trial)
    public void setUp() throws InterruptedException {
        env = Env.start(nodes, "redlock");
        client = ((RedlockDriver) env.driver).client;
        slots = Slot.distinct("bench:d", IN_FLIGHT);
        Batch.run(slots, IN_FLIGHT, env.driver::cycle);
        long before = usedHeapAfterGc();
        holdLeases();
        heapPerLease = held == 0 ? 0 : (usedHeapAfterGc() - before) / held;
    }

    private void holdLeases() throws InterruptedException {
        LockOptions options = LockOptions.defaults().mutate().leaseTime(Duration.ofMillis(heldLeaseMs)).build();
        Semaphore permits = new Semaphore(SETUP_CONCURRENCY);
        CountDownLatch holding = new CountDownLatch(held);
        for (int i = 0; i < held; i++) {
            permits.acquire();
            AtomicBoolean started = new AtomicBoolean();
            client.withLockMono("bench:held" + i, options, lease -> {
                        started.set(true);
                        permits.release();
                        holding.countDown();
                        return gate.asMono();
                    })
                    .subscribe(null, e -> {
                        lost.incrementAndGet();
                        if (!started.get()) {
                            permits.release();
                            holding.countDown();
                        }
                    });
        }
        if (!holding.await(2, TimeUnit.MINUTES)) {
            throw new IllegalStateException("could not take " + held + " leases in 2 minutes");
        }
        if (lost.get() > 0) {
            throw new IllegalStateException(lost.get() + " of " + held + " held leases failed or were lost in setup");
        }
    }

    private static long usedHeapAfterGc() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return memory.getHeapMemoryUsage().getUsed();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        try {
            int active = client.activeLeases();
            System.out.println(String.format(Locale.ROOT,
                    "WATCHDOG nodes=%d held=%d heldLeaseMs=%d lost=%d activeAtEnd=%d heapPerLeaseBytes=%d",
                    nodes, held, heldLeaseMs, lost.get(), active, heapPerLease));
            gate.tryEmitEmpty();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (client.activeLeases() > 0 && System.nanoTime() - until < 0) {
                Thread.sleep(10);
            }
            env.verifyNoLocksLeft("watchdog");
        } finally {
            env.close();
        }
        // A lost lease is a finding, not a broken harness: it is reported (lost=...), the trial's score stands.
    }

    @Benchmark
    @OperationsPerInvocation(Batch.SIZE)
    public void cycles() {
        Batch.run(slots, env.driver::cycle);
    }
}
