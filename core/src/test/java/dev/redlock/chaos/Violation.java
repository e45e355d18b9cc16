package dev.redlock.chaos;

import java.util.Locale;

/** The kinds of violation the {@link Checker} counts; every one must be 0 in a run that respects A1–A5. */
enum Violation {
    /** Two validity windows [t_ok, min(t_release_invoke, deadline)) of one key overlap. */
    WINDOW_OVERLAP,
    /**
     * More than P permits of one semaphore held at once: the validity windows of its grants, each weighted by its
     * permits, sum to more than P at some instant.
     */
    PERMITS_EXCEEDED,
    /**
     * Two validity windows of locks with modes overlap and hold one resource node in incompatible modes (a write
     * beside a read of one read-write lock; X on a path beside anything on a path above or below it, or the same).
     */
    MODE_CONFLICT,
    /** A lease was handed out whose deadline had already passed (validity ≤ 0). */
    INVALID_GRANT,
    /** An engine fencing token was not above every earlier lease's token of the same key. */
    FENCE_REGRESSION,
    /** An operation reported complete is missing from the final unguarded set (read, pause, write). */
    LOST_UPDATE,
    /** A write landed after its writer's deadline. */
    LATE_WRITE,
    /** A write by a lower oracle fence landed after a higher one had written. */
    STALE_WRITE,
    /** The CAS-guarded register rejected a write: another lease had entered since the writer's entry. */
    CAS_CONFLICT,
    /** The CAS-guarded register accepted a write although another lease had entered since (token collision). */
    STALE_ACCEPTED,
    /**
     * A fair lock granted a waiter while an earlier one of the same or a higher priority still waited, with no fault
     * between the earlier one's invoke and the grant.
     */
    OVERTAKE,
    /** More than 5 % of a fair lock's grants (and at least 3) overtook an earlier waiter, faults included. */
    OVERTAKE_SHARE,
    /**
     * A fair lock had no holder while acquires waited, with no fault, for longer than its liveness bound (its
     * heartbeat timeout and a third of it, plus its lease time, plus a slack).
     */
    STALL,
    /** Lock keys left on a node once the lease time had passed after the last fault healed. */
    LEAKED_KEYS,
    /** Lock keys left on a node right after quiescence (before the lease time), with no fault left to excuse them. */
    LEAKED_KEYS_EARLY,
    /**
     * Semaphore slots still held (deadline on the node's clock in the future) on a node right after quiescence,
     * before the lease time, with no lease left to hold them.
     */
    LEAKED_SLOTS_EARLY,
    /** Watchdogs still running in a client after quiescence. */
    WATCHDOGS,
    /** Leases still tracked as active by a client after quiescence. */
    ACTIVE_LEASES,
    /** Client connections on a node above the baseline after the lock clients were closed. */
    CONNECTIONS,
    /** BlockHound reported a blocking call on a non-blocking thread (surfaced as an operation's error). */
    BLOCKING_CALL,
    /** The history itself is not well formed (an operation without exactly one completion, a replay mismatch). */
    MALFORMED;

    /** The name used in histories and summaries, e.g. {@code window_overlap}. */
    String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    static Violation fromLabel(String label) {
        return valueOf(label.toUpperCase(Locale.ROOT));
    }
}
