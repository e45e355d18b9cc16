package dev.redlock.chaos;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Checks a history; a pure function of its events (so a history written to disk gives the same verdict offline).
 *
 * <ol>
 *   <li>Validity windows per key: {@code [t_ok, min(t_release_invoke, deadline))}, where deadline is the latest
 *       deadline the holder believed in (its last observation: at the grant, at each write, at each extend, at the
 *       release; a shortening extend brings it down). Sorted by start with the largest
 *       end so far: a violation iff a start lies before that end. {@code info} and failed acquires open no window. A
 *       grant whose deadline is not after {@code t_ok} is an invalid grant. With fencing, each grant's token must
 *       exceed every earlier grant's token of that key.</li>
 *   <li>The guarded resource, replayed in time order: the unguarded set (every completed operation must be in the
 *       final set, else a lost update), late writes (after the writer's deadline), stale writes (a lower oracle fence
 *       after a higher one), and the CAS register on the lease token (a rejected write is a CAS conflict; an accepted
 *       one after another lease entered is {@code stale_accepted}).</li>
 *   <li>Permits per semaphore (operations whose events carry {@code limit} = P and {@code permits} = n): the same
 *       validity windows, each weighted by its n; swept in time order (a window ending at the instant another
 *       starts does not overlap it), the sum of the windows open at any instant must not exceed P. Each grant that
 *       brings the sum above P is one {@code permits_exceeded}, its example naming the windows open then. Invalid
 *       grants are checked as for a lock; a semaphore's windows are not checked for overlap one by one (P of them
 *       may overlap) and its operations have no guarded-resource writes.</li>
 *   <li>Locks with modes (operations whose acquire's invoke carries {@code holds}: the resource nodes the lease
 *       holds and the mode on each, see {@link #holds}): the same validity windows; two overlapping windows that hold
 *       one node in incompatible modes (the standard matrix, {@link #compatible}, written out here and not taken from
 *       the code under test) are one {@code mode_conflict}, counted once per later window as for a lock. Shared
 *       windows may overlap. Invalid grants are checked as for a lock; their critical sections are the lock's on the
 *       operation's key (a shared mode's section enters and writes nothing).</li>
 *   <li>Order and liveness of a fair lock (operations whose acquire's invoke carries a {@code priority}). A fault
 *       disturbs from its start until its planned heal, and at each of its later steps (a restart, a client's
 *       replacement). <b>Overtakes</b>: a grant to waiter B while an earlier waiter A (invoked more than
 *       {@link #ORDER_MARGIN_NANOS} before B, of B's priority or higher) still waited. Order is advisory under faults
 *       (the nodes' queues may differ), so a grant that overtakes someone is an {@code overtake} violation only when
 *       no fault disturbed between A's invoke and B's grant, nor in the heartbeat timeout plus the lease time before
 *       (a waiter's entry missed or pruned on a node is back by then, a restarted node counts again); and overtakes
 *       in any time, faults included, above {@link #OVERTAKE_SHARE} of the grants (at least 3) are one
 *       {@code overtake_share}. <b>Stalls</b>: no validity window open on the key while some acquire of it is
 *       pending, for longer than the liveness bound (heartbeat timeout and a third of it, for the next attempt, plus
 *       the lease time plus {@link #STALL_SLACK_NANOS}) with no fault disturbing, is a {@code stall}.</li>
 *   <li>Liveness of locks with modes: per read-write lock, or tree of hierarchical locks (the first node its
 *       operations hold), the stalls of a fair lock: nothing of it held while some acquire of it is pending, for
 *       longer than {@link #MODE_STALL_BOUND_NANOS} with no fault disturbing, is a {@code stall}.</li>
 *   <li>Hygiene results recorded in the history ({@code hygiene} events with a count).</li>
 * </ol>
 */
final class Checker {

    private static final int MAX_EXAMPLES = 30;
    /** An earlier waiter must have been invoked this much before a later one to count as overtaken. */
    static final long ORDER_MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /** Added to a fair lock's liveness bound: the hand-over, a loaded machine. */
    static final long STALL_SLACK_NANOS = TimeUnit.SECONDS.toNanos(1);
    /**
     * The liveness bound of a lock with modes (check 6). A waiter tries again at least every second (a third of a
     * claim's life of 3 s) and on each release notification, and each attempt renews its own claims, so a free lock
     * with waiters grants within about a second outside faults (the gate's runs on a loaded 2-core machine: at most
     * 0.05-0.31 s undisturbed in the read-write run, 0.93-1.19 s in the hierarchy run, where a waiter refused by a
     * claim its owner then took back waits out its pause); a claim left behind by a waiter that does not try (the
     * bug of a shared local line) holds the others back until it lapses, 3 s after its last attempt (2.7-3.0 s free
     * in the mutant). 2 s lies between: the retry pause plus a second for a loaded machine, a second under the claim's
     * life.
     */
    static final long MODE_STALL_BOUND_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** The share of a fair lock's grants that may overtake an earlier waiter when faults are counted too. */
    static final double OVERTAKE_SHARE = 0.05;
    private static final int MAX_EXAMPLE_LENGTH = 4000;

    /** The modes of locks with modes, in the order of {@link #COMPATIBLE}'s rows and columns. */
    private static final List<String> MODES = List.of("IS", "IX", "S", "SIX", "X");

    /**
     * The standard compatibility matrix of the lock modes (Gray et al.), written out here rather than taken from the
     * code under test: row and column in {@link #MODES}' order, {@code 1} where two holders may hold one resource
     * node at the same time.
     */
    private static final String[] COMPATIBLE = {
        // IS IX S SIX X
        "11110", // IS
        "11000", // IX
        "10100", // S
        "10000", // SIX
        "00000", // X
    };

    private Checker() {}

    /** The outcome of a check. */
    static final class Verdict {
        final EnumMap<Violation, Long> counts = new EnumMap<>(Violation.class);
        final List<String> examples = new ArrayList<>();
        long completedCs;
        long lost;
        /** Leases ended by their client's {@code close()} (reason CLIENT_CLOSED), not counted as lost. */
        long closed;
        long acquireOk;
        long acquireFail;
        long acquireInfo;
        long faults;
        /** Faults that could not be applied or healed, and other harness errors (see the history). */
        long harnessErrors;
        long[] acquireLatencies = new long[0];
        /** Semaphore grants (acquires ok with a {@code limit}) and the most permits of one semaphore held at once. */
        long permitGrants;
        long permitPeak;
        /** Lost leases: the latest loss signal (end of the section) after the deadline the holder believed in. */
        long maxLossLatenessNanos;
        /** Fair locks: grants, and those that overtook an earlier waiter (in any time; undisturbed ones are violations). */
        long fairGrants;
        long overtakes;
        /**
         * Fair locks and locks with modes: the longest time without a holder while someone waited (in any time), and
         * the longest such time left undisturbed by faults (above the bound it is a stall).
         */
        long maxIdleNanos;
        long maxQuietIdleNanos;
        /** Locks with modes: grants by mode and key, e.g. {@code "X t/a" -> 12}. */
        final Map<String, Long> modeGrants = new TreeMap<>();
        /** Locks with modes: the most validity windows open at once on one resource node. */
        long modePeak;

        /** Grants of locks with modes in {@code mode} on any of {@code keys}. */
        long modeGrants(String mode, String... keys) {
            long sum = 0;
            for (String key : keys) {
                sum += modeGrants.getOrDefault(mode + " " + key, 0L);
            }
            return sum;
        }

        long count(Violation v) {
            return counts.getOrDefault(v, 0L);
        }

        long total() {
            long sum = 0;
            for (long c : counts.values()) {
                sum += c;
            }
            return sum;
        }

        /** The kinds that were found, e.g. {@code window_overlap=2 late_write=1}, or {@code none}. */
        String breakdown() {
            StringBuilder b = new StringBuilder();
            counts.forEach((k, v) -> {
                if (v > 0) {
                    b.append(b.length() == 0 ? "" : " ").append(k.label()).append('=').append(v);
                }
            });
            return b.length() == 0 ? "none" : b.toString();
        }

        void add(Violation v, long n, String example) {
            if (n <= 0) {
                return;
            }
            counts.merge(v, n, Long::sum);
            if (example != null && examples.size() < MAX_EXAMPLES) {
                String text = v.label() + ": " + example;
                examples.add(text.length() > MAX_EXAMPLE_LENGTH ? text.substring(0, MAX_EXAMPLE_LENGTH) + "..." : text);
            }
        }
    }

    /** Everything recorded about one operation id. */
    private static final class OpRec {
        final long op;
        String key;
        Integer client;
        Event acqInvoke;
        Event acqDone;
        Event relInvoke;
        Event relDone;
        final List<Event> writes = new ArrayList<>();
        final List<Event> extensions = new ArrayList<>();
        boolean acceptedWrite;

        OpRec(long op) {
            this.op = op;
        }

        /**
         * The deadline the holder believed in last: that of its latest observation of the lease (the grant, each
         * write's check, each extend's send and outcome, the release). The latest, not the largest: a renewal to a
         * shorter lease time brings the deadline down, and the holder's later observations say so.
         */
        long believedDeadline() {
            Event latest = acqDone;
            long d = acqDone.deadline == null ? acqDone.t : acqDone.deadline;
            for (Event w : writes) {
                if (!Event.INVOKE.equals(w.type) && w.deadline != null && History.ORDER.compare(w, latest) > 0) {
                    latest = w;
                    d = w.deadline;
                }
            }
            for (Event x : extensions) {
                if (x.deadline != null && History.ORDER.compare(x, latest) > 0) {
                    latest = x;
                    d = x.deadline;
                }
            }
            if (relInvoke != null && relInvoke.deadline != null && History.ORDER.compare(relInvoke, latest) > 0) {
                d = relInvoke.deadline;
            }
            return d;
        }

        String who() {
            return "op " + op + " (client " + client + ")";
        }
    }

    static Verdict check(List<Event> input) {
        List<Event> events = new ArrayList<>();
        for (Event e : input) {
            if (!Event.META.equals(e.type) && !Event.SCHEDULE.equals(e.type)) {
                events.add(e);
            }
        }
        events.sort(History.ORDER);
        long origin = events.isEmpty() ? 0 : events.get(0).t;
        Verdict v = new Verdict();
        Map<Long, OpRec> ops = new TreeMap<>();
        List<Long> latencies = new ArrayList<>();

        for (Event e : events) {
            if (Event.NEMESIS.equals(e.type)) {
                if ("start".equals(e.f)) {
                    v.faults++;
                } else if ("error".equals(e.f)) {
                    v.harnessErrors++;
                }
                continue;
            }
            if (Event.HYGIENE.equals(e.type)) {
                long n = e.count == null ? 0 : e.count;
                v.add(Violation.fromLabel(e.f), n, n + " (" + e.value + ")");
                continue;
            }
            if (!e.isOp() || e.op == null) {
                continue;
            }
            if (e.value != null && e.value.contains("BlockingOperationError")) {
                v.add(Violation.BLOCKING_CALL, 1, "op " + e.op + " (" + e.f + "): " + e.value);
            }
            OpRec r = ops.computeIfAbsent(e.op, OpRec::new);
            if (e.key != null) {
                r.key = e.key;
            }
            if (e.client != null) {
                r.client = e.client;
            }
            boolean invoke = Event.INVOKE.equals(e.type);
            switch (e.f) {
                case Event.ACQUIRE:
                    if (invoke) {
                        if (r.acqInvoke != null) {
                            v.add(Violation.MALFORMED, 1, "acquire of op " + e.op + " invoked twice");
                        }
                        r.acqInvoke = e;
                    } else {
                        if (r.acqInvoke == null || r.acqDone != null) {
                            v.add(Violation.MALFORMED, 1, "acquire of op " + e.op + " completed without one invoke");
                        }
                        r.acqDone = e;
                        if (Event.OK.equals(e.type)) {
                            v.acquireOk++;
                            if (r.acqInvoke != null) {
                                latencies.add(e.t - r.acqInvoke.t);
                            }
                        } else if (Event.FAIL.equals(e.type)) {
                            v.acquireFail++;
                        } else {
                            v.acquireInfo++;
                        }
                    }
                    break;
                case Event.WRITE:
                    if (r.acqDone == null || !Event.OK.equals(r.acqDone.type)) {
                        v.add(Violation.MALFORMED, 1, "write of op " + e.op + " without a granted lease");
                    }
                    Event last = r.writes.isEmpty() ? null : r.writes.get(r.writes.size() - 1);
                    boolean lastWasInvoke = last != null && Event.INVOKE.equals(last.type);
                    if (invoke == lastWasInvoke) {
                        v.add(Violation.MALFORMED, 1, "write of op " + e.op + (invoke ? " invoked before the "
                                + "previous one completed" : " completed without an invoke"));
                    }
                    r.writes.add(e);
                    if (Event.OK.equals(e.type) && Boolean.TRUE.equals(e.accepted)) {
                        r.acceptedWrite = true;
                    }
                    break;
                case Event.EXTEND: {
                    if (r.acqDone == null || !Event.OK.equals(r.acqDone.type)) {
                        v.add(Violation.MALFORMED, 1, "extend of op " + e.op + " without a granted lease");
                    }
                    Event previous = r.extensions.isEmpty() ? null : r.extensions.get(r.extensions.size() - 1);
                    boolean previousWasInvoke = previous != null && Event.INVOKE.equals(previous.type);
                    if (invoke == previousWasInvoke) {
                        v.add(Violation.MALFORMED, 1, "extend of op " + e.op + (invoke ? " invoked before the "
                                + "previous one completed" : " completed without an invoke"));
                    }
                    r.extensions.add(e);
                    break;
                }
                case Event.RELEASE:
                    if (invoke) {
                        if (r.relInvoke != null || r.acqDone == null || !Event.OK.equals(r.acqDone.type)) {
                            v.add(Violation.MALFORMED, 1, "release of op " + e.op + " invoked without one granted lease");
                        }
                        r.relInvoke = e;
                    } else {
                        if (r.relInvoke == null || r.relDone != null) {
                            v.add(Violation.MALFORMED, 1, "release of op " + e.op + " completed without one invoke");
                        }
                        r.relDone = e;
                        if (closedByClient(e)) {
                            v.closed++;
                        } else if (lostLease(e)) {
                            v.lost++;
                        }
                    }
                    break;
                default:
                    break;
            }
        }

        for (OpRec r : ops.values()) {
            if (r.acqInvoke != null && r.acqDone == null) {
                v.add(Violation.MALFORMED, 1, "acquire of op " + r.op + " never completed");
            }
            if (r.relInvoke != null && r.relDone == null) {
                v.add(Violation.MALFORMED, 1, "release of op " + r.op + " never completed");
            }
            if (!r.writes.isEmpty() && Event.INVOKE.equals(r.writes.get(r.writes.size() - 1).type)) {
                v.add(Violation.MALFORMED, 1, "a write of op " + r.op + " never completed");
            }
            if (!r.extensions.isEmpty() && Event.INVOKE.equals(r.extensions.get(r.extensions.size() - 1).type)) {
                v.add(Violation.MALFORMED, 1, "an extend of op " + r.op + " never completed");
            }
            if (r.acceptedWrite && r.relDone != null && Event.OK.equals(r.relDone.type)) {
                v.completedCs++;
            }
            if (r.relDone != null && r.relInvoke != null && r.acqDone != null && lostLease(r.relDone)) {
                v.maxLossLatenessNanos = Math.max(v.maxLossLatenessNanos, r.relInvoke.t - r.believedDeadline());
            }
        }
        v.acquireLatencies = latencies.stream().mapToLong(Long::longValue).toArray();

        checkWindows(ops, v, origin);
        checkPermits(ops, v, origin);
        checkModes(ops, v, origin);
        checkStore(events, ops, v, origin);
        checkFair(events, ops, v, origin);
        checkModeStalls(events, ops, v, origin);
        return v;
    }

    /** A release that ended with the lease lost (not ended by its client's close). */
    private static boolean lostLease(Event release) {
        return Event.FAIL.equals(release.type) && release.value != null && release.value.startsWith("LeaseLost")
                && !closedByClient(release);
    }

    private static boolean closedByClient(Event release) {
        return Event.FAIL.equals(release.type) && release.value != null
                && release.value.startsWith("LeaseLostException CLIENT_CLOSED");
    }

    /** Check 1: overlapping validity windows, invalid grants, fencing regressions. */
    private static void checkWindows(Map<Long, OpRec> ops, Verdict v, long origin) {
        Map<String, List<OpRec>> byKey = new TreeMap<>();
        for (OpRec r : ops.values()) {
            if (r.acqDone != null && Event.OK.equals(r.acqDone.type) && !semaphore(r) && !modal(r)) {
                byKey.computeIfAbsent(r.key, k -> new ArrayList<>()).add(r);
            }
        }
        for (Map.Entry<String, List<OpRec>> entry : byKey.entrySet()) {
            List<OpRec> grants = entry.getValue();
            grants.sort(Comparator.comparingLong((OpRec r) -> r.acqDone.t).thenComparingLong(r -> r.acqDone.seq));
            long maxEnd = Long.MIN_VALUE;
            OpRec maxEndOp = null;
            long maxFence = Long.MIN_VALUE;
            OpRec maxFenceOp = null;
            for (OpRec r : grants) {
                long start = r.acqDone.t;
                checkGrant(r, "key " + entry.getKey(), v, origin);
                if (r.acqDone.fence != null) {
                    if (maxFenceOp != null && r.acqDone.fence <= maxFence) {
                        v.add(Violation.FENCE_REGRESSION, 1, "key " + entry.getKey() + ": " + r.who()
                                + " granted at " + ms(start - origin) + " with fencing token " + r.acqDone.fence
                                + " after " + maxFenceOp.who() + " had " + maxFence);
                    }
                    if (r.acqDone.fence > maxFence) {
                        maxFence = r.acqDone.fence;
                        maxFenceOp = r;
                    }
                }
                long end = windowEnd(r);
                if (end - start <= 0) {
                    continue; // an empty window overlaps nothing
                }
                if (maxEndOp != null && start - maxEnd < 0) {
                    v.add(Violation.WINDOW_OVERLAP, 1, "key " + entry.getKey() + ": " + r.who() + " window ["
                            + ms(start - origin) + ", " + ms(end - origin) + ") starts " + ms(maxEnd - start)
                            + " before the end of " + maxEndOp.who() + " window [" + ms(maxEndOp.acqDone.t - origin)
                            + ", " + ms(maxEnd - origin) + ")");
                }
                if (maxEndOp == null || end - maxEnd > 0) {
                    maxEnd = end;
                    maxEndOp = r;
                }
            }
        }
    }

    private static boolean semaphore(OpRec r) {
        return r.acqDone.limit != null || (r.acqInvoke != null && r.acqInvoke.limit != null);
    }

    /** An operation on a lock with modes: its acquire's invoke says what it holds. */
    private static boolean modal(OpRec r) {
        return r.acqInvoke != null && r.acqInvoke.holds != null;
    }

    /** A grant whose deadline is not after its start is an invalid grant ({@code what}: "key k", "semaphore s"). */
    private static void checkGrant(OpRec r, String what, Verdict v, long origin) {
        Event ok = r.acqDone;
        if (ok.deadline != null && ok.deadline - ok.t <= 0) {
            v.add(Violation.INVALID_GRANT, 1, what + ": " + r.who() + " granted at " + ms(ok.t - origin)
                    + " with deadline " + ms(ok.deadline - origin));
        }
    }

    /** Whether holders in modes {@code a} and {@code b} may hold one resource node at once (both known modes). */
    static boolean compatible(String a, String b) {
        return COMPATIBLE[MODES.indexOf(a)].charAt(MODES.indexOf(b)) == '1';
    }

    /** What a read-write lock's lease holds: {@code mode} (S or X) on the lock's one resource node. */
    static String holds(String name, String mode) {
        return "rw:" + name + "=" + mode;
    }

    /**
     * What a hierarchical lock's lease on {@code path} (segments separated by {@code /}) in {@code mode} holds: the
     * mode on the path's own node, and its intention on every ancestor (IS for S, IX for SIX and X), from the root.
     */
    static String pathHolds(String path, String mode) {
        String intention = "S".equals(mode) || "IS".equals(mode) ? "IS" : "IX";
        StringBuilder b = new StringBuilder();
        for (int slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1)) {
            b.append("tree:").append(path, 0, slash).append('=').append(intention).append(' ');
        }
        return b.append("tree:").append(path).append('=').append(mode).toString();
    }

    /** One window of a lock with modes on one resource node, until {@code end}. */
    private record Held(OpRec op, String mode, long end) {}

    /**
     * Check 4: the windows of locks with modes, in grant order; per resource node, the windows still open when a new
     * one starts (windows are half-open: one that ended at that instant is not) must all be compatible with it there.
     * Counted once per later window, its example naming the first conflict.
     */
    private static void checkModes(Map<Long, OpRec> ops, Verdict v, long origin) {
        List<OpRec> grants = new ArrayList<>();
        for (OpRec r : ops.values()) {
            if (r.acqDone != null && Event.OK.equals(r.acqDone.type) && modal(r)) {
                grants.add(r);
            }
        }
        grants.sort(Comparator.comparingLong((OpRec r) -> r.acqDone.t - origin).thenComparingLong(r -> r.acqDone.seq));
        Map<String, List<Held>> open = new HashMap<>();
        for (OpRec r : grants) {
            long start = r.acqDone.t;
            checkGrant(r, "key " + r.key, v, origin);
            String[] holds = r.acqInvoke.holds.trim().split(" +");
            v.modeGrants.merge(modeOf(holds[holds.length - 1]) + " " + r.key, 1L, Long::sum);
            long end = windowEnd(r);
            if (end - start <= 0) {
                continue; // an empty window overlaps nothing
            }
            String conflict = null;
            for (String h : holds) {
                int eq = h.lastIndexOf('=');
                String node = eq < 0 ? "" : h.substring(0, eq);
                String mode = modeOf(h);
                if (node.isEmpty() || !MODES.contains(mode)) {
                    v.add(Violation.MALFORMED, 1, r.who() + " holds '" + h + "': not node=mode with a known mode");
                    continue;
                }
                List<Held> here = open.computeIfAbsent(node, k -> new ArrayList<>());
                here.removeIf(x -> x.end() - start <= 0);
                for (Held x : here) {
                    if (conflict == null && !compatible(x.mode(), mode)) {
                        conflict = x.op().who() + " window [" + ms(x.op().acqDone.t - origin) + ", "
                                + ms(x.end() - origin) + ") holding " + node + " in " + x.mode();
                    }
                }
                here.add(new Held(r, mode, end));
                v.modePeak = Math.max(v.modePeak, here.size());
            }
            if (conflict != null) {
                v.add(Violation.MODE_CONFLICT, 1, "key " + r.key + ": " + r.who() + " window [" + ms(start - origin)
                        + ", " + ms(end - origin) + ") holding " + r.acqInvoke.holds + " overlaps " + conflict);
            }
        }
    }

    /** The mode of one {@code node=MODE} entry. */
    private static String modeOf(String held) {
        return held.substring(held.lastIndexOf('=') + 1);
    }

    /**
     * Check 3: per semaphore, the validity windows (as for a lock) weighted by their permits never sum to more than
     * P at any instant. Sweep over the window boundaries in time order, ends before starts at the same instant
     * (windows are half-open).
     */
    private static void checkPermits(Map<Long, OpRec> ops, Verdict v, long origin) {
        Map<String, List<OpRec>> byName = new TreeMap<>();
        for (OpRec r : ops.values()) {
            if (r.acqDone != null && Event.OK.equals(r.acqDone.type) && semaphore(r)) {
                byName.computeIfAbsent(r.key, k -> new ArrayList<>()).add(r);
                v.permitGrants++;
            }
        }
        for (Map.Entry<String, List<OpRec>> entry : byName.entrySet()) {
            String name = entry.getKey();
            int limit = Integer.MAX_VALUE;
            // boundaries: {time, +1 start / -1 end, seq (tie-break), op}
            List<long[]> bounds = new ArrayList<>();
            Map<Long, long[]> windows = new HashMap<>();
            for (OpRec r : entry.getValue()) {
                Event ok = r.acqDone;
                Integer p = ok.limit != null ? ok.limit : r.acqInvoke.limit;
                Integer n = ok.permits != null ? ok.permits : r.acqInvoke.permits;
                if (p == null || n == null || n < 1 || n > p) {
                    v.add(Violation.MALFORMED, 1, "semaphore " + name + ": " + r.who() + " granted " + n
                            + " permits of " + p);
                    continue;
                }
                limit = Math.min(limit, p);
                long start = ok.t;
                checkGrant(r, "semaphore " + name, v, origin);
                long end = windowEnd(r);
                if (end - start <= 0) {
                    continue; // an empty window overlaps nothing
                }
                windows.put(r.op, new long[] {start, end, n});
                bounds.add(new long[] {start, 1, ok.seq, r.op});
                bounds.add(new long[] {end, -1, 0, r.op});
            }
            bounds.sort((a, b) -> {
                int c = Long.compare(a[0] - b[0], 0); // nanoTime: compare by difference
                if (c != 0) {
                    return c;
                }
                c = Long.compare(a[1], b[1]); // ends (-1) before starts (+1)
                return c != 0 ? c : Long.compare(a[2], b[2]);
            });
            Map<Long, OpRec> open = new TreeMap<>();
            long held = 0;
            for (long[] b : bounds) {
                long op = b[3];
                long n = windows.get(op)[2];
                if (b[1] < 0) {
                    open.remove(op);
                    held -= n;
                    continue;
                }
                open.put(op, ops.get(op));
                held += n;
                v.permitPeak = Math.max(v.permitPeak, held);
                if (held > limit) {
                    StringBuilder holders = new StringBuilder();
                    for (OpRec o : open.values()) {
                        long[] w = windows.get(o.op);
                        holders.append(holders.length() == 0 ? "" : ", ").append(o.who()).append(" ").append(w[2])
                                .append(" permit").append(w[2] == 1 ? "" : "s").append(" [")
                                .append(ms(w[0] - origin)).append(", ").append(ms(w[1] - origin)).append(')');
                    }
                    v.add(Violation.PERMITS_EXCEEDED, 1, "semaphore " + name + " (P = " + limit + "): "
                            + held + " permits held at " + ms(b[0] - origin) + " when " + ops.get(op).who()
                            + " was granted " + n + ": " + holders);
                }
            }
        }
    }

    private static boolean fair(OpRec r) {
        return r.acqInvoke != null && r.acqInvoke.priority != null;
    }

    /** The end of a granted operation's validity window (as {@link #checkWindows} has it). */
    private static long windowEnd(OpRec r) {
        long deadline = r.believedDeadline();
        return r.relInvoke == null ? deadline : Math.min(r.relInvoke.t, deadline);
    }

    /**
     * Check 5: per fair lock, overtakes and stalls in time no fault disturbed. Disturbed: from each fault's start
     * until its planned heal ({@code until}) plus the key's longest heartbeat timeout and lease time.
     */
    private static void checkFair(List<Event> events, Map<Long, OpRec> ops, Verdict v, long origin) {
        Map<String, List<OpRec>> byKey = new TreeMap<>();
        for (OpRec r : ops.values()) {
            if (fair(r)) {
                byKey.computeIfAbsent(r.key, k -> new ArrayList<>()).add(r);
            }
        }
        for (Map.Entry<String, List<OpRec>> entry : byKey.entrySet()) {
            List<OpRec> waiters = entry.getValue();
            long heartbeat = 0;
            long lease = 0;
            for (OpRec r : waiters) {
                heartbeat = Math.max(heartbeat, TimeUnit.MILLISECONDS.toNanos(r.acqInvoke.heartbeat));
                lease = Math.max(lease, TimeUnit.MILLISECONDS.toNanos(r.acqInvoke.lease));
            }
            checkOrder(entry.getKey(), waiters, new Disturbed(events, heartbeat + lease), v, origin);
            checkStalls("fair lock " + entry.getKey(), waiters, new Disturbed(events, 0),
                    heartbeat + heartbeat / 3 + lease + STALL_SLACK_NANOS, v, origin);
        }
    }

    /**
     * Check 6: per lock with modes (a read-write lock, or a tree of hierarchical locks: the first node its operations
     * hold), the stalls of {@link #checkStalls}: nothing of it held while some acquire of it waits, for longer than
     * {@link #MODE_STALL_BOUND_NANOS} with no fault disturbing (from a fault's start to its planned heal, and at each
     * later step).
     */
    private static void checkModeStalls(List<Event> events, Map<Long, OpRec> ops, Verdict v, long origin) {
        Map<String, List<OpRec>> byLock = new TreeMap<>();
        for (OpRec r : ops.values()) {
            if (modal(r)) {
                String first = r.acqInvoke.holds.trim().split(" +")[0];
                int eq = first.lastIndexOf('=');
                byLock.computeIfAbsent(eq < 0 ? first : first.substring(0, eq), k -> new ArrayList<>()).add(r);
            }
        }
        if (byLock.isEmpty()) {
            return;
        }
        Disturbed disturbed = new Disturbed(events, 0);
        byLock.forEach((lock, waiters) -> checkStalls("lock with modes " + lock, waiters, disturbed,
                MODE_STALL_BOUND_NANOS, v, origin));
    }

    /**
     * The times faults disturbed, each followed by {@code settle}: from a fault's start to its planned heal, and each
     * later step of it (a restart, a replaced client's close), as merged intervals in time order.
     */
    static final class Disturbed {
        private final long[] starts;
        private final long[] ends;

        Disturbed(List<Event> events, long settle) {
            List<long[]> spans = new ArrayList<>();
            for (Event e : events) {
                if (Event.NEMESIS.equals(e.type) && ("start".equals(e.f) || "stop".equals(e.f)
                        || "step".equals(e.f))) {
                    long until = e.until == null ? e.t : e.until;
                    spans.add(new long[] {e.t, until + settle});
                }
            }
            spans.sort((a, b) -> Long.compare(a[0] - b[0], 0));
            List<long[]> merged = new ArrayList<>();
            for (long[] span : spans) {
                long[] last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
                if (last != null && span[0] - last[1] <= 0) {
                    last[1] = span[1] - last[1] > 0 ? span[1] : last[1];
                } else {
                    merged.add(span.clone());
                }
            }
            starts = merged.stream().mapToLong(x -> x[0]).toArray();
            ends = merged.stream().mapToLong(x -> x[1]).toArray();
        }

        /** Whether a fault disturbed some instant of [from, to]. */
        boolean any(long from, long to) {
            for (int i = 0; i < starts.length; i++) {
                if (starts[i] - to <= 0 && ends[i] - from >= 0) {
                    return true;
                }
            }
            return false;
        }

        /** The longest part of [from, to) that no fault disturbed. */
        long longestQuiet(long from, long to) {
            long longest = 0;
            long at = from;
            for (int i = 0; i < starts.length && at - to < 0; i++) {
                if (ends[i] - at <= 0) {
                    continue;
                }
                long gapEnd = starts[i] - to < 0 ? starts[i] : to;
                longest = Math.max(longest, gapEnd - at);
                at = ends[i];
            }
            return at - to < 0 ? Math.max(longest, to - at) : longest;
        }
    }

    /**
     * Overtakes: a grant to B while an earlier waiter A of B's priority or higher, invoked more than the margin
     * before B, had not yet been granted, failed or cancelled. Counted once per overtaking grant; a violation when no
     * fault disturbed between A's invoke and B's grant, and one for the key when too many grants overtook.
     */
    private static void checkOrder(String key, List<OpRec> waiters, Disturbed disturbed, Verdict v, long origin) {
        List<OpRec> byInvoke = new ArrayList<>(waiters);
        byInvoke.sort(Comparator.comparingLong((OpRec r) -> r.acqInvoke.t - origin));
        long grants = 0;
        long overtakes = 0;
        String first = null;
        for (OpRec b : waiters) {
            if (b.acqDone == null || !Event.OK.equals(b.acqDone.type)) {
                continue;
            }
            grants++;
            long granted = b.acqDone.t;
            OpRec overtaken = null;
            boolean quiet = false;
            for (OpRec a : byInvoke) {
                if (b.acqInvoke.t - a.acqInvoke.t <= ORDER_MARGIN_NANOS) {
                    break;
                }
                boolean waiting = a.acqDone == null || a.acqDone.t - granted > 0;
                if (!waiting || a.acqInvoke.priority < b.acqInvoke.priority) {
                    continue;
                }
                quiet = !disturbed.any(a.acqInvoke.t, granted);
                if (overtaken == null || quiet) {
                    overtaken = a;
                }
                if (quiet) {
                    break;
                }
            }
            if (overtaken == null) {
                continue;
            }
            overtakes++;
            OpRec a = overtaken;
            String what = "fair lock " + key + ": " + b.who() + " (priority " + b.acqInvoke.priority + ", invoked at "
                    + ms(b.acqInvoke.t - origin) + ") granted at " + ms(granted - origin) + " while " + a.who()
                    + " (priority " + a.acqInvoke.priority + ", invoked at " + ms(a.acqInvoke.t - origin)
                    + ") still waited" + (a.acqDone == null ? "" : " (until its " + a.acqDone.type + " at "
                            + ms(a.acqDone.t - origin) + ")");
            first = first == null ? what : first;
            if (quiet) {
                v.add(Violation.OVERTAKE, 1, what + ", no fault in between");
            }
        }
        v.fairGrants += grants;
        v.overtakes += overtakes;
        if (overtakes > Math.max(2, OVERTAKE_SHARE * grants)) {
            v.add(Violation.OVERTAKE_SHARE, 1, "fair lock " + key + ": " + overtakes + " of " + grants
                    + " grants overtook an earlier waiter, faults included (at most " + Math.round(OVERTAKE_SHARE * 100)
                    + " %); the first: " + first);
        }
    }

    /**
     * Stalls: sweeps the validity windows and the pending acquires of the key; each time with no window open and
     * some acquire pending is idle; its longest undisturbed part must not exceed {@code bound}.
     */
    private static void checkStalls(String what, List<OpRec> waiters, Disturbed disturbed, long bound, Verdict v,
            long origin) {
        // {time, delta of open windows, delta of pending acquires}
        List<long[]> changes = new ArrayList<>();
        for (OpRec r : waiters) {
            long done = r.acqDone == null ? Long.MAX_VALUE : r.acqDone.t;
            changes.add(new long[] {r.acqInvoke.t, 0, 1});
            if (r.acqDone != null) {
                changes.add(new long[] {done, 0, -1});
                if (Event.OK.equals(r.acqDone.type)) {
                    long end = windowEnd(r);
                    if (end - done > 0) {
                        changes.add(new long[] {done, 1, 0});
                        changes.add(new long[] {end, -1, 0});
                    }
                }
            }
        }
        // at one instant: window starts before ends, so a hand-over at the same instant is not idle
        changes.sort((a, b) -> {
            int c = Long.compare(a[0] - b[0], 0);
            return c != 0 ? c : Long.compare(b[1], a[1]);
        });
        long open = 0;
        long pending = 0;
        long idleSince = 0;
        boolean idle = false;
        for (long[] c : changes) {
            open += c[1];
            pending += c[2];
            boolean now = open == 0 && pending > 0;
            if (now && !idle) {
                idleSince = c[0];
            } else if (!now && idle) {
                idleEnded(what, idleSince, c[0], disturbed, bound, v, origin);
            }
            idle = now;
        }
    }

    private static void idleEnded(String what, long from, long to, Disturbed disturbed, long bound, Verdict v,
            long origin) {
        v.maxIdleNanos = Math.max(v.maxIdleNanos, to - from);
        long quiet = disturbed.longestQuiet(from, to);
        v.maxQuietIdleNanos = Math.max(v.maxQuietIdleNanos, quiet);
        if (quiet > bound) {
            v.add(Violation.STALL, 1, what + ": nobody held it from " + ms(from - origin) + " to "
                    + ms(to - origin) + " while acquires waited, " + ms(quiet) + " of it with no fault (bound "
                    + ms(bound) + ")");
        }
    }

    /** Per-key state of the replayed guarded resource. */
    private static final class KeyState {
        String owner;
        long entries;
        long maxOracle = Long.MIN_VALUE;
        long head = -1;
        final Map<Long, Long> parent = new HashMap<>();
        final Map<Long, Long> element = new HashMap<>();
    }

    /** Check 2: the guarded resource, replayed in time order. */
    private static void checkStore(List<Event> events, Map<Long, OpRec> ops, Verdict v, long origin) {
        Map<String, KeyState> keys = new TreeMap<>();
        Map<Long, Long> entryOf = new HashMap<>();
        for (Event e : events) {
            if (!e.isOp() || e.key == null || e.limit != null) {
                continue; // a semaphore's operations have no writes
            }
            KeyState k = keys.computeIfAbsent(e.key, x -> new KeyState());
            if (e.is(Event.OK, Event.ACQUIRE)) {
                k.owner = e.tok;
                k.entries++;
                entryOf.put(e.op, k.entries);
                continue;
            }
            if (!Event.WRITE.equals(e.f) || Event.INVOKE.equals(e.type) || e.nv == null) {
                continue; // only attempts that reached the resource
            }
            String who = "op " + e.op + " (client " + e.client + ") at " + ms(e.t - origin) + " on key " + e.key;
            if (e.deadline != null && e.t - e.deadline > 0) {
                v.add(Violation.LATE_WRITE, 1, who + ", " + ms(e.t - e.deadline) + " after its deadline");
            }
            if (e.oracle != null) {
                if (k.maxOracle != Long.MIN_VALUE && e.oracle < k.maxOracle) {
                    v.add(Violation.STALE_WRITE, 1, who + " with oracle fence " + e.oracle + " after fence "
                            + k.maxOracle + " wrote");
                }
                k.maxOracle = Math.max(k.maxOracle, e.oracle);
            }
            boolean accept = e.tok != null && e.tok.equals(k.owner);
            if (e.accepted != null && e.accepted != accept) {
                v.add(Violation.MALFORMED, 1, who + ": the store " + (e.accepted ? "accepted" : "rejected")
                        + " a write the replay " + (accept ? "accepts" : "rejects"));
            }
            if (!accept) {
                v.add(Violation.CAS_CONFLICT, 1, who + " rejected: another lease entered since");
            } else {
                Long mine = entryOf.get(e.op);
                if (mine == null || mine != k.entries) {
                    v.add(Violation.STALE_ACCEPTED, 1, who + " accepted although another lease entered since");
                }
            }
            if (e.rv != null) {
                k.parent.put(e.nv, e.rv);
            }
            k.element.put(e.nv, e.op);
            k.head = Math.max(k.head, e.nv);
        }
        for (Map.Entry<String, KeyState> entry : keys.entrySet()) {
            KeyState k = entry.getValue();
            Set<Long> present = new HashSet<>();
            Long version = k.head;
            while (version != null && version > 0) {
                Long op = k.element.get(version);
                if (op != null) {
                    present.add(op);
                }
                version = k.parent.get(version);
            }
            for (OpRec r : ops.values()) {
                if (entry.getKey().equals(r.key) && r.acceptedWrite && r.relDone != null
                        && Event.OK.equals(r.relDone.type) && !present.contains(r.op)) {
                    v.add(Violation.LOST_UPDATE, 1, "key " + entry.getKey() + ": " + r.who()
                            + " completed but its write is not in the final set");
                }
            }
        }
    }

    static String ms(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.3f ms", nanos / 1e6);
    }
}
