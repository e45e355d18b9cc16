package dev.redlock.chaos;

import dev.redlock.LockOptions;
import dev.redlock.ReactiveRedLock;
import dev.redlock.RedLock;
import dev.redlock.rw.LockMode;
import dev.redlock.rw.RedReadWriteLock;
import java.time.Duration;

/**
 * How one operation uses the lock (the plain lock of its key, the fair lock as a waiter of some priority, or a lock
 * with modes in one mode): the options, whether it goes through {@code withLock} (scoped) or a manual
 * acquire/release, the shape of its critical section, a shortening {@code extend} inside it, and a cancellation
 * timed at a point of its life. Immutable; the {@code with*} methods return copies.
 */
final class OpSpec {

    /** When an operation is cancelled (its subscription disposed from outside), if at all. */
    enum Cancel {
        NONE,
        /** When the client's {@code events()} deliver an {@code ACQUIRED} of the operation's key (right after a grant). */
        ON_ACQUIRED,
        /** After a random delay in [0, cancelDelayMax] from the invoke: anywhere around the hand-over. */
        AFTER_DELAY,
        /** Within a millisecond after the critical section ended, while the release is under way. */
        ON_RELEASE
    }

    LockOptions options;
    /** Manual acquire + release instead of {@code withLock}. */
    boolean manual;
    /** Keep the lease this long, writing every {@link #writeGap}; zero: one write, then done. */
    Duration hold = Duration.ZERO;
    Duration writeGap = Duration.ofMillis(50);
    /** Pause between reading the set and writing it: uniform in [0, csPauseMax]. */
    Duration csPauseMax;
    /** A write needs at least this much validity left, checked right before it; otherwise the section aborts. */
    Duration margin;
    /** F11: an uncancellable pause (a stalled process) after the margin check and before the write. */
    Duration stall = Duration.ZERO;
    /** Manual only: release this long after the grant, whatever the validity (a holder overrunning its lease). */
    Duration releaseAfter = Duration.ZERO;
    /** A {@code lease.extend(extendTo)} inside the section (zero: none), after {@link #extendAfterWrites} writes. */
    Duration extendTo = Duration.ZERO;
    int extendAfterWrites;
    /**
     * Control only: after the extend, the holder keeps believing the deadline it saw before it (what a client whose
     * shortening renewal did not bring its deadline down would tell the holder).
     */
    boolean staleBelief;
    Cancel cancel = Cancel.NONE;
    Duration cancelDelayMax = Duration.ZERO;
    /** Control only: a manual holder that is cancelled drops its lease without releasing it. */
    boolean dropOnCancel;
    /** The fair lock's priority for this waiter; null: the plain lock. */
    Integer priority;
    /** The fair lock's heartbeat timeout for this waiter (with {@link #priority}). */
    Duration heartbeat;
    /** The lock with modes the operation takes, in a mode; null: the plain lock of its key (or the fair lock). */
    Modal modal;

    /** Where the lease of an operation on a lock with modes comes from. */
    @FunctionalInterface
    interface LockSource {
        RedLock lock(ReactiveRedLock client, String key, Modal modal, LockOptions options);

        /** The client's own lock: the read or write side of its read-write lock, its hierarchical lock in the mode. */
        LockSource CLIENT = (client, key, modal, options) -> modal.kind == Modal.Kind.READ_WRITE
                ? modal.readWriteSide(client.readWriteLock(key).withOptions(options))
                : client.hierarchicalLock(key).withOptions(options).lock(modal.lockMode());
    }

    /**
     * A lock with modes and the mode asked for: the read (S) or write (X) side of the read-write lock named by the
     * operation's key, or the hierarchical lock on the path that is its key in S, SIX or X. What the lease holds is
     * what that lock must hold ({@link Checker#holds}, {@link Checker#pathHolds}), whatever its {@link LockSource}
     * (the client's lock, or a test-only mutant) does. A shared mode's section only reads: it enters the guarded store
     * and writes nothing.
     */
    static final class Modal {

        enum Kind {
            READ_WRITE, HIERARCHY
        }

        final Kind kind;
        final String mode;
        final LockSource source;

        private Modal(Kind kind, String mode, LockSource source) {
            if (!mode.equals("S") && !mode.equals("X") && !(mode.equals("SIX") && kind == Kind.HIERARCHY)) {
                throw new IllegalArgumentException(kind + " in mode " + mode);
            }
            this.kind = kind;
            this.mode = mode;
            this.source = source;
        }

        /** The client's lock of {@code kind} in {@code mode}. */
        static Modal of(Kind kind, String mode) {
            return new Modal(kind, mode, LockSource.CLIENT);
        }

        /** The same request, its lease from {@code source}. */
        Modal from(LockSource source) {
            return new Modal(kind, mode, source);
        }

        String holds(String key) {
            return kind == Kind.READ_WRITE ? Checker.holds(key, mode) : Checker.pathHolds(key, mode);
        }

        boolean writes() {
            return !mode.equals("S");
        }

        RedLock lock(ReactiveRedLock client, String key, LockOptions options) {
            return source.lock(client, key, this, options);
        }

        LockMode lockMode() {
            return switch (mode) {
                case "S" -> LockMode.SHARED;
                case "SIX" -> LockMode.SHARED_INTENTION_EXCLUSIVE;
                default -> LockMode.EXCLUSIVE;
            };
        }

        RedLock readWriteSide(RedReadWriteLock lock) {
            return mode.equals("S") ? lock.readLock() : lock.writeLock();
        }

        @Override
        public String toString() {
            return (kind == Kind.READ_WRITE ? "rw " : "path ") + mode;
        }
    }

    private OpSpec() {}

    private OpSpec copy() {
        OpSpec o = new OpSpec();
        o.options = options;
        o.manual = manual;
        o.hold = hold;
        o.writeGap = writeGap;
        o.csPauseMax = csPauseMax;
        o.margin = margin;
        o.stall = stall;
        o.releaseAfter = releaseAfter;
        o.extendTo = extendTo;
        o.extendAfterWrites = extendAfterWrites;
        o.staleBelief = staleBelief;
        o.cancel = cancel;
        o.cancelDelayMax = cancelDelayMax;
        o.dropOnCancel = dropOnCancel;
        o.priority = priority;
        o.heartbeat = heartbeat;
        o.modal = modal;
        return o;
    }

    /** A scoped operation with one write after a pause in [0, csPauseMax]. */
    static OpSpec scoped(LockOptions options, Duration csPauseMax, Duration margin) {
        OpSpec o = new OpSpec();
        o.options = options;
        o.csPauseMax = csPauseMax;
        o.margin = margin;
        return o;
    }

    OpSpec withOptions(LockOptions options) {
        OpSpec o = copy();
        o.options = options;
        return o;
    }

    OpSpec withHold(Duration hold, Duration writeGap) {
        OpSpec o = copy();
        o.hold = hold;
        o.writeGap = writeGap;
        return o;
    }

    OpSpec withStall(Duration stall) {
        OpSpec o = copy();
        o.stall = stall;
        return o;
    }

    OpSpec manualReleaseAfter(Duration releaseAfter) {
        OpSpec o = copy();
        o.manual = true;
        o.releaseAfter = releaseAfter;
        return o;
    }

    OpSpec withCsPauseMax(Duration csPauseMax) {
        OpSpec o = copy();
        o.csPauseMax = csPauseMax;
        return o;
    }

    /** Extends the lease to {@code leaseTime} (shorter than the lease's) after {@code afterWrites} writes. */
    OpSpec withExtend(Duration leaseTime, int afterWrites) {
        OpSpec o = copy();
        o.extendTo = leaseTime;
        o.extendAfterWrites = afterWrites;
        return o;
    }

    OpSpec withStaleBelief(boolean staleBelief) {
        OpSpec o = copy();
        o.staleBelief = staleBelief;
        return o;
    }

    OpSpec withCancel(Cancel cancel, Duration delayMax) {
        OpSpec o = copy();
        o.cancel = cancel;
        o.cancelDelayMax = delayMax;
        return o;
    }

    /** On the fair lock of the key, as a waiter of {@code priority} with this heartbeat timeout. */
    OpSpec fair(int priority, Duration heartbeat) {
        OpSpec o = copy();
        o.priority = priority;
        o.heartbeat = heartbeat;
        return o;
    }

    boolean isFair() {
        return priority != null;
    }

    /** On the lock with modes named by the key, in {@code modal}'s mode. */
    OpSpec modal(Modal modal) {
        OpSpec o = copy();
        o.modal = modal;
        return o;
    }

    OpSpec withDropOnCancel(boolean drop) {
        OpSpec o = copy();
        o.dropOnCancel = drop;
        return o;
    }
}
