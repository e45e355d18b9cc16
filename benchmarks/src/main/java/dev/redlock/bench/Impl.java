package dev.redlock.bench;

import dev.redlock.LockOptions;
import java.util.List;
import java.util.Locale;

/**
 * The implementations measured side by side; the {@code impl} benchmark parameter takes these names.
 *
 * <ul>
 *   <li>{@code redlock}: this library, {@code ReactiveRedLock} with default options (the engine under test);
 *   <li>{@code raw}: the floor, raw Lettuce reactive {@code SET NX PX} + {@code EVALSHA} compare-and-delete; on N > 1
 *       nodes fanned out in parallel, decided at the quorum, each node's release sequenced after that node's own
 *       {@code SET} reply, released everywhere;
 *   <li>{@code rawAsync}: the same floor on Lettuce's async API ({@code RedisFuture} callbacks) instead of its
 *       reactive one;
 *   <li>{@code redisson}: Redisson {@code RLockReactive} with explicit thread ids on 1 node, {@code RedissonRedLock}
 *       over N separate Redisson clients (one per node) on N > 1 nodes;
 *   <li>{@code redissonMulti}: {@code RedissonMultiLock} over N Redisson clients (also on 1 node: its own overhead);
 *   <li>{@code polling}: a naive lock service, the raw acquire retried every 100 ms ({@code Mono.delay}), contended
 *       case only;
 *   <li>{@code fair}: this library's fair lock, {@code ReactiveRedLock.fairLock(key).acquire()}, default options;
 *   <li>{@code redissonFair}: Redisson's {@code RFairLock} (reactive), on the first node only: Redisson has no
 *       multi-node fair lock.
 * </ul>
 */
enum Impl {
    REDLOCK,
    RAW,
    RAW_ASYNC,
    REDISSON,
    REDISSON_MULTI,
    POLLING,
    FAIR,
    REDISSON_FAIR;

    /** The name the {@code impl} parameter uses. */
    String param() {
        switch (this) {
            case REDISSON_MULTI:
                return "redissonMulti";
            case RAW_ASYNC:
                return "rawAsync";
            case REDISSON_FAIR:
                return "redissonFair";
            default:
                return name().toLowerCase(Locale.ROOT);
        }
    }

    static Impl of(String name) {
        switch (name.toLowerCase(Locale.ROOT)) {
            case "redlock":
                return REDLOCK;
            case "raw":
                return RAW;
            case "rawasync":
                return RAW_ASYNC;
            case "redisson":
                return REDISSON;
            case "redissonmulti":
                return REDISSON_MULTI;
            case "polling":
                return POLLING;
            case "fair":
                return FAIR;
            case "redissonfair":
                return REDISSON_FAIR;
            default:
                throw new IllegalArgumentException("unknown impl '" + name
                        + "': use redlock, raw, rawAsync, redisson, redissonMulti, polling, fair or redissonFair");
        }
    }

    LockDriver start(List<String> uris) {
        return start(uris, LockOptions.defaults());
    }

    LockDriver start(List<String> uris, LockOptions redlockOptions) {
        switch (this) {
            case REDLOCK:
                return new RedlockDriver(uris, redlockOptions);
            case RAW:
                return new RawLettuceDriver(uris);
            case RAW_ASYNC:
                return new RawLettuceDriver(uris, true);
            case REDISSON:
                return new RedissonDriver(uris, uris.size() == 1 ? RedissonDriver.Kind.PLAIN : RedissonDriver.Kind.RED_LOCK);
            case REDISSON_MULTI:
                return new RedissonDriver(uris, RedissonDriver.Kind.MULTI_LOCK);
            case POLLING:
                return new PollingDriver(new RawLettuceDriver(uris));
            case FAIR:
                return new RedlockDriver(uris, redlockOptions, RedlockDriver.Kind.FAIR);
            case REDISSON_FAIR:
                return new RedissonDriver(uris.subList(0, 1), RedissonDriver.Kind.FAIR);
            default:
                throw new AssertionError(this);
        }
    }
}
