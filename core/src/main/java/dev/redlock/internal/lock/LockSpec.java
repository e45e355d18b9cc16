package dev.redlock.internal.lock;

import dev.redlock.LockKindMismatchException;
import dev.redlock.LockOptions;
import dev.redlock.internal.engine.LeaseSpec;
import dev.redlock.internal.script.LockScript;
import dev.redlock.internal.script.Script;
import java.time.Duration;

/**
 * The lock as a {@link LeaseSpec}: the key {@code <prefix>{<key>}} holding the lease's token with the lease time as
 * TTL, its fencing counter {@code ...:fence} and its release channel {@code ...:released}. The braces make a Redis
 * Cluster hash tag, so every key of one lock lives in the same slot.
 */
public final class LockSpec implements LeaseSpec {

    public final String key;
    final String lock;
    final String fence;
    final String channel;
    private final String[] lockOnly;
    private final String[] lockAndFence;

    public LockSpec(String prefix, String key) {
        this.key = key;
        this.lock = prefix + "{" + key + "}";
        this.fence = lock + ":fence";
        this.channel = lock + ":released";
        this.lockOnly = new String[] {lock};
        this.lockAndFence = new String[] {lock, fence};
    }

    @Override
    public String name() {
        return key;
    }

    @Override
    public String lineKey() {
        return lock;
    }

    @Override
    public String releaseChannel() {
        return channel;
    }

    /** The lock key alone (queries such as {@code isLocked}). */
    public String[] lockOnly() {
        return lockOnly;
    }

    @Override
    public Script acquireScript() {
        return LockScript.ACQUIRE;
    }

    @Override
    public String[] acquireKeys() {
        return lockAndFence;
    }

    @Override
    public String[] acquireArgs(String token, Duration leaseTime, LockOptions options) {
        return new String[] {token, Long.toString(leaseTime.toMillis()), options.fencing() ? "1" : "0"};
    }

    @Override
    public boolean granted(long reply) {
        return reply >= 0;
    }

    @Override
    public long holderTtlMillis(long reply) {
        return reply < 0 ? -1 - reply : -1;
    }

    @Override
    public RuntimeException refusalError(long reply) {
        return reply == LockScript.KIND_MISMATCH ? kindMismatch(key, false) : null;
    }

    @Override
    public RuntimeException reentryRefusal(LeaseSpec held) {
        return held instanceof LockSpec || java.util.Arrays.asList(held.coveredLineKeys()).contains(lock)
                ? null
                : kindMismatch(key, false);
    }

    /**
     * The error for a name used as both kinds of lock.
     *
     * @param fair whether the failed operation asked for a fair lock (the name is then held as a plain one)
     */
    public static LockKindMismatchException kindMismatch(String name, boolean fair) {
        return fair
                ? new LockKindMismatchException(name, LockKindMismatchException.Kind.FAIR_LOCK,
                        LockKindMismatchException.Kind.LOCK)
                : new LockKindMismatchException(name, LockKindMismatchException.Kind.LOCK,
                        LockKindMismatchException.Kind.FAIR_LOCK);
    }

    @Override
    public boolean fenced(LockOptions options) {
        return options.fencing();
    }

    @Override
    public Script fenceScript() {
        return LockScript.FENCE;
    }

    @Override
    public String[] fenceArgs(String token, long fence) {
        return new String[] {token, Long.toString(fence)};
    }

    @Override
    public Script renewScript() {
        return LockScript.EXTEND;
    }

    @Override
    public String[] renewKeys() {
        return lockOnly;
    }

    @Override
    public String[] renewArgs(String token, Duration leaseTime) {
        return new String[] {token, Long.toString(leaseTime.toMillis())};
    }

    @Override
    public Script batchRenewScript() {
        return LockScript.EXTEND_BATCH;
    }

    @Override
    public String batchKey() {
        return lock;
    }

    @Override
    public Script releaseScript() {
        return LockScript.RELEASE;
    }

    @Override
    public String[] releaseKeys() {
        return lockOnly;
    }

    @Override
    public String[] releaseArgs(String token, boolean notify) {
        return new String[] {token, notify ? channel : ""};
    }
}
