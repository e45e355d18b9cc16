package dev.redlock.internal.fair;

import dev.redlock.fair.RedFairLock;
import dev.redlock.internal.script.Script;
import java.util.List;

/**
 * The fair lock's scripts. Per node, next to the lock key {@code K = <prefix>{<name>}} (the plain lock's key, holding
 * the holder's token, which starts with {@code "f:"}) and its fencing counter {@code K:fence}, two sorted sets:
 *
 * <ul>
 *   <li>{@code K:queue}: the waiters, scored {@code (1000 − priority) × 2^42 + arrival} (arrival in ms of a node's
 *       {@code TIME}; higher priorities first, then earlier arrivals; equal scores by waiter id). The score is exact in
 *       a Lua number (below 2^52).
 *   <li>{@code K:heartbeats}: the same waiters, scored by the node time (ms) at which each one's heartbeat lapses.
 *       Every script that touches the queue first prunes the lapsed ones from both sets, and both keys expire when
 *       the last heartbeat lapses (deleted when the queue is empty): nothing is left once nobody waits.
 * </ul>
 */
public final class FairScript {

    private FairScript() {}

    /** Priorities run from 0 to this (higher first). */
    static final int MAX_PRIORITY = RedFairLock.MAX_PRIORITY;

    /** 2^42: the arrival part of a score (ms of node time: until the year 2109). */
    static final long ARRIVAL_SPAN = 1L << 42;

    /** The reply of a fair script that found the key held by a plain lock (a plain lock's script: by a fair one). */
    static final long KIND_MISMATCH = -(1L << 52) - 2;

    /** The node's time in ms, then the lapsed waiters pruned from both sets. */
    private static final String NOW_AND_PRUNE = "local t = redis.call('time')\n"
            + "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
            + "local lapsed = redis.call('zrangebyscore', KEYS[4], '-inf', now)\n"
            + "if #lapsed > 0 then\n"
            + "  for i = 1, #lapsed do redis.call('zrem', KEYS[3], lapsed[i]) end\n"
            + "  redis.call('zremrangebyscore', KEYS[4], '-inf', now)\n"
            + "end\n";

    /** Both sets expire when the last heartbeat lapses; deleted when nobody waits. */
    private static final String EXPIRE_QUEUE = "local last = redis.call('zrange', KEYS[4], -1, -1, 'withscores')\n"
            + "if #last == 0 then\n"
            + "  redis.call('del', KEYS[3], KEYS[4])\n"
            + "else\n"
            + "  redis.call('pexpireat', KEYS[3], last[2])\n"
            + "  redis.call('pexpireat', KEYS[4], last[2])\n"
            + "end\n";

    /**
     * KEYS: lock, fence counter, queue, heartbeats. ARGV: token, lease ms, "1" to read the fence counter, waiter id,
     * priority, heartbeat timeout ms, the waiter's agreed score ("" before it has one), "q" to queue when refused
     * ("" for a try that does not queue).
     *
     * <p>Grants when the lock key is free and the waiter comes first in the queue (its own entry at the head, or its
     * score before the head's): sets the key to the token with the lease time and answers like the lock's acquire (the
     * fence counter, or the node's {@code TIME} in µs when there is none, or 0 without fencing). The waiter's entry
     * stays until the lease's release (or the acquire's leave) takes it out. Refused: queues the waiter (when asked),
     * with the agreed score if given, else the one it has, else a new one from this node's clock; renews its
     * heartbeat; answers {@code -1 - score}. {@link #KIND_MISMATCH} when a plain lock holds the key.
     */
    public static final Script ACQUIRE = Script.of("fair-acquire", "redis.replicate_commands()\n"
            + "local holder = redis.call('get', KEYS[1])\n"
            + "if holder and string.sub(holder, 1, 2) ~= 'f:' then return " + KIND_MISMATCH + " end\n"
            + NOW_AND_PRUNE
            + "local waiter = ARGV[4]\n"
            + "local score = tonumber(ARGV[7])\n"
            + "if not score then\n"
            + "  score = tonumber(redis.call('zscore', KEYS[3], waiter))\n"
            + "  if not score then score = (" + MAX_PRIORITY + " - tonumber(ARGV[5])) * " + ARRIVAL_SPAN + " + now end\n"
            + "end\n"
            + "local head = redis.call('zrange', KEYS[3], 0, 0, 'withscores')\n"
            + "local first = #head == 0 or head[1] == waiter or score < tonumber(head[2])\n"
            + "  or (score == tonumber(head[2]) and waiter < head[1])\n"
            + "if first and not holder then\n"
            + "  redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
            + "  if ARGV[3] == '1' then\n"
            + "    local c = redis.call('get', KEYS[2])\n"
            + "    if c then return tonumber(c) end\n"
            + "    return tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
            + "  end\n"
            + "  return 0\n"
            + "end\n"
            + "if ARGV[8] == 'q' then\n"
            + "  redis.call('zadd', KEYS[3], score, waiter)\n"
            + "  redis.call('zadd', KEYS[4], now + tonumber(ARGV[6]), waiter)\n"
            + EXPIRE_QUEUE
            + "end\n"
            + "return -1 - score", Script.Kind.ACQUIRE);

    /**
     * KEYS: lock, (unused), queue, heartbeats. ARGV: token ("" for none), wake channel prefix ("" to wake nobody),
     * waiter id to take out of the queue ("" for none).
     *
     * <p>Deletes the lock key if it holds the token; takes the waiter out of the queue; then, if the lock is free and
     * a wake prefix is given, publishes on the channel of the waiter now at the head (only that one: no herd).
     * Returns 1 released, 0 no key, -1 another owner's key (left alone); 0 as well for a leave without a token.
     */
    public static final Script RELEASE = Script.of("fair-release", "redis.replicate_commands()\n"
            + "local released = 0\n"
            + "if ARGV[1] ~= '' then\n"
            + "  local v = redis.call('get', KEYS[1])\n"
            + "  if v == ARGV[1] then\n"
            + "    redis.call('del', KEYS[1])\n"
            + "    released = 1\n"
            + "  elseif v then\n"
            + "    released = -1\n"
            + "  end\n"
            + "end\n"
            + "if ARGV[3] ~= '' then\n"
            + "  redis.call('zrem', KEYS[3], ARGV[3])\n"
            + "  redis.call('zrem', KEYS[4], ARGV[3])\n"
            + "end\n"
            + NOW_AND_PRUNE
            + "if ARGV[2] ~= '' and redis.call('exists', KEYS[1]) == 0 then\n"
            + "  local head = redis.call('zrange', KEYS[3], 0, 0)\n"
            + "  if #head > 0 then redis.call('publish', ARGV[2] .. head[1], '1') end\n"
            + "end\n"
            + EXPIRE_QUEUE
            + "return released", Script.Kind.RELEASE);

    /** Loaded on every new connection (the acquire must be: see {@link Script.Kind#ACQUIRE}). */
    public static final List<Script> PRELOADED = List.of(ACQUIRE, RELEASE);
}
