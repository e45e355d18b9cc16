package dev.redlock.internal.fair;

import dev.redlock.LockKindMismatchException;
import dev.redlock.LockOptions;
import dev.redlock.internal.Tokens;
import dev.redlock.internal.engine.LeaseSpec;
import dev.redlock.internal.lock.LockSpec;
import dev.redlock.internal.quorum.QuorumCall;
import dev.redlock.internal.script.Script;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * The fair lock as a {@link LeaseSpec}, one per acquire subscription (it is that acquire's waiter): the lock's key
 * and fencing counter, the waiter queue and heartbeats of {@link FairScript}, the waiter's own wake channel.
 *
 * <p><b>The agreed score.</b> Each node scores a new waiter by its own clock, so two waiters that arrive together may
 * stand in different orders on different nodes, and three or more could each be first on a minority: nobody would
 * ever be first on a quorum. So the first refused attempt reads the waiter's score from every node that answered and
 * fixes the median as its score; every later attempt writes that score on every node. From then on all nodes order
 * the waiters that they hold the same way, and the live waiter with the lowest score is first on every node that
 * holds it — which, since each attempt (re)queues it, is every node its attempts reach.
 */
final class FairLockSpec implements LeaseSpec {

    private final String name;
    private final String lock;
    private final String[] acquireKeys;
    /** The plain lock on the same key: the lease's fencing and renewal are its scripts. */
    private final LockSpec plain;
    private final String wakePrefix;
    private final String channel;
    private final String waiter;
    private final int priority;
    private final long heartbeatMillis;
    private final boolean queue;
    private final long[] refusals;
    private int refusalCount;
    private volatile long agreedScore = -1;
    private volatile QuorumCall lastAttempt;

    /**
     * @param queue whether refused attempts queue the waiter (an acquire), or not (a try)
     */
    FairLockSpec(String prefix, String name, int priority, Duration heartbeatTimeout, boolean queue, int nodes) {
        this.name = name;
        this.lock = prefix + "{" + name + "}";
        this.acquireKeys = new String[] {lock, lock + ":fence", lock + ":queue", lock + ":heartbeats"};
        this.plain = new LockSpec(prefix, name);
        this.wakePrefix = lock + ":wake:";
        this.waiter = Tokens.next();
        this.channel = wakePrefix + waiter;
        this.priority = priority;
        this.heartbeatMillis = heartbeatTimeout.toMillis();
        this.queue = queue;
        this.refusals = new long[nodes];
    }

    @Override
    public String name() {
        return name;
    }

    /** The lock's key, as the plain lock's: nested scopes of either kind on one name meet (and are refused). */
    @Override
    public String lineKey() {
        return lock;
    }

    /** This waiter's own channel: a release wakes only the waiter at the head of the queue. */
    @Override
    public String releaseChannel() {
        return channel;
    }

    @Override
    public String tokenPrefix() {
        return "f:";
    }

    @Override
    public boolean queuesLocally() {
        return false;
    }

    /** A third of the heartbeat timeout: each attempt is the waiter's heartbeat. */
    @Override
    public long maxPauseNanos() {
        return TimeUnit.MILLISECONDS.toNanos(heartbeatMillis) / 3;
    }

    @Override
    public void attemptStarted(QuorumCall acquire) {
        lastAttempt = acquire;
        refusalCount = 0;
    }

    @Override
    public QuorumCall lastAttempt() {
        return lastAttempt;
    }

    @Override
    public Script acquireScript() {
        return FairScript.ACQUIRE;
    }

    @Override
    public String[] acquireKeys() {
        return acquireKeys;
    }

    @Override
    public String[] acquireArgs(String token, Duration leaseTime, LockOptions options) {
        if (agreedScore < 0 && refusalCount > 0) {
            long[] scores = Arrays.copyOf(refusals, refusalCount);
            Arrays.sort(scores);
            agreedScore = scores[(scores.length - 1) / 2];
        }
        return new String[] {token, Long.toString(leaseTime.toMillis()), options.fencing() ? "1" : "0", waiter,
                Integer.toString(priority), Long.toString(heartbeatMillis),
                agreedScore < 0 ? "" : Long.toString(agreedScore), queue ? "q" : ""};
    }

    @Override
    public boolean granted(long reply) {
        return reply >= 0;
    }

    /** Refusals carry the waiter's score on that node; the first attempt's fix the agreed score. */
    @Override
    public void refused(long reply) {
        if (reply != FairScript.KIND_MISMATCH && agreedScore < 0 && refusalCount < refusals.length) {
            refusals[refusalCount++] = -1 - reply;
        }
    }

    /** Unknown: the waiter is woken by the release, or tries again within {@link #maxPauseNanos()}. */
    @Override
    public long holderTtlMillis(long reply) {
        return -1;
    }

    @Override
    public RuntimeException refusalError(long reply) {
        return reply == FairScript.KIND_MISMATCH ? LockSpec.kindMismatch(name, true) : null;
    }

    @Override
    public RuntimeException reentryRefusal(LeaseSpec held) {
        return held instanceof FairLockSpec ? null : LockSpec.kindMismatch(name, false);
    }

    // The lease on the key is the lock's: fencing, renewal and batched renewal are the lock's scripts on its key.

    @Override
    public boolean fenced(LockOptions options) {
        return plain.fenced(options);
    }

    @Override
    public Script fenceScript() {
        return plain.fenceScript();
    }

    @Override
    public String[] fenceArgs(String token, long fence) {
        return plain.fenceArgs(token, fence);
    }

    @Override
    public Script renewScript() {
        return plain.renewScript();
    }

    @Override
    public String[] renewKeys() {
        return plain.renewKeys();
    }

    @Override
    public String[] renewArgs(String token, Duration leaseTime) {
        return plain.renewArgs(token, leaseTime);
    }

    @Override
    public Script batchRenewScript() {
        return plain.batchRenewScript();
    }

    @Override
    public String batchKey() {
        return plain.batchKey();
    }

    @Override
    public Script releaseScript() {
        return FairScript.RELEASE;
    }

    @Override
    public String[] releaseKeys() {
        return acquireKeys;
    }

    /** A lease's release takes its waiter out and wakes the next; a failed attempt's cleanup only deletes its key. */
    @Override
    public String[] releaseArgs(String token, boolean notify) {
        return notify ? new String[] {token, wakePrefix, waiter} : new String[] {token, "", ""};
    }

    @Override
    public Script leaveScript() {
        return queue ? FairScript.RELEASE : null;
    }

    @Override
    public String[] leaveKeys() {
        return acquireKeys;
    }

    @Override
    public String[] leaveArgs() {
        return new String[] {"", wakePrefix, waiter};
    }

    @Override
    public String toString() {
        return "FairLockSpec{" + name + ", priority=" + priority + ", waiter=" + Tokens.shortHash(waiter) + '}';
    }
}
