package dev.redlock.testkit;

import java.util.ArrayDeque;
import java.util.NoSuchElementException;
import org.jspecify.annotations.Nullable;

/**
 * A FIFO queue whose items become due at a release time, used by {@link FaultProxy} to delay bytes without ever
 * reordering them: an item's release time is {@code max(release time of the previous item, now + delay)}, so with
 * jittered delays a later item never overtakes an earlier one, just as a TCP stream never reorders.
 *
 * <p>Times are {@link System#nanoTime()}-style values and are only compared by difference, so they may wrap. Not
 * thread-safe: {@link FaultProxy} confines each queue to one event loop.
 *
 * @param <T> the item type
 */
final class ReleaseQueue<T> {

    private static final class Entry<T> {
        final T item;
        long releaseAt;

        Entry(T item, long releaseAt) {
            this.item = item;
            this.releaseAt = releaseAt;
        }
    }

    private final ArrayDeque<Entry<T>> entries = new ArrayDeque<>();
    private boolean hasLast;
    private long lastReleaseAt;

    /**
     * Appends {@code item}, due at {@code max(previous release time, now + delayNanos)}.
     *
     * @return the item's release time
     */
    long offer(T item, long now, long delayNanos) {
        if (delayNanos < 0) {
            throw new IllegalArgumentException("delay must not be negative but was " + delayNanos + " ns");
        }
        long at = now + delayNanos;
        if (hasLast && lastReleaseAt - at > 0) {
            at = lastReleaseAt;
        }
        hasLast = true;
        lastReleaseAt = at;
        entries.addLast(new Entry<>(item, at));
        return at;
    }

    /** The head item if it is due at {@code now} (removed), else {@code null}. */
    @Nullable T pollDue(long now) {
        Entry<T> head = entries.peekFirst();
        if (head == null || head.releaseAt - now > 0) {
            return null;
        }
        entries.removeFirst();
        return head.item;
    }

    /** The head item whether due or not (removed), or {@code null} when empty. */
    T poll() {
        Entry<T> head = entries.pollFirst();
        return head == null ? null : head.item;
    }

    /**
     * The release time of the head item.
     *
     * @throws NoSuchElementException when empty
     */
    long nextReleaseAt() {
        Entry<T> head = entries.peekFirst();
        if (head == null) {
            throw new NoSuchElementException("empty");
        }
        return head.releaseAt;
    }

    /** Makes every queued item due at {@code now} at the latest (order unchanged); later offers start from now. */
    void releaseAllNow(long now) {
        for (Entry<T> entry : entries) {
            if (entry.releaseAt - now > 0) {
                entry.releaseAt = now;
            }
        }
        if (hasLast && lastReleaseAt - now > 0) {
            lastReleaseAt = now;
        }
    }

    boolean isEmpty() {
        return entries.isEmpty();
    }

    int size() {
        return entries.size();
    }
}
