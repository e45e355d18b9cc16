package dev.redlock.internal.mode;

import dev.redlock.internal.script.Script;
import dev.redlock.rw.LockMode;
import java.util.List;

/**
 * The scripts of the locks with modes (read-write and hierarchical). Per node, each resource is one hash:
 *
 * <ul>
 *   <li>{@code <token>}: a holder, its mode (one digit: 1 IS, 2 IX, 3 S, 4 SIX, 5 X, {@link LockMode}'s order) then
 *       its deadline in ms of the node's {@code TIME};
 *   <li>{@code w:<waiter>}: the claim of a waiting request, its mode then its expiry (see {@link #ACQUIRE});
 *   <li>{@code m}: the latest deadline or expiry written; the hash expires then ({@code PEXPIREAT}, same clock), so it
 *       outlives every entry in it. Entries past their time count as gone and are pruned by the next acquire; the
 *       hash is deleted when its last entry is released.
 * </ul>
 *
 * <p>Tokens are 32 hex digits, so they never read as {@code m} or {@code w:...}. Redis 4.0+ (multi-field
 * {@code HSET}).
 */
public final class ModeScript {

    private ModeScript() {}

    /** The node's time in ms. */
    private static final String NOW = """
            local t = redis.call('time')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            """;

    /**
     * Writes {@code field = value} with its time {@code at} into the hash whose {@code m} is {@code m} (0 for none),
     * and raises the hash's expiry to cover it; answers the new {@code m}.
     */
    private static final String PUT = """
            local function put(key, m, field, value, at)
              if at > m then m = at end
              redis.call('hset', key, field, value, 'm', m)
              redis.call('pexpireat', key, m)
              return m
            end
            """;

    /**
     * KEYS: the resources of the request (a path: its ancestors then itself). ARGV: token, lease ms, claim ms,
     * waiter id, the modes (one digit per key), "q" to leave claims when refused ("" for a try).
     *
     * <p>Grants when, on every key, no live holder has a mode that conflicts with the one asked for there, and no live
     * claim of another waiter conflicts with it and has a higher mode (a waiting writer holds back new readers, never
     * the reverse, so claims cannot wait for each other in a circle). Granted: writes the token on every key with its
     * mode and deadline (now + lease), removes the waiter's claims, answers 0. Refused: when asked, leaves (or renews)
     * the waiter's claim, its mode until now + claim ms, on each key where it was refused; answers
     * {@code -1 - ms} until the soonest conflicting entry's time ends.
     */
    public static final Script ACQUIRE = Script.of("mode-acquire", "redis.replicate_commands()\n" + NOW + PUT + """
            local token = ARGV[1]
            local waiter = 'w:' .. ARGV[4]
            local modes = ARGV[5]
            local compatible = {'11110', '11000', '10100', '10000', '00000'}
            local wait = -1
            local refused = {}
            local ms = {}
            local claimed = {}
            for i = 1, #KEYS do
              local want = tonumber(string.sub(modes, i, i))
              local entries = redis.call('hgetall', KEYS[i])
              ms[i] = 0
              for j = 1, #entries, 2 do
                local f = entries[j]
                if f == 'm' then
                  ms[i] = tonumber(entries[j + 1])
                elseif f == waiter then
                  claimed[i] = true
                elseif f ~= token then
                  local v = entries[j + 1]
                  local mode = tonumber(string.sub(v, 1, 1))
                  local left = tonumber(string.sub(v, 2)) - now
                  if left <= 0 then
                    redis.call('hdel', KEYS[i], f)
                  elseif string.sub(compatible[mode], want, want) == '0'
                      and (string.sub(f, 1, 2) ~= 'w:' or mode > want) then
                    refused[#refused + 1] = i
                    if wait < 0 or left < wait then wait = left end
                  end
                end
              end
            end
            if wait < 0 then
              local deadline = now + tonumber(ARGV[2])
              for i = 1, #KEYS do
                if claimed[i] then redis.call('hdel', KEYS[i], waiter) end
                put(KEYS[i], ms[i], token, string.sub(modes, i, i) .. deadline, deadline)
              end
              return 0
            end
            if ARGV[6] == 'q' then
              local expiry = now + tonumber(ARGV[3])
              for _, i in ipairs(refused) do
                ms[i] = put(KEYS[i], ms[i], waiter, string.sub(modes, i, i) .. expiry, expiry)
              end
            end
            return -1 - wait
            """, Script.Kind.ACQUIRE);

    /**
     * KEYS: the lease's resources. ARGV: token, lease ms. When every key still holds the token and its deadline has
     * not passed, moves each deadline to now + lease and answers 1; else changes nothing and answers 0 (the lease is
     * gone there; never recreated).
     */
    public static final Script RENEW = Script.of("mode-renew", "redis.replicate_commands()\n" + NOW + PUT + """
            local modes = {}
            for i = 1, #KEYS do
              local v = redis.call('hget', KEYS[i], ARGV[1])
              if not v or tonumber(string.sub(v, 2)) <= now then return 0 end
              modes[i] = string.sub(v, 1, 1)
            end
            local deadline = now + tonumber(ARGV[2])
            for i = 1, #KEYS do
              put(KEYS[i], tonumber(redis.call('hget', KEYS[i], 'm') or '0'), ARGV[1], modes[i] .. deadline, deadline)
            end
            return 1
            """);

    /**
     * KEYS: the lease's resources. ARGV: token ("" for none), channel ("" to wake nobody), waiter id whose claims to
     * remove ("" for none). Removes the token and the claims from every key, deletes a hash left with no entry, and
     * publishes on the channel when it removed anything. Answers 1 when the token was there, else 0.
     */
    public static final Script RELEASE = Script.of("mode-release", """
            local released = 0
            local removed = 0
            for i = 1, #KEYS do
              if ARGV[1] ~= '' and redis.call('hdel', KEYS[i], ARGV[1]) == 1 then released = 1 end
              if ARGV[3] ~= '' then removed = removed + redis.call('hdel', KEYS[i], 'w:' .. ARGV[3]) end
              if redis.call('hlen', KEYS[i]) <= 1 then redis.call('del', KEYS[i]) end
            end
            if ARGV[2] ~= '' and released + removed > 0 then redis.call('publish', ARGV[2], '1') end
            return released
            """, Script.Kind.RELEASE);

    /** KEYS: one resource. ARGV: a mode digit. Answers 1 when a live holder there has that mode, else 0. */
    public static final Script HELD = Script.of("mode-held", "redis.replicate_commands()\n" + NOW + """
            local entries = redis.call('hgetall', KEYS[1])
            for j = 1, #entries, 2 do
              local f = entries[j]
              local v = entries[j + 1]
              if f ~= 'm' and string.sub(f, 1, 2) ~= 'w:' and string.sub(v, 1, 1) == ARGV[1]
                  and tonumber(string.sub(v, 2)) > now then
                return 1
              end
            end
            return 0
            """);

    /** The digit of a mode in the scripts. */
    static char digit(LockMode mode) {
        return (char) ('1' + mode.ordinal());
    }

    /** Loaded on every new connection (the acquire must be: see {@link Script.Kind#ACQUIRE}). */
    public static final List<Script> PRELOADED = List.of(ACQUIRE, RENEW, RELEASE);
}
