package dev.redlock.internal.multi;

import dev.redlock.internal.script.LockScript;
import dev.redlock.internal.script.Script;
import java.util.List;

/**
 * The multi-key lock's scripts, on the lock's own keys ({@code <prefix>{<key>}}, holding a holder's token with the
 * lease time as TTL): a multi-key lease holds each of its keys exactly as a lock's lease holds one, so a multi-key
 * lock and a plain lock on a shared key exclude each other.
 */
public final class MultiScript {

    private MultiScript() {}

    /** 2^32: a refusal carries the blocking key's index times this, plus the holder's TTL in ms. */
    static final long INDEX_UNIT = 1L << 32;

    /** The TTL part of a refusal when the blocking key has no TTL (written by something else): unknown. */
    static final long NO_TTL = INDEX_UNIT - 1;

    /**
     * KEYS: the locks, in a fixed order. ARGV: token, lease ms.
     *
     * <p>Grants when no key is held by another token: sets every key to the token with the lease time, answers 0.
     * Refused: {@code -1 - (i × 2^32 + pttl)} for the held key {@code i} (0-based) that frees soonest (pttl
     * {@link #NO_TTL} when it has none); {@link LockScript#KIND_MISMATCH} when a fair lock holds a key.
     */
    public static final Script ACQUIRE = Script.of("multi-acquire", """
            local wait = -1
            local at = 0
            for i = 1, #KEYS do
              local v = redis.call('get', KEYS[i])
              if v and v ~= ARGV[1] then
                if string.sub(v, 1, 2) == 'f:' then return %d end
                local ttl = redis.call('pttl', KEYS[i])
                if ttl < 0 then ttl = %d end
                if wait < 0 or ttl < wait then
                  wait = ttl
                  at = i - 1
                end
              end
            end
            if wait >= 0 then return -1 - (at * %d + wait) end
            for i = 1, #KEYS do
              redis.call('set', KEYS[i], ARGV[1], 'PX', ARGV[2])
            end
            return 0
            """.formatted(LockScript.KIND_MISMATCH, NO_TTL, INDEX_UNIT), Script.Kind.ACQUIRE);

    /**
     * KEYS: the locks. ARGV: token, lease ms. When every key holds the token, renews each; answers 1 renewed, 0 when
     * a key is gone (nothing renewed), -1 when a key is another owner's (nothing renewed).
     */
    public static final Script RENEW = Script.of("multi-renew", """
            for i = 1, #KEYS do
              local v = redis.call('get', KEYS[i])
              if v ~= ARGV[1] then
                if v then return -1 end
                return 0
              end
            end
            for i = 1, #KEYS do
              redis.call('pexpire', KEYS[i], ARGV[2])
            end
            return 1
            """);

    /**
     * KEYS: the locks. ARGV: token, "1" to publish on each released key's channel ({@code <key>:released}, the
     * lock's), "" for none. Deletes each key that holds the token; answers 1 when it deleted any, else -1 when a key
     * is another owner's, else 0.
     */
    public static final Script RELEASE = Script.of("multi-release", """
            local released = 0
            local other = 0
            for i = 1, #KEYS do
              local v = redis.call('get', KEYS[i])
              if v == ARGV[1] then
                redis.call('del', KEYS[i])
                if ARGV[2] == '1' then redis.call('publish', KEYS[i] .. ':released', '1') end
                released = 1
              elseif v then
                other = 1
              end
            end
            if released == 1 then return 1 end
            return -other
            """, Script.Kind.RELEASE);

    /** KEYS: the locks. Answers 1 when every key is held (by anyone), else 0. */
    public static final Script HELD = Script.of("multi-held", """
            for i = 1, #KEYS do
              if redis.call('exists', KEYS[i]) == 0 then return 0 end
            end
            return 1
            """);

    /** Loaded on every new connection (the acquire must be: see {@link Script.Kind#ACQUIRE}). */
    public static final List<Script> PRELOADED = List.of(ACQUIRE, RENEW, RELEASE);
}
