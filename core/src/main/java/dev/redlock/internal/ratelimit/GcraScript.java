package dev.redlock.internal.ratelimit;

import dev.redlock.internal.script.LockScript;
import dev.redlock.internal.script.Script;

/**
 * The rate limiter's scripts: GCRA on the node's clock. Times are microseconds of the node's {@code TIME}; the key
 * holds the theoretical arrival time (TAT) as a decimal (an emission interval need not be a whole number of
 * microseconds) with a TTL that ends when the TAT is reached, when the key would say nothing more than "no key".
 * {@code redis.replicate_commands()} comes first: Redis before 7 refuses writes after {@code TIME} without it.
 */
final class GcraScript {

    private GcraScript() {}

    /**
     * KEYS: the limiter's key. ARGV: emission interval (µs, decimal), burst, permits requested.
     *
     * <p>Admits when {@code max(TAT, now) + n·interval − burst·interval ≤ now}, then stores the new TAT. Returns,
     * when admitted, the permits that remain (≥ 0: what one more request could take at once); when refused,
     * {@code -1 − retryAfter} in µs (rounded up) and writes nothing. Every value stays far below 2^53
     * ({@link LockScript#MAX_EXACT}): a retry-after is at most burst · interval, which
     * {@code RateLimit} keeps within 100 years.
     */
    static final Script ACQUIRE = Script.of("rate-acquire", "redis.replicate_commands()\n"
            + "local t = redis.call('time')\n"
            + "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
            + "local interval = tonumber(ARGV[1])\n"
            + "local burst = tonumber(ARGV[2])\n"
            + "local tat = tonumber(redis.call('get', KEYS[1]) or '0')\n"
            + "if tat < now then tat = now end\n"
            + "local new = tat + tonumber(ARGV[3]) * interval\n"
            + "local allowAt = new - burst * interval\n"
            + "if allowAt > now then return -1 - math.ceil(allowAt - now) end\n"
            + "redis.call('set', KEYS[1], string.format('%.17g', new), 'PX', math.ceil((new - now) / 1000))\n"
            + "return math.floor((now - allowAt) / interval + 1e-9)");

    /**
     * KEYS: the limiter's key. ARGV: a signed share (µs, decimal: ± permits · interval). Moves the TAT by it from
     * {@code max(TAT, now)}, without the admission check, and deletes the key when the result is not after now.
     * Negative: a refund of a request admitted here but refused overall (or cancelled), never below the node's clock
     * (capacity that went unused meanwhile is not given back twice). Positive: the charge of a request a majority
     * admitted, on a node that refused it. Returns 1 when the key remains, 0 when it is gone.
     */
    static final Script ADJUST = Script.of("rate-adjust", "redis.replicate_commands()\n"
            + "local t = redis.call('time')\n"
            + "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
            + "local tat = tonumber(redis.call('get', KEYS[1]) or '0')\n"
            + "if tat < now then tat = now end\n"
            + "local new = tat + tonumber(ARGV[1])\n"
            + "if new <= now then\n"
            + "  redis.call('del', KEYS[1])\n"
            + "  return 0\n"
            + "end\n"
            + "redis.call('set', KEYS[1], string.format('%.17g', new), 'PX', math.ceil((new - now) / 1000))\n"
            + "return 1");
}
