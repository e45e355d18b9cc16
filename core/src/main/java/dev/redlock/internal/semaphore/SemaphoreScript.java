package dev.redlock.internal.semaphore;

import dev.redlock.internal.script.Script;
import java.util.List;

/**
 * The semaphore's scripts. A semaphore of P permits is one hash per node, {@code <prefix>{<name>}:permits}, holding
 * P slots, each a mutex with its own deadline on the node's clock ({@code TIME}):
 *
 * <ul>
 *   <li>{@code s<i>}: the token holding slot {@code i}; {@code e<i>}: its deadline in ms of the node's clock. A slot
 *       is held while {@code e<i>} is in the future; a stale pair is overwritten or removed by the next script that
 *       meets it.
 *   <li>{@code t:<token>}: the slots of one lease ({@code "3,7"}), so renewal and release need only the token.
 *   <li>{@code P}: the number of permits declared by the clients using it: a client that declares another number is
 *       refused ({@link #MISMATCH}).
 *   <li>{@code r}, {@code rn}, {@code re}: the reservation of the largest waiting request (waiter id, permits,
 *       deadline), see {@link #ACQUIRE}.
 * </ul>
 *
 * <p>The hash's TTL is raised to every deadline written, never lowered, so it outlives every slot in it and vanishes
 * once nobody has held a permit for a lease time. Only Redis 2.6+ commands, plus multi-field {@code HSET} (4.0).
 */
public final class SemaphoreScript {

    private SemaphoreScript() {}

    /** Bits of a refusal reply that carry the soonest slot expiry (ms + 1, 0 for unknown). */
    static final int TTL_BITS = 24;
    /** Bits that carry the first free slot at or after the attempt's hint offset (+ 1, 0 for none). */
    static final int START_BITS = 13;
    /** Bits that carry which of the slots from that first free one on are free. */
    static final int MASK_BITS = 15;
    /** The largest number of permits: the slot numbers fit {@link #START_BITS}. */
    static final int MAX_PERMITS = 4096;
    /** How far from the offset a node looks for free slots when it chooses them: the distances fit a reply. */
    static final int CHOICE_WINDOW = 52;
    /** Replies below {@code -MISMATCH} mean "declared with another number of permits": {@code -MISMATCH - 1 - P}. */
    static final long MISMATCH = 1L << (TTL_BITS + START_BITS + MASK_BITS);

    private static final String NOW = "local t = redis.call('time')\n"
            + "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n";

    private static final String CHECK_PERMITS = "local declared = redis.call('hget', h, 'P')\n"
            + "if declared and tonumber(declared) ~= p then return -" + MISMATCH + " - 1 - tonumber(declared) end\n";

    /**
     * KEYS: the hash. ARGV: token, lease ms, P, n, reservation ms (0: do not reserve), waiter id, offset, then either
     * the n slots the attempt asks for, or nothing to let the node choose.
     *
     * <p>Grants when the slots are free (when the node chooses: the first n free slots from the offset on, all within
     * {@link #CHOICE_WINDOW} of it) and no other waiter's reservation forbids it: the slots get the token and the
     * deadline {@code now + lease}. All or nothing on this node. Replies 0 for asked slots, {@code 1 + mask} for
     * chosen ones ({@code mask}: bit {@code k} for the slot {@code offset + k}), so the client counts only the nodes
     * that chose the same slots. Refuses otherwise, with {@code -1 - (ttl + 2^24 * (start + 2^13 * mask))}:
     * {@code ttl} the soonest slot expiry + 1 (0 when no slot is held), {@code start} the first free slot at or after
     * the offset + 1 (0 when none), {@code mask} which of the 15 slots from that one on are free. Replies
     * {@code -MISMATCH - 1 - P'} when the semaphore was declared with P' permits.
     *
     * <p>Reservation: a refused request reserves unless another waiter's live reservation asks for more permits, or
     * as many with a smaller waiter id; it lives for the reservation time after the request's last attempt. While
     * another waiter's reservation of {@code m} permits is live, a request for {@code n} is granted only if at least
     * {@code m} permits stay free after it: the largest waiting request gets the next permits, whatever stream of
     * smaller requests arrives. The waiter id breaks ties the same way on every node, so two equal requests that
     * reserved on different nodes do not block each other for good: the smaller id takes the other's nodes over at its
     * next attempt.
     */
    static final Script ACQUIRE = Script.of("semaphore-acquire", "redis.replicate_commands()\n"
            + "local h = KEYS[1]\n"
            + "local token = ARGV[1]\n"
            + "local lease = tonumber(ARGV[2])\n"
            + "local p = tonumber(ARGV[3])\n"
            + "local n = tonumber(ARGV[4])\n"
            + "local waiter = ARGV[6]\n"
            + CHECK_PERMITS
            + NOW
            + "local function held(s)\n"
            + "  local e = redis.call('hget', h, 'e' .. s)\n"
            + "  return e and tonumber(e) > now\n"
            + "end\n"
            + "local reserved = 0\n"
            + "local r = redis.call('hget', h, 'r')\n"
            + "if r and r ~= waiter then\n"
            + "  if tonumber(redis.call('hget', h, 're')) > now then\n"
            + "    reserved = tonumber(redis.call('hget', h, 'rn'))\n"
            + "  else\n"
            + "    redis.call('hdel', h, 'r', 'rn', 're')\n"
            + "    r = false\n"
            + "  end\n"
            + "end\n"
            + "local explicit = #ARGV - 7\n"
            + "local offset = tonumber(ARGV[7])\n"
            + "local chosen = {}\n"
            + "local picked = 0\n"
            + "local ok = true\n"
            + "if explicit > 0 then\n"
            + "  for i = 1, n do\n"
            + "    if held(ARGV[7 + i]) then ok = false break end\n"
            + "    chosen[i] = ARGV[7 + i]\n"
            + "  end\n"
            + "else\n"
            + "  for k = 0, math.min(p, " + CHOICE_WINDOW + ") - 1 do\n"
            + "    local s = (offset + k) % p\n"
            + "    if not held(s) then\n"
            + "      chosen[#chosen + 1] = s\n"
            + "      picked = picked + 2 ^ k\n"
            + "      if #chosen == n then break end\n"
            + "    end\n"
            + "  end\n"
            + "  if #chosen < n then ok = false end\n"
            + "end\n"
            + "if ok and reserved > 0 then\n"
            + "  local free = 0\n"
            + "  for s = 0, p - 1 do\n"
            + "    if not held(s) then free = free + 1 end\n"
            + "  end\n"
            + "  if free - n < reserved then ok = false end\n"
            + "end\n"
            + "if ok then\n"
            + "  local deadline = now + lease\n"
            + "  for i = 1, n do\n"
            + "    local s = chosen[i]\n"
            + "    local old = redis.call('hget', h, 's' .. s)\n"
            + "    if old then redis.call('hdel', h, 't:' .. old) end\n"
            + "    redis.call('hset', h, 's' .. s, token, 'e' .. s, deadline)\n"
            + "  end\n"
            + "  redis.call('hset', h, 't:' .. token, table.concat(chosen, ','), 'P', p)\n"
            + "  if r == waiter then redis.call('hdel', h, 'r', 'rn', 're') end\n"
            + "  if redis.call('pttl', h) < lease then redis.call('pexpire', h, lease) end\n"
            + "  if explicit > 0 then return 0 end\n"
            + "  return 1 + picked\n"
            + "end\n"
            + "local hold = tonumber(ARGV[5])\n"
            + "if hold > 0 and (reserved < n or reserved == n and waiter < r) then\n"
            + "  redis.call('hset', h, 'r', waiter, 'rn', n, 're', now + hold, 'P', p)\n"
            + "  if redis.call('pttl', h) < hold then redis.call('pexpire', h, hold) end\n"
            + "end\n"
            + "local soonest = -1\n"
            + "local start = -1\n"
            + "local first = 0\n"
            + "local mask = 0\n"
            + "for k = 0, p - 1 do\n"
            + "  local s = (offset + k) % p\n"
            + "  local e = tonumber(redis.call('hget', h, 'e' .. s) or '0')\n"
            + "  if e > now then\n"
            + "    if soonest < 0 or e - now < soonest then soonest = e - now end\n"
            + "  elseif start < 0 then\n"
            + "    start = s\n"
            + "    first = k\n"
            + "    mask = 1\n"
            + "  elseif k - first < " + MASK_BITS + " then\n"
            + "    mask = mask + 2 ^ (k - first)\n"
            + "  end\n"
            + "end\n"
            + "local ttl = 0\n"
            + "if soonest >= 0 then ttl = math.min(soonest + 1, " + ((1 << TTL_BITS) - 1) + ") end\n"
            + "return -1 - (ttl + " + (1L << TTL_BITS) + " * ((start + 1) + " + (1L << START_BITS) + " * mask))",
            Script.Kind.ACQUIRE);

    /**
     * KEYS: the hash. ARGV: token, lease ms. Renews every slot of the lease to {@code now + lease} (it may shorten
     * it), only if each still holds the token and has not expired; never recreates one. Returns 1 renewed, 0 no slot
     * of the lease left (or expired), -1 a slot taken by another owner.
     */
    static final Script RENEW = Script.of("semaphore-renew", "redis.replicate_commands()\n"
            + "local h = KEYS[1]\n"
            + "local slots = redis.call('hget', h, 't:' .. ARGV[1])\n"
            + "if not slots then return 0 end\n"
            + NOW
            + "local lease = tonumber(ARGV[2])\n"
            + "for s in string.gmatch(slots, '[^,]+') do\n"
            + "  local v = redis.call('hget', h, 's' .. s)\n"
            + "  if v ~= ARGV[1] then\n"
            + "    if v then return -1 end\n"
            + "    return 0\n"
            + "  end\n"
            + "  if tonumber(redis.call('hget', h, 'e' .. s)) <= now then return 0 end\n"
            + "end\n"
            + "for s in string.gmatch(slots, '[^,]+') do\n"
            + "  redis.call('hset', h, 'e' .. s, now + lease)\n"
            + "end\n"
            + "if redis.call('pttl', h) < lease then redis.call('pexpire', h, lease) end\n"
            + "return 1");

    /**
     * KEYS: the hash. ARGV: token, channel ("" for none). Frees every slot that still holds the token, then publishes
     * on the channel. Returns 1 released (a slot was still held), 0 nothing of the lease left, -1 its slots are
     * another owner's (left alone).
     */
    static final Script RELEASE = Script.of("semaphore-release", "redis.replicate_commands()\n"
            + "local h = KEYS[1]\n"
            + "local slots = redis.call('hget', h, 't:' .. ARGV[1])\n"
            + "if not slots then return 0 end\n"
            + NOW
            + "local released = 0\n"
            + "local other = 0\n"
            + "for s in string.gmatch(slots, '[^,]+') do\n"
            + "  local v = redis.call('hget', h, 's' .. s)\n"
            + "  if v == ARGV[1] then\n"
            + "    if tonumber(redis.call('hget', h, 'e' .. s)) > now then released = 1 end\n"
            + "    redis.call('hdel', h, 's' .. s, 'e' .. s)\n"
            + "  elseif v then\n"
            + "    other = 1\n"
            + "  end\n"
            + "end\n"
            + "redis.call('hdel', h, 't:' .. ARGV[1])\n"
            + "if released == 1 then\n"
            + "  if ARGV[2] ~= '' then redis.call('publish', ARGV[2], '1') end\n"
            + "  return 1\n"
            + "end\n"
            + "if other == 1 then return -1 end\n"
            + "return 0", Script.Kind.RELEASE);

    /**
     * KEYS: the hash. ARGV: P. Returns the number of free slots on this node (P when the hash is gone), or
     * {@code -MISMATCH - 1 - P'} for another declared number of permits. Read-only.
     */
    static final Script AVAILABLE = Script.of("semaphore-available", "local h = KEYS[1]\n"
            + "local p = tonumber(ARGV[1])\n"
            + CHECK_PERMITS
            + NOW
            + "local free = 0\n"
            + "for s = 0, p - 1 do\n"
            + "  local e = redis.call('hget', h, 'e' .. s)\n"
            + "  if not (e and tonumber(e) > now) then free = free + 1 end\n"
            + "end\n"
            + "return free");

    /** Loaded on every new connection, with the lock's: the acquire must never fall back to {@code EVAL}. */
    public static final List<Script> PRELOADED = List.of(ACQUIRE, RENEW, RELEASE, AVAILABLE);
}
