package dev.redlock.internal.script;

import dev.redlock.Lease;
import dev.redlock.internal.lease.RenewalBatcher;
import dev.redlock.internal.node.HoldOutTime;


/**
 * The lock's scripts and the engine's own (health check, the restart guard's record). Only Redis 2.6+ commands are
 * used (the test nodes run Redis 6.2 and 7.0). The node loads {@link #PRELOADED} on every new connection.
 */
public final class LockScript {

    private LockScript() {}


    /**
     * KEYS: lock, fence counter. ARGV: token, lease ms, "1" to read the fence counter.
     *
     * <p>Returns, when granted, the fence counter (0 without fencing). A node that has no counter for the key answers
     * its clock in microseconds ({@code TIME}) instead of 0: a node that restarted empty must not answer less than
     * the tokens it handed out before (see {@link Lease#fencingToken()}). When the lock is taken it returns
     * {@code -1 - pttl} of the holder, or {@link #NO_EXPIRY} when the key has no TTL (written by something else):
     * the waiter then backs off normally instead of retrying at once. {@link #KIND_MISMATCH} when a fair lock holds
     * the key (its tokens start with {@code "f:"}; the lock's never do).
     */
    public static final Script ACQUIRE = Script.of("acquire", "redis.replicate_commands()\n"
            + "if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then\n"
            + "  if ARGV[3] == '1' then\n"
            + "    local c = redis.call('get', KEYS[2])\n"
            + "    if c then return tonumber(c) end\n"
            + "    local t = redis.call('time')\n"
            + "    return tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
            + "  end\n"
            + "  return 0\n"
            + "end\n"
            + "local holder = redis.call('get', KEYS[1])\n"
            + "if holder and string.sub(holder, 1, 2) == 'f:' then return " + LockScript.KIND_MISMATCH + " end\n"
            + "local ttl = redis.call('pttl', KEYS[1])\n"
            + "if ttl == -1 then return " + LockScript.NO_EXPIRY + " end\n"
            + "if ttl < 0 then ttl = 0 end\n"
            + "return -1 - ttl", Script.Kind.ACQUIRE);

    /**
     * KEYS: lock. ARGV: token, channel ("" for none). Deletes the key only if it holds the token, then publishes on
     * the channel. Returns 1 released, 0 no key, -1 another owner's key (left alone).
     */
    public static final Script RELEASE = Script.of("release", "local v = redis.call('get', KEYS[1])\n"
            + "if v == ARGV[1] then\n"
            + "  redis.call('del', KEYS[1])\n"
            + "  if ARGV[2] ~= '' then redis.call('publish', ARGV[2], '1') end\n"
            + "  return 1\n"
            + "end\n"
            + "if v then return -1 end\n"
            + "return 0", Script.Kind.RELEASE);

    /**
     * KEYS: lock. ARGV: token, lease ms. Renews only a key that still holds the token (never recreates one).
     * Returns 1 renewed, 0 no key, -1 another owner's key.
     */
    public static final Script EXTEND = Script.of("extend", "local v = redis.call('get', KEYS[1])\n"
            + "if v == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end\n"
            + "if v then return -1 end\n"
            + "return 0");

    /**
     * KEYS: the locks of up to {@link RenewalBatcher#MAX_BATCH} leases. ARGV: token and lease ms of each, in the same
     * order. {@link #EXTEND} for each key. Returns a bit mask: bit {@code i} set when key {@code i + 1} was renewed;
     * a clear bit means no key or another owner's. (48 bits: a Lua number is a double, exact up to 2^53.)
     */
    public static final Script EXTEND_BATCH = Script.of("extend-batch", "local renewed = 0\n"
            + "local bit = 1\n"
            + "for i = 1, #KEYS do\n"
            + "  if redis.call('get', KEYS[i]) == ARGV[2 * i - 1] then\n"
            + "    redis.call('pexpire', KEYS[i], ARGV[2 * i])\n"
            + "    renewed = renewed + bit\n"
            + "  end\n"
            + "  bit = bit * 2\n"
            + "end\n"
            + "return renewed", Script.Kind.BATCH);

    /**
     * KEYS: lock, fence counter. ARGV: token, fence. While the lock key still holds the token, raises the counter
     * to the fence (never lowers it). Returns 1 written, 0 key gone or taken.
     */
    public static final Script FENCE = Script.of("fence", "if redis.call('get', KEYS[1]) == ARGV[1] then\n"
            + "  local current = tonumber(redis.call('get', KEYS[2]) or '0')\n"
            + "  if tonumber(ARGV[2]) > current then redis.call('set', KEYS[2], ARGV[2]) end\n"
            + "  return 1\n"
            + "end\n"
            + "return 0");

    /**
     * KEYS: the key space's maximum lease time record ({@code <prefix>max-lease-ms}). ARGV: this client's maximum
     * lease time in ms. Raises the record to it (never lowers it) and returns the record. Run once per connection
     * ({@link HoldOutTime}).
     */
    public static final Script MAX_LEASE = Script.of("max-lease", "local recorded = tonumber(redis.call('get', KEYS[1]) or '0')\n"
            + "local mine = tonumber(ARGV[1])\n"
            + "if mine > recorded then\n"
            + "  redis.call('set', KEYS[1], ARGV[1])\n"
            + "  return mine\n"
            + "end\n"
            + "return recorded");

    /** Health check: no keys. Returns 1. */
    public static final Script PING = Script.of("ping", "return 1");

    /** Returns {@code used_memory} of {@code INFO memory}: the health check's memory figure. */
    public static final Script USED_MEMORY = Script.of("used-memory",
            "return tonumber(string.match(redis.call('info', 'memory'), 'used_memory:(%d+)')) or -1");

    /** Returns {@code maxmemory} of {@code INFO memory} (0: no limit). */
    public static final Script MAX_MEMORY = Script.of("max-memory",
            "return tonumber(string.match(redis.call('info', 'memory'), 'maxmemory:(%d+)')) or -1");

    /** KEYS: lock. Returns 1 if the key exists, else 0. */
    public static final Script EXISTS = Script.of("exists", "return redis.call('exists', KEYS[1])");

    /**
     * What {@link #ACQUIRE} answers when the key is taken and has no TTL: below any {@code -1 - pttl} a real TTL
     * gives (at most a day, the longest lease), and far above Lua's exact integer range's end.
     */
    public static final long NO_EXPIRY = -(1L << 40);

    /** What {@link #ACQUIRE} answers when a fair lock holds the key: below {@link #NO_EXPIRY}. */
    public static final long KIND_MISMATCH = -(1L << 41);

    /** The largest integer a Lua number (a double) holds exactly: counters and tokens stay at or below it. */
    public static final long MAX_EXACT = (1L << 53) - 1;

    /**
     * Loaded on every new connection: the acquire must never fall back to {@code EVAL} (sent after the
     * {@code NOSCRIPT} reply, it could land after that node's release and leave a stale key), and the others save
     * that round trip. Test scripts (mutants) are not here: a node only learns them through {@code EVAL}.
     */
    public static final java.util.List<Script> PRELOADED = java.util.List.of(ACQUIRE, RELEASE, EXTEND, EXTEND_BATCH, FENCE, PING,
            EXISTS, MAX_LEASE);
}
