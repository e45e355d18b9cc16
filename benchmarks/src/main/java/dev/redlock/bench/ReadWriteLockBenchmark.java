package dev.redlock.bench;

import dev.redlock.LockOptions;
import org.openjdk.jmh.annotations.Param;

/**
 * Read-write lock acquire + release throughput ({@link LockCyclesBenchmark}): {@code inFlight} workers, each acquiring
 * the read lock ({@code lock=read}) or the write lock ({@code lock=write}) and releasing it, again and again. The
 * readers share <b>one</b> lock (readers do not exclude each other, so no reader waits: up to {@code inFlight} read
 * leases are held at once on one key); each writer has a lock of its own (uncontended, as in
 * {@link UncontendedBenchmark}). Implementations ({@code impl}): this library ({@code redlock},
 * {@code readWriteLock(name).readLock()} / {@code writeLock()}, default options, over all the trial's nodes) and
 * Redisson's {@code RReadWriteLock} ({@code redisson}, reactive API, {@code lock(30, SECONDS, threadId)} /
 * {@code unlock(threadId)}, a thread id per worker). <b>Redisson has no multi-node read-write lock: on 5 nodes it runs
 * on the first node only</b> (one master), while this library asks all 5 and waits for a quorum. Lines
 * {@code COMMANDS rw ...} and {@code LEFTOVER rw ...}.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar ReadWriteLockBenchmark -prof gc
 * java -jar benchmarks/target/benchmarks.jar ReadWriteLockBenchmark -p nodes=5 -p lock=write   # one column
 * </pre>
 */
public class ReadWriteLockBenchmark extends LockCyclesBenchmark {

    @Param({"read", "write"})
    public String lock;

    @Param({"redlock", "redisson"})
    public String impl;

    private boolean read() {
        return switch (lock) {
            case "read" -> true;
            case "write" -> false;
            default -> throw new IllegalArgumentException("unknown lock '" + lock + "': use read or write");
        };
    }

    @Override
    Env start() {
        boolean read = read();
        return Env.start(nodes, impl, uris -> switch (impl) {
            case "redlock" -> new RedlockDriver(uris, LockOptions.defaults(),
                    read ? RedlockDriver.Kind.READ : RedlockDriver.Kind.WRITE);
            case "redisson" -> new RedissonDriver(uris.subList(0, 1),
                    read ? RedissonDriver.Kind.READ : RedissonDriver.Kind.WRITE);
            default -> throw new IllegalArgumentException("unknown impl '" + impl + "': use redlock or redisson");
        });
    }

    @Override
    Slot[] slots() {
        return read() ? Slot.shared("bench:rw", inFlight) : Slot.distinct("bench:rw", inFlight);
    }

    @Override
    String label() {
        return "rw";
    }

    @Override
    String params() {
        return "impl=" + impl + " nodes=" + nodes + " inFlight=" + inFlight + " lock=" + lock;
    }
}
