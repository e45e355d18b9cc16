package dev.redlock;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.reactive.RedisReactiveCommands;
import reactor.core.publisher.Mono;

/**
 * Values in Redis guarded by fencing tokens: a write carries the writer's {@link Lease#fencingToken()} and is
 * rejected if the value already accepted a newer one. This is the resource-side check that makes a lock safe against
 * a holder that paused past its deadline: its late write arrives with an older token and is refused.
 *
 * <pre>{@code
 * FencedStore store = FencedStore.of(dataConnection);
 * redlock.withLockMono("orders:42", LockOptions.defaults().mutate().fencing(true).build(),
 *         lease -> store.write("order:42", json, lease.fencingToken().getAsLong()));
 * }</pre>
 *
 * <p>Each resource is one Redis hash ({@code value}, {@code fence}) updated by a Lua compare-and-write, so the check
 * and the write are atomic, and the store works on Redis Cluster. The data connection is the caller's (any Redis,
 * typically not the lock nodes); this class does not close it. All methods are lazy and non-blocking.
 */
public final class FencedStore {

    private static final String WRITE = "local last = tonumber(redis.call('hget', KEYS[1], 'fence') or '-1')\n"
            + "if tonumber(ARGV[1]) < last then return last end\n"
            + "redis.call('hset', KEYS[1], 'fence', ARGV[1], 'value', ARGV[2])\n"
            + "return -1";

    private final RedisReactiveCommands<String, String> commands;

    private FencedStore(RedisReactiveCommands<String, String> commands) {
        this.commands = commands;
    }

    /** A store over a caller-owned connection. */
    public static FencedStore of(StatefulRedisConnection<String, String> connection) {
        Checks.notNull(connection, "connection");
        return new FencedStore(connection.reactive());
    }

    /**
     * Writes {@code value} if {@code fencingToken} is at least the last token this resource accepted (the same holder
     * may write several times). Completes empty when written; errors with {@link StaleFencingTokenException} when an
     * older token is rejected, or with the Redis error.
     *
     * @throws IllegalArgumentException at call time for a blank key, a null value or a negative token
     */
    public Mono<Void> write(String key, String value, long fencingToken) {
        Checks.key(key);
        Checks.notNull(value, "value");
        if (fencingToken < 0) {
            throw new IllegalArgumentException("fencingToken must not be negative, got " + fencingToken);
        }
        return commands.<Long>eval(WRITE, ScriptOutputType.INTEGER, new String[] {key}, Long.toString(fencingToken), value)
                .next()
                .flatMap(last -> last < 0
                        ? Mono.<Void>empty()
                        : Mono.<Void>error(new StaleFencingTokenException(key, fencingToken, last)));
    }

    /** The current value, or empty if none was written. */
    public Mono<String> read(String key) {
        Checks.key(key);
        return commands.hget(key, "value");
    }

    /** The last accepted fencing token, or empty if none. */
    public Mono<Long> lastAcceptedToken(String key) {
        Checks.key(key);
        return commands.hget(key, "fence").map(Long::parseLong);
    }
}
