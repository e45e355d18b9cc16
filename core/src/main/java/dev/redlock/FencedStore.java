package dev.redlock;

import dev.redlock.internal.Checks;
import dev.redlock.internal.Digests;
import dev.redlock.internal.script.LockScript;
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
 *         lease -> store.write("order:42", json, lease));
 * }</pre>
 *
 * <p>The rule: a write is accepted when its token is above the last accepted one, or equal to it and from the same
 * lease (a holder may write several times). A token equal to the last accepted one from another lease is rejected:
 * tokens do not repeat under the fault model the lock states ({@link Lease#fencingToken()}), and if they ever did,
 * two writers must not pass as one. A lease is recognised by a SHA-256 digest of its token, stored next to the value
 * (the token itself would let a reader release the lock).
 *
 * <p>Each resource is one Redis hash ({@code value}, {@code fence}, {@code lease}) updated by a Lua compare-and-write,
 * so the check and the write are atomic, and the store works on Redis Cluster. The data connection is the caller's
 * (any Redis, typically not the lock nodes); this class does not close it. All methods are lazy and non-blocking.
 */
public final class FencedStore {

    private static final String WRITE = "local last = tonumber(redis.call('hget', KEYS[1], 'fence') or '-1')\n"
            + "local token = tonumber(ARGV[1])\n"
            + "if token < last then return last end\n"
            + "if token == last and redis.call('hget', KEYS[1], 'lease') ~= ARGV[3] then return last end\n"
            + "redis.call('hset', KEYS[1], 'fence', ARGV[1], 'value', ARGV[2], 'lease', ARGV[3])\n"
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
     * Writes {@code value} with the lease's fencing token: accepted if the token is above the last one this resource
     * accepted, or equal to it from this same lease. Completes empty when written; errors with
     * {@link StaleFencingTokenException} when rejected, or with the Redis error.
     *
     * @throws IllegalArgumentException at call time for a blank key, a null value or lease, or a lease without a
     *     fencing token ({@link LockOptions#fencing()} was off)
     */
    public Mono<Void> write(String key, String value, Lease lease) {
        Checks.notNull(lease, "lease");
        if (lease.fencingToken().isEmpty()) {
            throw new IllegalArgumentException("lease on '" + lease.key() + "' has no fencing token: acquire it with "
                    + "LockOptions.fencing(true)");
        }
        return write(key, value, lease.fencingToken().getAsLong(), lease.token());
    }

    /**
     * {@link #write(String, String, Lease)} for a token and lease that travelled elsewhere (for example in a message
     * to another service): {@code leaseToken} is the writer's {@link Lease#token()}.
     *
     * @throws IllegalArgumentException at call time for a blank key or lease token, a null value, or a fencing token
     *     that is negative or above 2^53 - 1 (tokens stay within the exact integers of a Lua number)
     */
    public Mono<Void> write(String key, String value, long fencingToken, String leaseToken) {
        Checks.key(key);
        Checks.notNull(value, "value");
        if (leaseToken == null || leaseToken.isBlank()) {
            throw new IllegalArgumentException("leaseToken must not be null or blank");
        }
        if (fencingToken < 0 || fencingToken > LockScript.MAX_EXACT) {
            throw new IllegalArgumentException("fencingToken must be in [0, 2^53 - 1], got " + fencingToken);
        }
        String lease = Digests.hex("SHA-256", leaseToken);
        return commands.<Long>eval(WRITE, ScriptOutputType.INTEGER, new String[] {key}, Long.toString(fencingToken), value,
                        lease)
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
