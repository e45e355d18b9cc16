package dev.redlock;

import java.util.List;
import java.util.Map;

/**
 * A multi-key lock's keys lie in different hash slots, and the nodes are cluster-mode endpoints (one-node Redis
 * Clusters, Redis Enterprise, cloud proxies), which refuse a script whose keys span slots. Give the keys a common hash
 * tag: {@code {orders}:1} and {@code {orders}:2} share the slot of {@code {orders}}. Never retried.
 *
 * @since 0.1.0
 */
public final class CrossSlotKeysException extends LockException {

    private static final long serialVersionUID = 1L;

    /** The keys by slot, in slot order. */
    private final Map<Integer, List<String>> keysBySlot;

    /**
     * The error for a multi-key lock whose keys span slots.
     *
     * @param name the lock's name (its keys joined by {@code ','})
     * @param keysBySlot the keys as given, by the slot of their lock key
     */
    public CrossSlotKeysException(String name, Map<Integer, List<String>> keysBySlot) {
        super(name, "the keys of multi-key lock '" + name + "' lie in " + keysBySlot.size() + " hash slots "
                + keysBySlot + ", and the nodes are cluster-mode endpoints, which run a script only on keys of one "
                + "slot: give the keys a common hash tag, such as {orders}:1 and {orders}:2", null);
        this.keysBySlot = Map.copyOf(keysBySlot);
    }

    /**
     * The keys by hash slot.
     *
     * @return the keys as given, grouped by the slot of their lock key
     */
    public Map<Integer, List<String>> keysBySlot() {
        return keysBySlot;
    }
}
