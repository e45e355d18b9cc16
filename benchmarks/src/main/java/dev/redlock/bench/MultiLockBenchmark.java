package dev.redlock.bench;

import dev.redlock.LockOptions;
import org.openjdk.jmh.annotations.Param;

/**
 * Multi-key lock acquire + release throughput ({@link LockCyclesBenchmark}): {@code inFlight} workers, each on
 * {@code keys} keys of its own (uncontended), acquiring all of them at once and releasing them, again and again.
 * Implementations ({@code impl}): this library ({@code redlock}, {@code multiLock(keys)}, default options: one script
 * per node takes every key, granted at a quorum of the trial's nodes), and Redisson's {@code RedissonMultiLock} over
 * one {@code RLock} per key (reactive API, {@code lock(30, SECONDS, threadId)} / {@code unlock(threadId)}, a thread id
 * per worker), in two placements: {@code redissonMulti} over the keys on <b>every</b> node (one Redisson client per
 * node, every lock of every node must grant: Redisson's multi-master form, as {@code redissonMulti} in
 * {@link UncontendedBenchmark}) and {@code redissonMultiOneNode} over the keys on the <b>first</b> node only (one
 * master, as the semaphore and fair lock peers on 5 nodes). On 1 node the two are the same lock.
 * {@code RedissonMultiLock} takes its locks one after the other, then sets each one's lease with a second command,
 * and releases them in parallel. Lines {@code COMMANDS multi ...} and {@code LEFTOVER multi ...}.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar MultiLockBenchmark -prof gc
 * java -jar benchmarks/target/benchmarks.jar MultiLockBenchmark -p nodes=5 -p keys=3   # one column
 * </pre>
 */
public class MultiLockBenchmark extends LockCyclesBenchmark {

    @Param({"3", "10"})
    public int keys;

    @Param({"redlock", "redissonMulti", "redissonMultiOneNode"})
    public String impl;

    @Override
    Env start() {
        return Env.start(nodes, impl, uris -> switch (impl) {
            case "redlock" -> new RedlockDriver(uris, LockOptions.defaults(), RedlockDriver.Kind.MULTI);
            case "redissonMulti" -> new RedissonDriver(uris, RedissonDriver.Kind.MULTI_KEYS);
            case "redissonMultiOneNode" -> new RedissonDriver(uris.subList(0, 1), RedissonDriver.Kind.MULTI_KEYS);
            default -> throw new IllegalArgumentException("unknown impl '" + impl
                    + "': use redlock, redissonMulti or redissonMultiOneNode");
        });
    }

    @Override
    Slot[] slots() {
        return Slot.multi("bench:m", inFlight, keys);
    }

    @Override
    String label() {
        return "multi";
    }

    @Override
    String params() {
        return "impl=" + impl + " nodes=" + nodes + " inFlight=" + inFlight + " keys=" + keys;
    }
}
