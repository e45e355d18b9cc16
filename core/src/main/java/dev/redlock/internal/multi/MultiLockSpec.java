package dev.redlock.internal.multi;

import dev.redlock.LockOptions;
import dev.redlock.internal.engine.LeaseSpec;
import dev.redlock.internal.lock.LockSpec;
import dev.redlock.internal.script.LockScript;
import dev.redlock.internal.script.Script;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A multi-key lock as a {@link LeaseSpec}, one per acquire subscription: the lock's keys of the names, sorted (every
 * client asks every node for them in the same order), taken all or nothing by one script per node.
 */
final class MultiLockSpec implements LeaseSpec {

    private final String prefix;
    private final String name;
    private final List<String> names;
    private final String[] keys;
    private final String lineKey;
    /** The channel of the key that refused the first attempt, where this waiter listens for a release. */
    private volatile String channel;

    /**
     * @param names the lock names, sorted and distinct
     */
    MultiLockSpec(String prefix, List<String> names) {
        this.prefix = prefix;
        this.names = names;
        this.name = String.join(",", names);
        this.keys = new String[names.size()];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = new LockSpec(prefix, names.get(i)).lineKey();
        }
        this.lineKey = "multi:" + String.join("\n", keys);
        this.channel = keys[0] + ":released";
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String lineKey() {
        return lineKey;
    }

    @Override
    public String releaseChannel() {
        return channel;
    }

    /** Each key is held exactly as a lock holds it: a nested {@code lock(key)} scope runs under this lease. */
    @Override
    public String[] coveredLineKeys() {
        return keys;
    }

    /** A lock (or multi-key lock) that an enclosing scope holds on some of these keys. */
    @Override
    public String[] enclosingLineKeys() {
        return keys;
    }

    /** Under an enclosing scope that holds some of the keys: only the others are requested (none: its lease). */
    @Override
    public LeaseSpec nestedUnder(LeaseSpec held) {
        List<String> heldKeys = new ArrayList<>(Arrays.asList(held.coveredLineKeys()));
        heldKeys.add(held.lineKey());
        List<String> rest = new ArrayList<>();
        for (int i = 0; i < keys.length; i++) {
            if (!heldKeys.contains(keys[i])) {
                rest.add(names.get(i));
            }
        }
        return rest.isEmpty() ? null : new MultiLockSpec(prefix, rest);
    }

    @Override
    public Script acquireScript() {
        return MultiScript.ACQUIRE;
    }

    @Override
    public String[] acquireKeys() {
        return keys;
    }

    @Override
    public String[] acquireArgs(String token, Duration leaseTime, LockOptions options) {
        return new String[] {token, Long.toString(leaseTime.toMillis())};
    }

    @Override
    public boolean granted(long reply) {
        return reply >= 0;
    }

    /** Listens where the first refusal's blocking key will be released. */
    @Override
    public void refused(long reply) {
        if (reply != LockScript.KIND_MISMATCH) {
            channel = keys[(int) ((-1 - reply) / MultiScript.INDEX_UNIT)] + ":released";
        }
    }

    @Override
    public long holderTtlMillis(long reply) {
        if (reply >= 0 || reply == LockScript.KIND_MISMATCH) {
            return -1;
        }
        long ttl = (-1 - reply) % MultiScript.INDEX_UNIT;
        return ttl == MultiScript.NO_TTL ? -1 : ttl;
    }

    @Override
    public RuntimeException refusalError(long reply) {
        return reply == LockScript.KIND_MISMATCH ? LockSpec.kindMismatch(name, false) : null;
    }

    @Override
    public Script renewScript() {
        return MultiScript.RENEW;
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
        return MultiScript.RELEASE;
    }

    @Override
    public String[] releaseKeys() {
        return keys;
    }

    @Override
    public String[] releaseArgs(String token, boolean notify) {
        return new String[] {token, notify ? "1" : ""};
    }

    List<String> names() {
        return names;
    }

    @Override
    public String toString() {
        return "MultiLockSpec{" + name + '}';
    }
}
