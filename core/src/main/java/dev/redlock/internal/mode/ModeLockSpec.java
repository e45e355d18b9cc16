package dev.redlock.internal.mode;

import dev.redlock.LockOptions;
import dev.redlock.internal.Tokens;
import dev.redlock.internal.engine.LeaseSpec;
import dev.redlock.internal.quorum.QuorumCall;
import dev.redlock.internal.script.Script;
import dev.redlock.rw.LockMode;
import dev.redlock.rw.LockUpgradeException;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * A request for a lock with modes as a {@link LeaseSpec}, one per acquire subscription (it is that acquire's waiter,
 * whose claims {@link ModeScript#ACQUIRE} leaves on refusing nodes): the resources' keys (a path: its ancestors, then
 * itself), the mode asked for on each, and the release channel they share.
 */
final class ModeLockSpec implements LeaseSpec {

    /** How long a waiting request's claim lives on a node without another attempt renewing it. */
    static final long CLAIM_MILLIS = 3_000;

    private final String name;
    private final LockMode mode;
    private final String[] keys;
    private final String modes;
    private final String channel;
    private final boolean queue;
    private final String waiter = Tokens.next();
    private volatile QuorumCall lastAttempt;

    /**
     * @param name the name or path, for errors and events
     * @param mode the mode asked for on the last key (its intention on the others)
     * @param keys the resources' keys, the requested resource last (its key is the line key)
     * @param channel the channel of the resources' releases
     * @param queue whether a refused attempt leaves claims (an acquire), or not (a try)
     */
    ModeLockSpec(String name, LockMode mode, String[] keys, String channel, boolean queue) {
        this.name = name;
        this.mode = mode;
        this.keys = keys;
        StringBuilder digits = new StringBuilder(keys.length);
        for (int i = 0; i < keys.length - 1; i++) {
            digits.append(ModeScript.digit(mode.intention()));
        }
        this.modes = digits.append(ModeScript.digit(mode)).toString();
        this.channel = channel;
        this.queue = queue;
    }

    LockMode mode() {
        return mode;
    }

    @Override
    public String name() {
        return name;
    }

    /** The requested resource's key: nested scopes of any mode on it meet. */
    @Override
    public String lineKey() {
        return keys[keys.length - 1];
    }

    @Override
    public String releaseChannel() {
        return channel;
    }

    /**
     * No local line: each waiter tries the nodes itself, so each keeps its own claims alive (and takes them back when
     * it gives up). In a line shared by a client's readers and writers, a reader at its head would be refused by the
     * claim of a writer behind it, which does not try (so neither renews nor takes back its claim) until the reader
     * leaves: nothing would be granted until the claim lapsed.
     */
    @Override
    public boolean queuesLocally() {
        return false;
    }

    /** Only a writer's lease keeps this client's next waiter of the resource from trying before its hand-back. */
    @Override
    public boolean exclusive() {
        return mode == LockMode.EXCLUSIVE;
    }

    /** A third of the claim's life: a waiting request's attempts renew its claims. */
    @Override
    public long maxPauseNanos() {
        return TimeUnit.MILLISECONDS.toNanos(CLAIM_MILLIS) / 3;
    }

    @Override
    public RuntimeException reentryRefusal(LeaseSpec held) {
        if (held instanceof ModeLockSpec outer && !outer.mode.covers(mode)) {
            return new LockUpgradeException(name, outer.mode, mode);
        }
        return null;
    }

    /** The ancestors' keys, nearest first. */
    @Override
    public String[] enclosingLineKeys() {
        String[] ancestors = new String[keys.length - 1];
        for (int i = 0; i < ancestors.length; i++) {
            ancestors[i] = keys[keys.length - 2 - i];
        }
        return ancestors;
    }

    /**
     * Under an enclosing scope that holds an ancestor: run under its lease when its mode covers the whole subtree for
     * this request (X; S or SIX for a read); below a SIX, request only the nodes under it (the SIX holder already
     * has the ancestor and the intention above it, and IX there would conflict with its own SIX); below an S, a
     * write is an upgrade.
     */
    @Override
    public LeaseSpec nestedUnder(LeaseSpec held) {
        if (!(held instanceof ModeLockSpec outer)) {
            return this;
        }
        if (outer.mode.covers(mode)) {
            return null;
        }
        if (outer.mode == LockMode.SHARED_INTENTION_EXCLUSIVE) {
            int below = Arrays.asList(keys).indexOf(outer.lineKey()) + 1;
            return new ModeLockSpec(name, mode, Arrays.copyOfRange(keys, below, keys.length), channel, queue);
        }
        throw new LockUpgradeException(name, outer.name, outer.mode, mode);
    }

    @Override
    public Script acquireScript() {
        return ModeScript.ACQUIRE;
    }

    @Override
    public String[] acquireKeys() {
        return keys;
    }

    @Override
    public String[] acquireArgs(String token, Duration leaseTime, LockOptions options) {
        return new String[] {token, Long.toString(leaseTime.toMillis()), Long.toString(CLAIM_MILLIS), waiter, modes,
                queue ? "q" : ""};
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
    public void attemptStarted(QuorumCall acquire) {
        lastAttempt = acquire;
    }

    @Override
    public QuorumCall lastAttempt() {
        return lastAttempt;
    }

    /** A waiter that gives up takes its claims back at once (they would hold back others until they lapse). */
    @Override
    public Script leaveScript() {
        return queue ? ModeScript.RELEASE : null;
    }

    @Override
    public String[] leaveKeys() {
        return keys;
    }

    @Override
    public String[] leaveArgs() {
        return new String[] {"", channel, waiter};
    }

    @Override
    public Script renewScript() {
        return ModeScript.RENEW;
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
        return ModeScript.RELEASE;
    }

    @Override
    public String[] releaseKeys() {
        return keys;
    }

    /** A lease's release also takes back the waiter's claims left on nodes that refused it. */
    @Override
    public String[] releaseArgs(String token, boolean notify) {
        return notify ? new String[] {token, channel, waiter} : new String[] {token, "", ""};
    }

    @Override
    public String toString() {
        return "ModeLockSpec{" + name + ' ' + mode.abbreviation() + ", waiter=" + Tokens.shortHash(waiter) + '}';
    }
}
