package dev.redlock.bench;

import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Records, for a lock contended by several workers, the gap between one holder starting its release and the next
 * holder's acquire completing: the time the lock sits idle although someone wants it. A gap counts as a handoff when
 * the next holder is a different worker; a worker that re-acquires right after its own release is counted apart
 * ({@code sameOwnerPct}), since that is no handoff (and a sign of unfairness). Also checks mutual exclusion (more than
 * one holder at a time is a {@code violation}). Called at most once per acquisition (about 1 per ms); synchronized.
 */
final class HandoffRecorder {

    private static final long MAX_NANOS = TimeUnit.SECONDS.toNanos(60);

    private final Histogram handoff = new Histogram(MAX_NANOS, 3);
    private final Histogram any = new Histogram(MAX_NANOS, 3);
    private long acquisitions;
    private long sameOwner;
    private long violations;
    private int holders;
    private long releasedAt;
    private int lastOwner = -1;

    synchronized void acquired(int worker) {
        long now = System.nanoTime();
        acquisitions++;
        if (++holders > 1) {
            violations++;
        }
        if (releasedAt != 0) {
            long gap = Math.min(MAX_NANOS, now - releasedAt);
            any.recordValue(gap);
            if (worker == lastOwner) {
                sameOwner++;
            } else {
                handoff.recordValue(gap);
            }
            releasedAt = 0;
        }
    }

    synchronized void releasing(int worker) {
        holders--;
        lastOwner = worker;
        releasedAt = System.nanoTime();
    }

    synchronized void reset() {
        handoff.reset();
        any.reset();
        acquisitions = 0;
        sameOwner = 0;
        violations = 0;
        releasedAt = 0;
        lastOwner = -1;
    }

    synchronized Snapshot snapshot() {
        return new Snapshot(acquisitions, handoff.getTotalCount(),
                micros(handoff, 50), micros(handoff, 99), micros(any, 50), micros(any, 99),
                acquisitions == 0 ? 0 : 100.0 * sameOwner / Math.max(1, any.getTotalCount()), violations);
    }

    synchronized void add(HandoffRecorder other) {
        synchronized (other) {
            handoff.add(other.handoff);
            any.add(other.any);
            acquisitions += other.acquisitions;
            sameOwner += other.sameOwner;
            violations += other.violations;
        }
    }

    private static double micros(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(percentile) / 1000.0;
    }

    /** Figures of one iteration or trial. */
    static final class Snapshot {
        final long acquisitions;
        final long handoffs;
        final double handoffP50Us;
        final double handoffP99Us;
        final double anyP50Us;
        final double anyP99Us;
        final double sameOwnerPct;
        final long violations;

        Snapshot(long acquisitions, long handoffs, double handoffP50Us, double handoffP99Us, double anyP50Us,
                double anyP99Us, double sameOwnerPct, long violations) {
            this.acquisitions = acquisitions;
            this.handoffs = handoffs;
            this.handoffP50Us = handoffP50Us;
            this.handoffP99Us = handoffP99Us;
            this.anyP50Us = anyP50Us;
            this.anyP99Us = anyP99Us;
            this.sameOwnerPct = sameOwnerPct;
            this.violations = violations;
        }

        /** The parseable line: {@code HANDOFF key=value ...}, one per trial (and per measurement iteration). */
        String line(String scope, String impl, int nodes, int workers) {
            return String.format(Locale.ROOT,
                    "HANDOFF scope=%s impl=%s nodes=%d workers=%d acquisitions=%d handoffs=%d gapP50us=%.1f"
                            + " gapP99us=%.1f anyGapP50us=%.1f anyGapP99us=%.1f sameOwnerPct=%.1f violations=%d",
                    scope, impl, nodes, workers, acquisitions, handoffs, handoffP50Us, handoffP99Us, anyP50Us, anyP99Us,
                    sameOwnerPct, violations);
        }
    }
}
