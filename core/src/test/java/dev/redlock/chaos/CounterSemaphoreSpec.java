package dev.redlock.chaos;

import dev.redlock.LockOptions;
import dev.redlock.internal.engine.LeaseSpec;
import dev.redlock.internal.script.Script;
import java.time.Duration;

/**
 * Test-only mutant semaphore (never production code): a per-node counter admitted by a quorum, the design issue 11
 * rules out. Each node admits {@code n} permits while its count + n ≤ P ({@code HINCRBY} on one hash per semaphore,
 * with the lease time as the hash's TTL); release subtracts what the token added. Run by the real engine
 * ({@code EngineAccess.withLease}), so only the acquire rule differs from the real semaphore's. With P = 2 and
 * holders admitted by different majorities, three holders can each count on a majority: no node is ever above P,
 * the semaphore is.
 *
 * <p>Its keys are {@code lock:{<name>}:count}, so the gate's leaked-key check would see them. The acquire script is
 * an ordinary command (not preloaded, so it may be sent with {@code EVAL} after a {@code NOSCRIPT}): the mutant is
 * about the rule, not the loading.
 */
final class CounterSemaphoreSpec implements LeaseSpec {

    private static final Script ACQUIRE = Script.of("mutant-counter-acquire", "redis.replicate_commands()\n"
            + "local h = KEYS[1]\n"
            + "local lease = tonumber(ARGV[2])\n"
            + "local p = tonumber(ARGV[3])\n"
            + "local n = tonumber(ARGV[4])\n"
            + "local c = tonumber(redis.call('hget', h, 'c') or '0')\n"
            + "if c + n > p then\n"
            + "  local ttl = redis.call('pttl', h)\n"
            + "  if ttl < 0 then ttl = 0 end\n"
            + "  return -1 - ttl\n"
            + "end\n"
            + "redis.call('hincrby', h, 'c', n)\n"
            + "redis.call('hset', h, 't:' .. ARGV[1], n)\n"
            + "if redis.call('pttl', h) < lease then redis.call('pexpire', h, lease) end\n"
            + "return 1");

    private static final Script RENEW = Script.of("mutant-counter-renew", "local h = KEYS[1]\n"
            + "if not redis.call('hget', h, 't:' .. ARGV[1]) then return 0 end\n"
            + "local lease = tonumber(ARGV[2])\n"
            + "if redis.call('pttl', h) < lease then redis.call('pexpire', h, lease) end\n"
            + "return 1");

    private static final Script RELEASE = Script.of("mutant-counter-release", "local h = KEYS[1]\n"
            + "local n = redis.call('hget', h, 't:' .. ARGV[1])\n"
            + "if not n then return 0 end\n"
            + "redis.call('hdel', h, 't:' .. ARGV[1])\n"
            + "if redis.call('hincrby', h, 'c', -tonumber(n)) <= 0 then redis.call('del', h) end\n"
            + "if ARGV[2] ~= '' then redis.call('publish', ARGV[2], '1') end\n"
            + "return 1", Script.Kind.RELEASE);

    private final String name;
    private final String[] keys;
    private final String channel;
    private final int permits;
    private final int n;

    CounterSemaphoreSpec(String name, int permits, int n) {
        this.name = name;
        this.keys = new String[] {"lock:{" + name + "}:count"};
        this.channel = keys[0] + ":released";
        this.permits = permits;
        this.n = n;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String lineKey() {
        return keys[0];
    }

    @Override
    public String releaseChannel() {
        return channel;
    }

    @Override
    public boolean exclusive() {
        return false;
    }

    @Override
    public Script acquireScript() {
        return ACQUIRE;
    }

    @Override
    public String[] acquireKeys() {
        return keys;
    }

    @Override
    public String[] acquireArgs(String token, Duration leaseTime, LockOptions options) {
        return new String[] {token, Long.toString(leaseTime.toMillis()), Integer.toString(permits),
            Integer.toString(n)};
    }

    @Override
    public boolean granted(long reply) {
        return reply == 1;
    }

    @Override
    public long holderTtlMillis(long reply) {
        return reply < 0 ? -1 - reply : -1;
    }

    @Override
    public Script renewScript() {
        return RENEW;
    }

    @Override
    public String[] renewKeys() {
        return keys;
    }

    @Override
    public String[] renewArgs(String token, Duration leaseTime) {
        return new String[] {token, Long.toString(leaseTime.toMillis())};
    }

    @Override
    public Script releaseScript() {
        return RELEASE;
    }

    @Override
    public String[] releaseKeys() {
        return keys;
    }

    @Override
    public String[] releaseArgs(String token, boolean notify) {
        return new String[] {token, notify ? channel : ""};
    }

    /** Runs operations of this mutant through the engine of the client they run on. */
    static SemaphoreWorkload.Source source(String name, int permits) {
        return (lock, n, options, body) -> dev.redlock.EngineAccess.<Void>withLease(lock,
                new CounterSemaphoreSpec(name, permits, n), options, body::apply);
    }
}
