package dev.redlock.internal.lease;

import dev.redlock.LockOptions;
import dev.redlock.internal.event.EventBus;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adaptive lease times ({@link LockOptions#adaptiveLeaseTime()}): per group of lock names, a window of the last
 * {@link #WINDOW} hold times of leases taken with the option, and the lease time an acquire of the group uses:
 * {@code clamp((p95 + 2σ) × 3, base, min(10 × base, maxLeaseTime))}, where base is the acquire's own lease time.
 *
 * <p>Memory is constant per group (two arrays of {@link #WINDOW} longs), and the groups are bounded: once
 * {@link #MAX_GROUPS} groups exist, a lock of a new group acquires with its base lease time and its holds are not
 * kept. Groups are never dropped: group lock names ({@code RedLockBuilder.adaptiveLeaseGroups}) when they are
 * unbounded.
 */
public final class HoldTimes {

    private static final Logger log = LoggerFactory.getLogger(HoldTimes.class);

    /** Hold times kept per group: the last ones, older ones are overwritten. */
    public static final int WINDOW = 128;
    /** Fewer hold times than this say too little: the base lease time is used. */
    public static final int MIN_SAMPLES = 8;
    /** Most groups kept; new groups beyond use their base lease time. */
    public static final int MAX_GROUPS = 10_000;
    /** The adaptive lease time is at most this many times the base lease time. */
    static final int CEILING_FACTOR = 10;

    private final Function<String, String> groups;
    private final long maxLeaseMillis;
    private final EventBus events;
    private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();
    private final AtomicBoolean groupingFailed = new AtomicBoolean();

    public HoldTimes(Function<String, String> groups, Duration maxLeaseTime, EventBus events) {
        this.groups = groups;
        this.maxLeaseMillis = maxLeaseTime.toMillis();
        this.events = events;
    }

    /**
     * The options an acquire of {@code name} uses: {@code options} itself when its lease time is fixed or the figure is
     * the base, else a copy with the group's adaptive lease time. A figure that changed since the group's last
     * acquire is reported (event and metrics).
     */
    public LockOptions adapt(String name, LockOptions options) {
        if (!options.adaptiveLeaseTime()) {
            return options;
        }
        String group = group(name);
        Window window = window(group);
        long base = options.leaseTime().toMillis();
        long lease = window == null ? base : leaseMillis(window.figureMillis, base, maxLeaseMillis);
        if (window != null && window.announced.getAndSet(lease) != lease) {
            events.adaptiveLease(name, group, Duration.ofMillis(lease));
        }
        return lease == base ? options : options.mutate().leaseTime(Duration.ofMillis(lease)).build();
    }

    /** A lease of {@code name} taken with an adaptive lease time was held for {@code heldNanos}. */
    public void record(String name, long heldNanos) {
        Window window = window(group(name));
        if (window != null) {
            window.add(Math.max(0, heldNanos));
        }
    }

    /** How many groups are kept (for tests). */
    public int groups() {
        return windows.size();
    }

    /**
     * The lease time for a group whose window gives {@code figureMillis} (negative: too few hold times yet), for an
     * acquire whose own lease time is {@code baseMillis}: the figure, but at least the base and at most ten times the
     * base and the client's maximum.
     */
    static long leaseMillis(long figureMillis, long baseMillis, long maxMillis) {
        if (figureMillis < 0) {
            return baseMillis;
        }
        long ceiling = Math.min(baseMillis * CEILING_FACTOR, maxMillis);
        return Math.max(baseMillis, Math.min(figureMillis, ceiling));
    }

    /**
     * {@code (p95 + 2σ) × 3} of the first {@code count} hold times of {@code holds} (nanoseconds), in whole
     * milliseconds rounded up; {@code sorted} is scratch space of at least {@code count} longs. The p95 is the
     * nearest rank ({@code ceil(0.95 n)}-th smallest), σ the population standard deviation.
     */
    static long figureMillis(long[] holds, int count, long[] sorted) {
        System.arraycopy(holds, 0, sorted, 0, count);
        Arrays.sort(sorted, 0, count);
        long p95 = sorted[(95 * count + 99) / 100 - 1]; // integer ceil: 0.95 * n in doubles can round above n
        double mean = 0;
        for (int i = 0; i < count; i++) {
            mean += sorted[i];
        }
        mean /= count;
        double squares = 0;
        for (int i = 0; i < count; i++) {
            double d = sorted[i] - mean;
            squares += d * d;
        }
        double sigma = Math.sqrt(squares / count);
        return (long) Math.ceil((p95 + 2 * sigma) * 3 / 1_000_000.0);
    }

    Window window(String group) {
        Window window = windows.get(group);
        if (window != null || windows.size() >= MAX_GROUPS) {
            return window;
        }
        return windows.computeIfAbsent(group, g -> new Window());
    }

    /** The application's group of {@code name}; the name itself when its function fails (logged once). */
    private String group(String name) {
        try {
            String group = groups.apply(name);
            if (group != null) {
                return group;
            }
        } catch (RuntimeException e) {
            if (groupingFailed.compareAndSet(false, true)) {
                log.warn("adaptiveLeaseGroups threw for '{}'; such names are their own group", name, e);
            }
        }
        return name;
    }

    /** The hold times of one group: a ring of {@link #WINDOW}, and the figure they give. */
    static final class Window {
        private final long[] holds = new long[WINDOW];
        private final long[] sorted = new long[WINDOW];
        private int next; // guarded by this
        private int count; // guarded by this
        /** {@code (p95 + 2σ) × 3} in ms, or -1 with fewer than {@link #MIN_SAMPLES} hold times. */
        volatile long figureMillis = -1;
        /** The lease time last reported for this group (0: none yet). */
        final AtomicLong announced = new AtomicLong();

        void add(long heldNanos) {
            synchronized (this) {
                holds[next] = heldNanos;
                next = (next + 1) % WINDOW;
                if (count < WINDOW) {
                    count++;
                }
                figureMillis = count < MIN_SAMPLES ? -1 : HoldTimes.figureMillis(holds, count, sorted);
            }
        }

        synchronized int size() {
            return count;
        }

        int capacity() {
            return holds.length;
        }
    }
}
