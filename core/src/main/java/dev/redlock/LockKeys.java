package dev.redlock;

/**
 * The Redis names of one lock: {@code <prefix>{<key>}} for the lock, {@code ...:fence} for the fencing counter and
 * {@code ...:released} for the release channel. The braces make a Redis Cluster hash tag, so every key of one lock
 * lives in the same slot.
 */
final class LockKeys {

    final String key;
    final String lock;
    final String fence;
    final String channel;
    final String[] lockOnly;
    final String[] lockAndFence;

    LockKeys(String prefix, String key) {
        this.key = key;
        this.lock = prefix + "{" + key + "}";
        this.fence = lock + ":fence";
        this.channel = lock + ":released";
        this.lockOnly = new String[] {lock};
        this.lockAndFence = new String[] {lock, fence};
    }
}
