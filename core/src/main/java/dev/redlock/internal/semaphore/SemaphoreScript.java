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
 *   <li>{@code m}: the latest deadline written in the hash; the hash expires then ({@code PEXPIREAT}, on the same
 *       clock), so it outlives every slot and reservation in it and vanishes once nobody has held a permit for a
 *       lease time.
 * </ul>
 *
 * <p>Each script reads and writes with as few commands as it can ({@code HMGET}, one multi-field {@code HSET}): a
 * script runs on every node of a quorum, so its cost is paid N times. Only Redis 2.6+ commands, plus multi-field
 * {@code HSET} (4.0).
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
    /**
     * How far after the first free slot a node looks for more when it chooses them: the first slot's number and the
     * distances of the others fit a reply ({@link #START_BITS} + 39 bits).
     */
    static final int CHOICE_WINDOW = 52 - START_BITS;
    /** Replies below {@code -MISMATCH} mean "declared with another number of permits": {@code -MISMATCH - 1 - P}. */
    static final long MISMATCH = 1L << (TTL_BITS + START_BITS + MASK_BITS);

    /** Lua: {@code now}, the node's clock in ms ({@code TIME}). */
    private static final String NOW = """
            local t = redis.call('time')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            """;

    /**
     * Lua: {@code raise(deadline, m)}: keeps the hash's TTL at or after every deadline written in it ({@code m} is the
     * latest so far, field {@code m}); returns the fields to add to the write.
     */
    private static final String RAISE = """
            local function raise(deadline, m, fields)
              if deadline > m then
                fields[#fields + 1] = 'm'
                fields[#fields + 1] = deadline
                return true
              end
              return false
            end
            """;

    /** Lua: {@code deadlines()}: the deadline field of every slot, in one call (slot s at index s + 1). */
    private static final String DEADLINES = """
            local function deadlines()
              local names = {}
              for s = 0, p - 1 do names[s + 1] = 'e' .. s end
              return redis.call('hmget', h, unpack(names))
            end
            """;

    /**
     * KEYS: the hash. ARGV: token, lease ms, P, n, reservation ms (0: do not reserve), waiter id, offset, then either
     * the n slots the attempt asks for, or nothing to let the node choose.
     *
     * <p>Grants when the slots are free (when the node chooses: the first free slot from the offset on and the next
     * free ones within {@link #CHOICE_WINDOW} of it) and no other waiter's reservation forbids it: the slots get the
     * token and the deadline {@code now + lease}. All or nothing on this node. Replies 0 for asked slots,
     * {@code 1 + first + 2^13 * mask} for chosen ones ({@code first} the first chosen slot, {@code mask} bit {@code k}
     * for the slot {@code first + k}): the same slots give the same reply, so the client counts only the nodes that
     * chose the same slots. Refuses otherwise, with {@code -1 - (ttl + 2^24 * (start + 2^13 * mask))}:
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
    static final Script ACQUIRE = Script.of("semaphore-acquire", ("""
            redis.replicate_commands()
            local h = KEYS[1]
            local token = ARGV[1]
            local lease = tonumber(ARGV[2])
            local p = tonumber(ARGV[3])
            local n = tonumber(ARGV[4])
            local waiter = ARGV[6]
            local meta = redis.call('hmget', h, 'P', 'r', 'rn', 're', 'm')
            if meta[1] and tonumber(meta[1]) ~= p then return -${MISMATCH} - 1 - tonumber(meta[1]) end
            """ + NOW + RAISE + DEADLINES + """
            local m = tonumber(meta[5] or '0')
            local r = meta[2]
            local reserved = 0
            if r and r ~= waiter then
              if tonumber(meta[4]) > now then
                reserved = tonumber(meta[3])
              else
                redis.call('hdel', h, 'r', 'rn', 're')
                r = false
              end
            end
            local function probe(s)
              local v = redis.call('hmget', h, 's' .. s, 'e' .. s)
              return v[2] and tonumber(v[2]) > now, v[1]
            end
            local e = nil
            local function held(s)
              if not e then e = deadlines() end
              return e[s + 1] and tonumber(e[s + 1]) > now
            end
            local explicit = #ARGV - 7
            local offset = tonumber(ARGV[7])
            local chosen = {}
            local stale = {}
            local picked = 0
            local ok = true
            if explicit > 0 then
              for i = 1, n do
                local taken, old = probe(ARGV[7 + i])
                if taken then ok = false break end
                chosen[i] = ARGV[7 + i]
                if old then stale[#stale + 1] = 't:' .. old end
              end
            else
              -- the first slots one by one (free at once when the semaphore is not full), then all deadlines in one
              -- call; the chosen slots are the first free one from the offset on and the next free ones within
              -- ${WINDOW} slots of it (their distances fit the reply)
              local bulk = {}
              local first = -1
              for k = 0, p - 1 do
                local s = (offset + k) % p
                if first >= 0 and k - first >= ${WINDOW} then break end
                local taken, old
                if k < 2 then
                  taken, old = probe(s)
                else
                  taken = held(s)
                end
                if not taken then
                  if first < 0 then first = k end
                  chosen[#chosen + 1] = s
                  if k < 2 then
                    if old then stale[#stale + 1] = 't:' .. old end
                  else
                    bulk[#bulk + 1] = 's' .. s
                  end
                  picked = picked + 2 ^ (k - first)
                  if #chosen == n then break end
                end
              end
              if #chosen < n then
                ok = false
              else
                if #bulk > 0 then
                  for _, old in ipairs(redis.call('hmget', h, unpack(bulk))) do
                    if old then stale[#stale + 1] = 't:' .. old end
                  end
                end
                picked = chosen[1] + ${START_SCALE} * picked
              end
            end
            if ok and reserved > 0 then
              local free = 0
              for s = 0, p - 1 do
                if not held(s) then free = free + 1 end
              end
              if free - n < reserved then ok = false end
            end
            if ok then
              local deadline = now + lease
              local fields = {}
              for i = 1, n do
                local s = chosen[i]
                fields[#fields + 1] = 's' .. s
                fields[#fields + 1] = token
                fields[#fields + 1] = 'e' .. s
                fields[#fields + 1] = deadline
              end
              fields[#fields + 1] = 't:' .. token
              fields[#fields + 1] = table.concat(chosen, ',')
              fields[#fields + 1] = 'P'
              fields[#fields + 1] = p
              local raised = raise(deadline, m, fields)
              if #stale > 0 then redis.call('hdel', h, unpack(stale)) end
              redis.call('hset', h, unpack(fields))
              if r == waiter then redis.call('hdel', h, 'r', 'rn', 're') end
              if raised then redis.call('pexpireat', h, deadline) end
              if explicit > 0 then return 0 end
              return 1 + picked
            end
            local hold = tonumber(ARGV[5])
            if hold > 0 and (reserved < n or reserved == n and waiter < r) then
              local fields = {'r', waiter, 'rn', n, 're', now + hold, 'P', p}
              local raised = raise(now + hold, m, fields)
              redis.call('hset', h, unpack(fields))
              if raised then redis.call('pexpireat', h, now + hold) end
            end
            if not e then e = deadlines() end
            local soonest = -1
            local start = -1
            local first = 0
            local mask = 0
            for k = 0, p - 1 do
              local s = (offset + k) % p
              local deadline = tonumber(e[s + 1] or '0')
              if deadline > now then
                if soonest < 0 or deadline - now < soonest then soonest = deadline - now end
              elseif start < 0 then
                start = s
                first = k
                mask = 1
              elseif k - first < ${MASK_BITS} then
                mask = mask + 2 ^ (k - first)
              end
            end
            local ttl = 0
            if soonest >= 0 then ttl = math.min(soonest + 1, ${TTL_MAX}) end
            return -1 - (ttl + ${TTL_SCALE} * ((start + 1) + ${START_SCALE} * mask))
            """).replace("${MISMATCH}", Long.toString(MISMATCH))
                    .replace("${WINDOW}", Integer.toString(CHOICE_WINDOW))
                    .replace("${MASK_BITS}", Integer.toString(MASK_BITS))
                    .replace("${TTL_MAX}", Long.toString((1L << TTL_BITS) - 1))
                    .replace("${TTL_SCALE}", Long.toString(1L << TTL_BITS))
                    .replace("${START_SCALE}", Long.toString(1L << START_BITS)),
            Script.Kind.ACQUIRE);

    /**
     * KEYS: the hash. ARGV: token, lease ms. Renews every slot of the lease to {@code now + lease} (it may shorten
     * it), only if each still holds the token and has not expired; never recreates one. Returns 1 renewed, 0 no slot
     * of the lease left (or expired), -1 a slot taken by another owner.
     */
    static final Script RENEW = Script.of("semaphore-renew", """
            redis.replicate_commands()
            local h = KEYS[1]
            local meta = redis.call('hmget', h, 't:' .. ARGV[1], 'm')
            if not meta[1] then return 0 end
            """ + NOW + RAISE + """
            local lease = tonumber(ARGV[2])
            local fields = {}
            for s in string.gmatch(meta[1], '[^,]+') do
              local v = redis.call('hmget', h, 's' .. s, 'e' .. s)
              if v[1] ~= ARGV[1] then
                if v[1] then return -1 end
                return 0
              end
              if tonumber(v[2]) <= now then return 0 end
              fields[#fields + 1] = 'e' .. s
              fields[#fields + 1] = now + lease
            end
            local raised = raise(now + lease, tonumber(meta[2] or '0'), fields)
            redis.call('hset', h, unpack(fields))
            if raised then redis.call('pexpireat', h, now + lease) end
            return 1
            """);

    /**
     * KEYS: the hash. ARGV: token, channel ("" for none). Frees every slot that still holds the token, then publishes
     * on the channel. Returns 1 released (a slot was still held), 0 nothing of the lease left, -1 its slots are
     * another owner's (left alone).
     */
    static final Script RELEASE = Script.of("semaphore-release", """
            redis.replicate_commands()
            local h = KEYS[1]
            local slots = redis.call('hget', h, 't:' .. ARGV[1])
            if not slots then return 0 end
            """ + NOW + """
            local released = 0
            local other = 0
            local gone = {'t:' .. ARGV[1]}
            for s in string.gmatch(slots, '[^,]+') do
              local v = redis.call('hmget', h, 's' .. s, 'e' .. s)
              if v[1] == ARGV[1] then
                if tonumber(v[2]) > now then released = 1 end
                gone[#gone + 1] = 's' .. s
                gone[#gone + 1] = 'e' .. s
              elseif v[1] then
                other = 1
              end
            end
            redis.call('hdel', h, unpack(gone))
            if released == 1 then
              if ARGV[2] ~= '' then redis.call('publish', ARGV[2], '1') end
              return 1
            end
            if other == 1 then return -1 end
            return 0
            """, Script.Kind.RELEASE);

    /**
     * KEYS: the hash. ARGV: P. Returns the number of free slots on this node (P when the hash is gone), or
     * {@code -MISMATCH - 1 - P'} for another declared number of permits. Read-only.
     */
    static final Script AVAILABLE = Script.of("semaphore-available", ("""
            local h = KEYS[1]
            local p = tonumber(ARGV[1])
            local declared = redis.call('hget', h, 'P')
            if declared and tonumber(declared) ~= p then return -${MISMATCH} - 1 - tonumber(declared) end
            """ + NOW + DEADLINES + """
            local e = deadlines()
            local free = 0
            for s = 1, p do
              if not (e[s] and tonumber(e[s]) > now) then free = free + 1 end
            end
            return free
            """).replace("${MISMATCH}", Long.toString(MISMATCH)));

    /** Loaded on every new connection, with the lock's: the acquire must never fall back to {@code EVAL}. */
    public static final List<Script> PRELOADED = List.of(ACQUIRE, RENEW, RELEASE, AVAILABLE);
}
