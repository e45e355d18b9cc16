package dev.redlock.chaos;

import dev.redlock.LockOptions;
import java.time.Duration;

/**
 * How one operation uses the lock: the options, whether it goes through {@code withLock} (scoped) or a manual
 * acquire/release, and the shape of its critical section. Immutable; the {@code with*} methods return copies.
 */
final class OpSpec {

    final LockOptions options;
    /** Manual acquire + release instead of {@code withLock}. */
    final boolean manual;
    /** Keep the lease this long, writing every {@link #writeGap}; zero: one write, then done. */
    final Duration hold;
    final Duration writeGap;
    /** Pause between reading the set and writing it: uniform in [0, csPauseMax]. */
    final Duration csPauseMax;
    /** A write needs at least this much validity left, checked right before it; otherwise the section aborts. */
    final Duration margin;
    /** F11: an uncancellable pause (a stalled process) after the margin check and before the write. */
    final Duration stall;
    /** Manual only: release this long after the grant, whatever the validity (a holder overrunning its lease). */
    final Duration releaseAfter;

    private OpSpec(LockOptions options, boolean manual, Duration hold, Duration writeGap, Duration csPauseMax,
            Duration margin, Duration stall, Duration releaseAfter) {
        this.options = options;
        this.manual = manual;
        this.hold = hold;
        this.writeGap = writeGap;
        this.csPauseMax = csPauseMax;
        this.margin = margin;
        this.stall = stall;
        this.releaseAfter = releaseAfter;
    }

    /** A scoped operation with one write after a pause in [0, csPauseMax]. */
    static OpSpec scoped(LockOptions options, Duration csPauseMax, Duration margin) {
        return new OpSpec(options, false, Duration.ZERO, Duration.ofMillis(50), csPauseMax, margin, Duration.ZERO,
                Duration.ZERO);
    }

    OpSpec withOptions(LockOptions o) {
        return new OpSpec(o, manual, hold, writeGap, csPauseMax, margin, stall, releaseAfter);
    }

    OpSpec withHold(Duration hold, Duration writeGap) {
        return new OpSpec(options, manual, hold, writeGap, csPauseMax, margin, stall, releaseAfter);
    }

    OpSpec withStall(Duration stall) {
        return new OpSpec(options, manual, hold, writeGap, csPauseMax, margin, stall, releaseAfter);
    }

    OpSpec manualReleaseAfter(Duration releaseAfter) {
        return new OpSpec(options, true, hold, writeGap, csPauseMax, margin, stall, releaseAfter);
    }

    OpSpec withCsPauseMax(Duration csPauseMax) {
        return new OpSpec(options, manual, hold, writeGap, csPauseMax, margin, stall, releaseAfter);
    }
}
