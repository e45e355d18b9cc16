package dev.redlock.bench;

/**
 * One worker's lock: the key it locks and the owner id it locks as (Redisson's "thread id"). A driver may cache its
 * per-key objects here ({@link #handle}) in {@link LockDriver#prepare(Slot)}, outside the measured code, so that
 * the peers are not charged for creating lock objects.
 */
final class Slot {
    final int index;
    final String key;
    final long ownerId;
    /** The keys of a multi-key lock ({@link #multi}), else {@code null}. */
    final String[] keys;
    Object handle;

    Slot(int index, String key, long ownerId) {
        this(index, key, ownerId, null);
    }

    private Slot(int index, String key, long ownerId, String[] keys) {
        this.index = index;
        this.key = key;
        this.ownerId = ownerId;
        this.keys = keys;
    }

    /** {@code count} slots with keys {@code prefix0..prefix(count-1)}: one key per worker. */
    static Slot[] distinct(String prefix, int count) {
        Slot[] slots = new Slot[count];
        for (int i = 0; i < count; i++) {
            slots[i] = new Slot(i, prefix + i, i + 1);
        }
        return slots;
    }

    /** {@code count} slots that all lock the same key, each as a different owner. */
    static Slot[] shared(String key, int count) {
        Slot[] slots = new Slot[count];
        for (int i = 0; i < count; i++) {
            slots[i] = new Slot(i, key, i + 1);
        }
        return slots;
    }

    /**
     * {@code count} slots for multi-key locks, each on keys of its own: slot {@code i} has the key {@code prefix<i>}
     * (its name) and the keys {@code prefix<i>:0 .. prefix<i>:(perSlot-1)}.
     */
    static Slot[] multi(String prefix, int count, int perSlot) {
        Slot[] slots = new Slot[count];
        for (int i = 0; i < count; i++) {
            String[] keys = new String[perSlot];
            for (int k = 0; k < perSlot; k++) {
                keys[k] = prefix + i + ":" + k;
            }
            slots[i] = new Slot(i, prefix + i, i + 1, keys);
        }
        return slots;
    }
}
