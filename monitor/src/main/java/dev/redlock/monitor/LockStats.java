package dev.redlock.monitor;

import dev.redlock.LeaseLostException;
import dev.redlock.metrics.LockMetricsRecorder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Statistics of a client's locks for the monitoring server's {@code /stats} and dashboard: per group of lock names,
 * the distributions of wait and hold times (over the last {@linkplain #WINDOW window} and since the start),
 * acquisitions per outcome with their rate, leases lost by reason, renewals, semaphore permits held and rate-limiter
 * decisions. Install it on the client as its recorder (combine it with another one through
 * {@link LockMetricsRecorder#composite}), and give the same instance to {@link RedlockMonitor.Builder#stats}:
 *
 * <pre>{@code
 * LockStats stats = LockStats.groupedBy(name -> name.split(":", 2)[0]);
 * ReactiveRedLock client = ReactiveRedLock.builder().nodes(...).metricsRecorder(stats).build();
 * RedlockMonitor.builder(client).stats(stats).build().start()...
 * }</pre>
 *
 * <p>Groups keep the statistics bounded whatever the lock names: names map to a group through the function given to
 * {@link #groupedBy} ({@link #create()} puts every name in {@value #DEFAULT_GROUP}); at most {@value #MAX_GROUPS}
 * groups are kept, and names of any further group count in {@value #OTHER_GROUP}. A group name is trimmed to
 * {@value #MAX_GROUP_NAME_LENGTH} characters, and characters other than letters, digits, {@code . _ : -} become
 * {@code _}, so that every group can be named in a URL path.
 *
 * <p>Recording is wait-free and never blocks (the client calls it on Netty event loops): counters are
 * {@code LongAdder}s, distributions HdrHistogram {@code Recorder}s. Reading (what the server does, on a thread that
 * may block) swaps the recorders' buffers. Thread-safe.
 *
 * @since 0.1.0
 */
public final class LockStats implements LockMetricsRecorder {

    /** The group of every name when the statistics are not grouped ({@link #create()}). */
    public static final String DEFAULT_GROUP = "all";

    /** The group of names whose group came after {@value #MAX_GROUPS} others, or whose grouping function failed. */
    public static final String OTHER_GROUP = "other";

    /** At most this many groups are kept, {@value #OTHER_GROUP} aside. */
    public static final int MAX_GROUPS = 64;

    /** The longest group name kept; longer ones are cut. */
    public static final int MAX_GROUP_NAME_LENGTH = 128;

    /**
     * The span of the windowed distributions and rates: the last 10 seconds, when the statistics are read at least
     * once a second (the dashboard does); else what was recorded since the read before the last one, at least.
     */
    public static final Duration WINDOW = Duration.ofSeconds(10);

    private static final Duration MAX_RECORDED = Duration.ofDays(1);
    private static final long MAX_RECORDED_MICROS = MAX_RECORDED.toNanos() / 1_000;

    private final Function<String, String> keyToGroup;
    private final LongSupplier nanoClock;
    private final ConcurrentHashMap<String, GroupStats> groups = new ConcurrentHashMap<>();
    // the groups made so far, "other" aside
    private final AtomicInteger groupCount = new AtomicInteger();
    private final long startNanos;

    LockStats(Function<String, String> keyToGroup, LongSupplier nanoClock) {
        this.keyToGroup = keyToGroup;
        this.nanoClock = nanoClock;
        this.startNanos = nanoClock.getAsLong();
    }

    /**
     * Statistics with every lock name in one group, {@value #DEFAULT_GROUP}.
     *
     * @return new, empty statistics
     */
    public static LockStats create() {
        return new LockStats(name -> DEFAULT_GROUP, System::nanoTime);
    }

    /**
     * Statistics grouped by a function of the lock name (a lock's, semaphore's or rate limiter's name as the caller
     * gave it), for example {@code name -> name.split(":", 2)[0]} to group {@code orders:42} under {@code orders}.
     * The function is called on every recorded event, on the client's threads: it must be fast, must not block, and
     * should return few distinct groups (see the class comment for the bound). When it throws or returns
     * {@code null} or a blank string, the name counts in {@value #OTHER_GROUP}.
     *
     * @param keyToGroup maps a lock name to its group
     * @return new, empty statistics
     * @throws IllegalArgumentException for a null function
     */
    public static LockStats groupedBy(Function<String, String> keyToGroup) {
        if (keyToGroup == null) {
            throw new IllegalArgumentException("keyToGroup must not be null");
        }
        return new LockStats(keyToGroup, System::nanoTime);
    }

    // == Recording (LockMetricsRecorder) ==

    /**
     * Counts the outcome in the name's group; the wait of an acquire that got its lease goes into the wait
     * distribution.
     */
    @Override
    public void acquireEnded(String name, AcquireOutcome outcome, Duration waited) {
        GroupStats group = group(name);
        group.outcome(outcome);
        if (outcome == AcquireOutcome.ACQUIRED) {
            group.waited(micros(waited));
        }
    }

    /** Records the hold time in the name's group's hold distribution. */
    @Override
    public void leaseReleased(String name, Duration held, boolean confirmed) {
        group(name).held(micros(held));
    }

    /** Counts the renewal, successful or not, in the name's group. */
    @Override
    public void leaseRenewed(String name, boolean renewed) {
        group(name).renewed(renewed);
    }

    /** Counts the loss by reason in the name's group. */
    @Override
    public void leaseLost(String name, LeaseLostException.Reason reason) {
        group(name).lost(reason);
    }

    /** Adds the change to the permits held in the semaphore's group. */
    @Override
    public void permitsHeld(String semaphore, int delta) {
        group(semaphore).permits(delta);
    }

    /** Counts the decision in the limiter's group. */
    @Override
    public void rateLimitDecided(String limiter, boolean allowed) {
        group(limiter).decided(allowed);
    }

    // == Reading (package-private: the server's) ==

    /** The groups so far, in no particular order. */
    List<String> groupNames() {
        return new ArrayList<>(groups.keySet());
    }

    /** Whether the group exists (has recorded something). Cheap, changes nothing. */
    boolean hasGroup(String group) {
        return groups.containsKey(group);
    }

    /** The group's statistics now; empty for an unknown group. Swaps recorder buffers: call where blocking is fine. */
    Optional<GroupStats.Snapshot> snapshot(String group) {
        GroupStats stats = groups.get(group);
        return stats == null ? Optional.empty() : Optional.of(stats.snapshot(nanoClock.getAsLong()));
    }

    /** Seconds since these statistics were made. */
    double uptimeSeconds() {
        return (nanoClock.getAsLong() - startNanos) / 1e9;
    }

    private GroupStats group(String name) {
        String group = groupOf(name);
        GroupStats stats = groups.get(group);
        if (stats != null) {
            return stats;
        }
        // a slot is taken only by the call that makes the group (inside computeIfAbsent): exact, and the count
        // never moves once the groups are full, however many names come
        stats = groups.computeIfAbsent(group, g -> g.equals(OTHER_GROUP) || takeSlot()
                ? new GroupStats(nanoClock.getAsLong()) : null);
        return stats != null ? stats : groups.computeIfAbsent(OTHER_GROUP, g -> new GroupStats(nanoClock.getAsLong()));
    }

    private boolean takeSlot() {
        for (int n = groupCount.get(); n < MAX_GROUPS; n = groupCount.get()) {
            if (groupCount.compareAndSet(n, n + 1)) {
                return true;
            }
        }
        return false;
    }

    private String groupOf(String name) {
        String group;
        try {
            group = keyToGroup.apply(name);
        } catch (RuntimeException e) {
            // a broken grouping function must not lose the event, nor fail the lock operation that reports it
            return OTHER_GROUP;
        }
        if (group == null || group.isBlank()) {
            return OTHER_GROUP;
        }
        return safeName(group);
    }

    /** The group name as {@code /stats/{group}} accepts it (see the class comment). */
    static String safeName(String group) {
        // the usual case, a short name of safe characters, allocates nothing: this runs on every recorded event
        int length = Math.min(group.length(), MAX_GROUP_NAME_LENGTH);
        boolean onlyDots = true;
        boolean safe = length == group.length();
        for (int i = 0; i < length; i++) {
            char c = group.charAt(i);
            onlyDots &= c == '.';
            safe &= isSafe(c);
        }
        if (safe && !onlyDots) {
            return group;
        }
        StringBuilder name = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            char c = group.charAt(i);
            // "." and ".." would read as path steps in a URL
            name.append(isSafe(c) && !onlyDots ? c : '_');
        }
        return name.toString();
    }

    /** Whether {@code c} may appear in a group name: letters, digits, {@code . _ : -} (ASCII only). */
    static boolean isSafe(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
                || c == ':' || c == '-';
    }

    private static long micros(Duration duration) {
        if (duration.isNegative()) {
            return 0;
        }
        // a day and more counts as a day: keeps the histograms small whatever a broken clock reports
        return duration.compareTo(MAX_RECORDED) >= 0 ? MAX_RECORDED_MICROS
                : duration.getSeconds() * 1_000_000 + duration.getNano() / 1_000;
    }

    @Override
    public String toString() {
        return "LockStats{groups=" + groups.keySet() + '}';
    }
}
