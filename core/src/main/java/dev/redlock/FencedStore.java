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
 *
 * @since 0.1.0
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

    /**
     * A store over a caller-owned connection. No I/O.
     *
     * @param connection the connection the values are read and written through (string keys and values); the caller
     *     keeps it open while the store is used and closes it afterwards
     * @return the store
     * @throws IllegalArgumentException for a null connection
     */
    public static FencedStore of(StatefulRedisConnection<String, String> connection) {
        Checks.notNull(connection, "connection");
        return new FencedStore(connection.reactive());
    }

    /**
     * Writes {@code value} with the lease's fencing token: accepted if the token is above the last one this resource
     * accepted, or equal to it from this same lease. Completes empty when written; errors with
     * {@link StaleFencingTokenException} when rejected, or with the Redis error.
     *
     * @param key the Redis key of the resource (one hash), checked as lock keys are
     * @param value the value to store
     * @param lease the writer's lease, acquired with {@link LockOptions#fencing()} on; it is not checked for validity
     *     here: the fencing token is what protects the resource
     * @return a lazy {@code Mono} of the outcome; cancelling does not undo a write already sent
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
     * @param key the Redis key of the resource (one hash), checked as lock keys are
     * @param value the value to store
     * @param fencingToken the writer's {@link Lease#fencingToken()}
     * @param leaseToken the writer's {@link Lease#token()}; only its SHA-256 digest is stored
     * @return a lazy {@code Mono} that completes empty once written, or errors with
     *     {@link StaleFencingTokenException} when rejected, or with the Redis error
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

    /**
     * The current value of a resource.
     *
     * @param key the Redis key of the resource
     * @return a lazy {@code Mono} of the last accepted value, empty if none was written; errors with the Redis error
     * @throws IllegalArgumentException at call time for a blank key
     */
    public Mono<String> read(String key) {
        Checks.key(key);
        return commands.hget(key, "value");
    }

    /**
     * The fencing token of the last accepted write to a resource.
     *
     * @param key the Redis key of the resource
     * @return a lazy {@code Mono} of the token, empty if nothing was written; errors with the Redis error
     * @throws IllegalArgumentException at call time for a blank key
     */
    public Mono<Long> lastAcceptedToken(String key) {
        Checks.key(key);
        return commands.hget(key, "fence").map(Long::parseLong);
    }
}
