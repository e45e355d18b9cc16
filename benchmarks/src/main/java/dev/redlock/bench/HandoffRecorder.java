package dev.redlock.bench;

import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Records, for a lock contended by several workers, the gap between one holder starting its release and the next
 * holder's acquire completing: the time the lock sits idle although someone wants it. A gap counts as a handoff when
 * the next holder is a different worker; a worker that re-acquires right after its own release is counted apart
 * ({@code sameOwnerPct}), since that is no handoff (and a sign of unfairness). Also checks mutual exclusion (more than
 * one holder at a time is a {@code violation}). Also records each acquire's wait (from its subscription to its
 * grant) and the acquisitions per worker, for the fairness figures ({@link Snapshot#fairnessLine}). Called at most
 * once per acquisition (about 1 per ms); synchronized.
 */
final class HandoffRecorder {

    private static final long MAX_NANOS = TimeUnit.SECONDS.toNanos(60);

    private final Histogram handoff = new Histogram(MAX_NANOS, 3);
    private final Histogram any = new Histogram(MAX_NANOS, 3);
    private final Histogram waits = new Histogram(MAX_NANOS, 3);
    private long[] perWorker = new long[16];
    private long acquisitions;
    private long sameOwner;
    private long violations;
    private int holders;
    private long releasedAt;
    private int lastOwner = -1;

    /**
     * A worker got the lock.
     *
     * @param waitNanos since the worker's acquire was subscribed
     */
    synchronized void acquired(int worker, long waitNanos) {
        long now = System.nanoTime();
        acquisitions++;
        waits.recordValue(Math.min(MAX_NANOS, Math.max(0, waitNanos)));
        if (worker >= perWorker.length) {
            perWorker = Arrays.copyOf(perWorker, Math.max(worker + 1, 2 * perWorker.length));
        }
        perWorker[worker]++;
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
        waits.reset();
        Arrays.fill(perWorker, 0);
        acquisitions = 0;
        sameOwner = 0;
        violations = 0;
        releasedAt = 0;
        lastOwner = -1;
    }

    synchronized Snapshot snapshot() {
        return new Snapshot(acquisitions, handoff.getTotalCount(),
                micros(handoff, 50), micros(handoff, 99), micros(any, 50), micros(any, 99),
                acquisitions == 0 ? 0 : 100.0 * sameOwner / Math.max(1, any.getTotalCount()), violations,
                micros(waits, 50), micros(waits, 99), waits.getTotalCount() == 0 ? Double.NaN : waits.getMaxValue() / 1000.0,
                perWorker.clone());
    }

    synchronized void add(HandoffRecorder other) {
        synchronized (other) {
            handoff.add(other.handoff);
            any.add(other.any);
            waits.add(other.waits);
            if (other.perWorker.length > perWorker.length) {
                perWorker = Arrays.copyOf(perWorker, other.perWorker.length);
            }
            for (int w = 0; w < other.perWorker.length; w++) {
                perWorker[w] += other.perWorker[w];
            }
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
        final double waitP50Us;
        final double waitP99Us;
        final double waitMaxUs;
        /** Acquisitions per worker, by worker index. */
        final long[] perWorker;

        Snapshot(long acquisitions, long handoffs, double handoffP50Us, double handoffP99Us, double anyP50Us,
                double anyP99Us, double sameOwnerPct, long violations, double waitP50Us, double waitP99Us,
                double waitMaxUs, long[] perWorker) {
            this.acquisitions = acquisitions;
            this.handoffs = handoffs;
            this.handoffP50Us = handoffP50Us;
            this.handoffP99Us = handoffP99Us;
            this.anyP50Us = anyP50Us;
            this.anyP99Us = anyP99Us;
            this.sameOwnerPct = sameOwnerPct;
            this.violations = violations;
            this.waitP50Us = waitP50Us;
            this.waitP99Us = waitP99Us;
            this.waitMaxUs = waitMaxUs;
            this.perWorker = perWorker;
        }

        /** The parseable line: {@code HANDOFF key=value ...}, one per trial (and per measurement iteration). */
        String line(String scope, String impl, int nodes, int workers) {
            return String.format(Locale.ROOT,
                    "HANDOFF scope=%s impl=%s nodes=%d workers=%d acquisitions=%d handoffs=%d gapP50us=%.1f"
                            + " gapP99us=%.1f anyGapP50us=%.1f anyGapP99us=%.1f sameOwnerPct=%.1f violations=%d",
                    scope, impl, nodes, workers, acquisitions, handoffs, handoffP50Us, handoffP99Us, anyP50Us, anyP99Us,
                    sameOwnerPct, violations);
        }

        /**
         * The fairness line of {@link FairLockBenchmark}: {@code FAIRNESS key=value ...}, the handoff gaps as in
         * {@link #line}, each client's share of the acquisitions (worker {@code w} is on client
         * {@link ClientsDriver#clientOf}), the smallest and largest share of one worker, and the acquires' waits
         * (subscription to grant): p50, p99 and the longest, in ms.
         */
        String fairnessLine(String scope, String impl, int nodes, int clients, int perClient) {
            int workers = clients * perClient;
            long[] perClientCount = new long[clients];
            double minWorker = Double.NaN;
            double maxWorker = Double.NaN;
            for (int w = 0; w < workers; w++) {
                long mine = w < perWorker.length ? perWorker[w] : 0;
                perClientCount[ClientsDriver.clientOf(w, clients)] += mine;
                double pct = pct(mine);
                minWorker = Double.isNaN(minWorker) ? pct : Math.min(minWorker, pct);
                maxWorker = Double.isNaN(maxWorker) ? pct : Math.max(maxWorker, pct);
            }
            StringBuilder shares = new StringBuilder();
            for (int c = 0; c < clients; c++) {
                shares.append(c == 0 ? "" : "/").append(String.format(Locale.ROOT, "%.1f", pct(perClientCount[c])));
            }
            return String.format(Locale.ROOT,
                    "FAIRNESS scope=%s impl=%s nodes=%d clients=%d workers=%d acquisitions=%d handoffs=%d"
                            + " gapP50us=%.1f gapP99us=%.1f sameOwnerPct=%.1f clientSharePct=%s workerMinPct=%.2f"
                            + " workerMaxPct=%.2f waitP50ms=%.2f waitP99ms=%.2f waitMaxMs=%.2f violations=%d",
                    scope, impl, nodes, clients, workers, acquisitions, handoffs, handoffP50Us, handoffP99Us,
                    sameOwnerPct, shares, minWorker, maxWorker, waitP50Us / 1000, waitP99Us / 1000, waitMaxUs / 1000,
                    violations);
        }

        private double pct(long n) {
            return acquisitions == 0 ? Double.NaN : 100.0 * n / acquisitions;
        }
    }
}
