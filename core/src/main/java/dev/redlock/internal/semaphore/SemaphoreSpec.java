package dev.redlock.internal.semaphore;

import dev.redlock.LockOptions;
import dev.redlock.internal.Tokens;
import dev.redlock.internal.engine.LeaseSpec;
import dev.redlock.internal.script.Script;
import dev.redlock.semaphore.PermitsMismatchException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongPredicate;

/**
 * One acquire of {@code n} permits of a semaphore of {@code P} as a {@link LeaseSpec}: the slots of
 * {@link SemaphoreScript}, each a Redlock mutex. Every attempt asks every node for the same {@code n} slots, chosen
 * here; a node grants all of them or none; the quorum decides on those slots. So each slot is held by at most one
 * lease at a time (the lock's argument, slot by slot), and at most P permits are held at once.
 *
 * <p>Which slots: the first attempt lets each node choose its first {@code n} free slots from a random offset, and
 * counts only the nodes that chose the same ones ({@link #attemptGrants()}); each refusal tells the soonest expiry and
 * which slots were free on that node ({@link #refused(long)}), and the next attempt asks every node for the slots free
 * on the most nodes. Made per acquire (the choice is the acquire's own state; attempts are sequential).
 */
public final class SemaphoreSpec implements LeaseSpec {

    private static final long TTL_MASK = (1L << SemaphoreScript.TTL_BITS) - 1;
    private static final long START_MASK = (1L << SemaphoreScript.START_BITS) - 1;

    private final String name;
    private final String hash;
    private final String channel;
    private final String[] keys;
    private final int permits;
    private final int n;
    private final String waiter;
    private final String reserveMillis;
    /** Free-slot votes of the last failed attempt's nodes (null when none); guarded by this. */
    private int[] votes;
    /** The offset of the current attempt; guarded by this. */
    private int offset;

    SemaphoreSpec(String prefix, String name, int permits, int n, boolean reserve, LockOptions options) {
        this.name = name;
        this.hash = prefix + "{" + name + "}:permits";
        this.channel = hash + ":released";
        this.keys = new String[] {hash};
        this.permits = permits;
        this.n = n;
        this.waiter = reserve ? Tokens.next() : "";
        this.reserveMillis = reserve ? Long.toString(reserveMillis(options)) : "0";
    }

    /**
     * How long a waiter's reservation lives after its last attempt: longer than the longest pause between its
     * attempts (the backoff's longest delay, then a node timeout), at least a second.
     */
    static long reserveMillis(LockOptions options) {
        long longestPause = options.backoff().maxDelay().toMillis();
        return Math.max(1000, 4 * longestPause + options.nodeTimeout().toMillis());
    }

    /** The number of permits this acquire asks for. */
    public int n() {
        return n;
    }

    int permits() {
        return permits;
    }

    String hash() {
        return hash;
    }

    @Override
    public int heldPermits() {
        return n;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String lineKey() {
        return hash;
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
    public RuntimeException reentryRefusal(LeaseSpec held) {
        int holds = held instanceof SemaphoreSpec ? ((SemaphoreSpec) held).n : 0;
        return n <= holds ? null : new IllegalStateException("a nested withPermits(" + n + ") on '" + name
                + "' asks for more permits than the enclosing scope holds (" + holds + "): nested scopes on the same "
                + "semaphore run under the outer scope's permits");
    }

    // == Acquire ==

    @Override
    public Script acquireScript() {
        return SemaphoreScript.ACQUIRE;
    }

    @Override
    public String[] acquireKeys() {
        return keys;
    }

    @Override
    public String[] acquireArgs(String token, Duration leaseTime, LockOptions options) {
        int[] slots = nextSlots();
        String[] args = new String[7 + (slots == null ? 0 : n)];
        args[0] = token;
        args[1] = Long.toString(leaseTime.toMillis());
        args[2] = Integer.toString(permits);
        args[3] = Integer.toString(n);
        args[4] = reserveMillis;
        args[5] = waiter;
        args[6] = Integer.toString(offset);
        for (int i = 0; slots != null && i < n; i++) {
            args[7 + i] = Integer.toString(slots[i]);
        }
        return args;
    }

    /**
     * The slots the next attempt asks for: those free on the most nodes of the last failed attempt; or {@code null}
     * to let each node choose its first {@code n} free slots from a random offset (the nodes agree when they hold
     * the same slots, the usual case, and this needs no knowledge of which are free).
     */
    private synchronized int[] nextSlots() {
        int[] counted = votes;
        votes = null;
        ThreadLocalRandom random = ThreadLocalRandom.current();
        offset = random.nextInt(permits);
        if (counted == null && n <= SemaphoreScript.CHOICE_WINDOW) {
            return null;
        }
        int[] slots = new int[n];
        boolean[] taken = new boolean[permits];
        int chosen = 0;
        if (counted != null) {
            List<Integer> free = new ArrayList<>();
            for (int s = 0; s < permits; s++) {
                if (counted[s] > 0) {
                    free.add(s);
                }
            }
            Collections.shuffle(free, random); // contenders that saw the same free slots spread over them
            free.sort(Comparator.comparingInt((Integer s) -> counted[s]).reversed());
            for (int i = 0; i < free.size() && chosen < n; i++) {
                slots[chosen++] = free.get(i);
                taken[free.get(i)] = true;
            }
        }
        int next = offset;
        while (chosen < n) {
            if (!taken[next]) {
                slots[chosen++] = next;
                taken[next] = true;
            }
            next = (next + 1) % permits;
        }
        return slots;
    }

    /**
     * One attempt's rule: a node that granted the asked slots (0) grants; of the nodes that chose their own, only those
     * that chose the same slots as the first of them to answer count (others hold slots this lease will not use, until
     * it is released or expires).
     */
    @Override
    public LongPredicate attemptGrants() {
        AtomicLong first = new AtomicLong(-1);
        return reply -> reply == 0 || reply > 0 && (first.compareAndSet(-1, reply) || first.get() == reply);
    }

    /** Without an attempt's rule: a node that granted the asked slots. */
    @Override
    public boolean granted(long reply) {
        return reply == 0;
    }

    @Override
    public synchronized void refused(long reply) {
        if (reply > 0) {
            // chose other slots than the nodes that count: those were free there
            long chosen = reply - 1;
            vote((int) (chosen & START_MASK), chosen >>> SemaphoreScript.START_BITS, SemaphoreScript.CHOICE_WINDOW);
            return;
        }
        if (reply < -SemaphoreScript.MISMATCH) {
            return;
        }
        long v = -1 - reply;
        long start = ((v >>> SemaphoreScript.TTL_BITS) & START_MASK) - 1;
        if (start >= 0 && start < permits) {
            vote((int) start, v >>> (SemaphoreScript.TTL_BITS + SemaphoreScript.START_BITS), SemaphoreScript.MASK_BITS);
        }
    }

    /** One vote for each slot {@code from + k} whose bit {@code k} is set in {@code mask}. */
    private void vote(int from, long mask, int bits) {
        if (votes == null) {
            votes = new int[permits];
        }
        for (int k = 0; k < bits && k < permits; k++) {
            if ((mask & (1L << k)) != 0) {
                votes[(from + k) % permits]++;
            }
        }
    }

    @Override
    public long holderTtlMillis(long reply) {
        if (reply >= 0 || reply < -SemaphoreScript.MISMATCH) {
            return -1;
        }
        long ttl = (-1 - reply) & TTL_MASK;
        return ttl == 0 ? -1 : ttl - 1;
    }

    @Override
    public RuntimeException refusalError(long reply) {
        return reply < -SemaphoreScript.MISMATCH ? mismatch(reply) : null;
    }

    /** The error for a node's reply that the semaphore was declared with another number of permits. */
    PermitsMismatchException mismatch(long reply) {
        long declared = -reply - SemaphoreScript.MISMATCH - 1;
        return new PermitsMismatchException(name, permits, (int) declared);
    }

    // == Renewal ==

    @Override
    public Script renewScript() {
        return SemaphoreScript.RENEW;
    }

    @Override
    public String[] renewKeys() {
        return keys;
    }

    @Override
    public String[] renewArgs(String token, Duration leaseTime) {
        return new String[] {token, Long.toString(leaseTime.toMillis())};
    }

    // == Release ==

    @Override
    public Script releaseScript() {
        return SemaphoreScript.RELEASE;
    }

    @Override
    public String[] releaseKeys() {
        return keys;
    }

    @Override
    public String[] releaseArgs(String token, boolean notify) {
        return new String[] {token, notify ? channel : ""};
    }
}
