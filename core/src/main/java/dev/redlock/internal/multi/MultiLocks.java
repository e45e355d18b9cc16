package dev.redlock.internal.multi;

import dev.redlock.CrossSlotKeysException;
import dev.redlock.LockOptions;
import dev.redlock.RedLock;
import dev.redlock.internal.Checks;
import dev.redlock.internal.engine.Engine;
import dev.redlock.internal.lock.LockHandle;
import io.lettuce.core.cluster.SlotHash;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/** Makes multi-key locks: a {@link LockHandle} whose specs are {@link MultiLockSpec}s; checks the keys at call time. */
public final class MultiLocks {

    /** The most keys one multi-key lock takes. */
    public static final int MAX_KEYS = 64;

    private MultiLocks() {}

    /**
     * The multi-key lock on {@code names} (sorted, duplicates dropped).
     *
     * @param check the client's check of options; fencing is refused here
     */
    public static RedLock multiLock(Engine engine, String prefix, Collection<String> names, LockOptions options,
            UnaryOperator<LockOptions> check) {
        Checks.notNull(names, "keys");
        TreeSet<String> sorted = new TreeSet<>();
        for (String name : names) {
            sorted.add(Checks.key(name, "each key"));
        }
        if (sorted.isEmpty() || sorted.size() > MAX_KEYS) {
            throw new IllegalArgumentException("a multi-key lock takes 1 to " + MAX_KEYS + " distinct keys, got "
                    + sorted.size());
        }
        UnaryOperator<LockOptions> checked = o -> {
            check.apply(o);
            if (o.fencing()) {
                throw new IllegalArgumentException("fencing tokens are not offered by multi-key locks: use "
                        + "LockOptions.fencing(false) (got " + o + ")");
            }
            return o;
        };
        List<String> keys = List.copyOf(sorted);
        MultiLockSpec first = new MultiLockSpec(prefix, keys);
        String[] lockKeys = first.acquireKeys();
        Map<Integer, List<String>> bySlot = new TreeMap<>();
        for (int i = 0; i < lockKeys.length; i++) {
            bySlot.computeIfAbsent(SlotHash.getSlot(lockKeys[i]), slot -> new ArrayList<>()).add(keys.get(i));
        }
        // Known once the client has connected: cluster-mode endpoints refuse a script over several slots (CROSSSLOT)
        LockHandle.Specs specs = waits -> {
            if (bySlot.size() > 1 && engine.slotStrict()) {
                throw new CrossSlotKeysException(first.name(), bySlot);
            }
            return new MultiLockSpec(prefix, keys);
        };
        return new LockHandle(engine, first.name(), specs, checked.apply(options),
                checked, () -> engine.heldByQuorum(first.name(), MultiScript.HELD, lockKeys, new String[0],
                        options.nodeTimeout()));
    }
}
