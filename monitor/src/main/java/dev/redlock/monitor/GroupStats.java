package dev.redlock.monitor;

import dev.redlock.LeaseLostException;
import dev.redlock.metrics.LockMetricsRecorder.AcquireOutcome;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.AbstractHistogram;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.PackedHistogram;
import org.HdrHistogram.Recorder;
import org.jspecify.annotations.Nullable;

/**
 * One group's statistics in {@link LockStats}. Writers (the client's threads) only add to {@code LongAdder}s and
 * record into HdrHistogram {@link Recorder}s, which is wait-free. The reader, {@link #snapshot(long)}, swaps the
 * recorders' buffers into a slice (the flip may yield or wait for writers in flight, hence only on threads that
 * may block) and keeps the slices of the last {@link LockStats#WINDOW}.
 */
final class GroupStats {

    private static final AcquireOutcome[] OUTCOMES = AcquireOutcome.values();
    private static final LeaseLostException.Reason[] REASONS = LeaseLostException.Reason.values();
    private static final int DIGITS = 2;
    private static final long MIN_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    // a fixed range, 1 us to a day (LockStats clamps longer durations): a recorder that had to grow would take its
    // lock while recording, on the client's event loops; fixed, recording stays wait-free (about 32 KB a histogram)
    private static final long HIGHEST_MICROS = TimeUnit.DAYS.toMicros(1);

    private final LongAdder[] outcomes = adders(OUTCOMES.length);
    private final LongAdder[] lost = adders(REASONS.length);
    private final LongAdder renewed = new LongAdder();
    private final LongAdder renewalsFailed = new LongAdder();
    private final LongAdder permits = new LongAdder();
    private final LongAdder allowed = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final Recorder waitRecorder = recorder();
    private final Recorder holdRecorder = recorder();

    // reader state, guarded by this
    private @Nullable Histogram waitRecycle;
    private @Nullable Histogram holdRecycle;
    // slices are sparse most of the time: packed histograms keep them small
    private final PackedHistogram waitTotal = new PackedHistogram(DIGITS);
    private final PackedHistogram holdTotal = new PackedHistogram(DIGITS);
    private final ArrayDeque<Slice> slices = new ArrayDeque<>();
    private long sliceStart;
    private long[] countsAtSliceStart = new long[OUTCOMES.length];

    GroupStats(long nowNanos) {
        this.sliceStart = nowNanos;
    }

    // == Writers ==

    void outcome(AcquireOutcome outcome) {
        outcomes[outcome.ordinal()].increment();
    }

    void waited(long micros) {
        waitRecorder.recordValue(micros);
    }

    void held(long micros) {
        holdRecorder.recordValue(micros);
    }

    void renewed(boolean ok) {
        (ok ? renewed : renewalsFailed).increment();
    }

    void lost(LeaseLostException.Reason reason) {
        lost[reason.ordinal()].increment();
    }

    void permits(int delta) {
        permits.add(delta);
    }

    void decided(boolean wasAllowed) {
        (wasAllowed ? allowed : rejected).increment();
    }

    // == Reader ==

    /** Closes the current slice, drops the slices that ended before the window, and sums up. */
    synchronized Snapshot snapshot(long nowNanos) {
        long[] counts = sum(outcomes);
        if (!slices.isEmpty() && nowNanos - sliceStart < MIN_SLICE_NANOS) {
            // read again within a moment: the figures of the last slice do, so that however often the statistics
            // are read, a window holds at most WINDOW / MIN_SLICE slices
            return summary(counts, nowNanos);
        }
        waitRecycle = waitRecorder.getIntervalHistogram(waitRecycle);
        holdRecycle = holdRecorder.getIntervalHistogram(holdRecycle);
        Slice slice = new Slice(sliceStart, countsAtSliceStart, packed(waitRecycle), packed(holdRecycle));
        waitTotal.add(waitRecycle);
        holdTotal.add(holdRecycle);
        slices.addLast(slice);
        sliceStart = nowNanos;
        countsAtSliceStart = counts;
        long windowStart = nowNanos - LockStats.WINDOW.toNanos();
        // a slice stays while it ended within the window; the newest always stays
        while (slices.size() > 1 && slices.peekFirst() != null && slicesSecondStart() <= windowStart) {
            slices.removeFirst();
        }
        return summary(counts, nowNanos);
    }

    private Snapshot summary(long[] counts, long nowNanos) {
        Slice oldest = slices.getFirst();
        double seconds = Math.max(1e-3, (nowNanos - oldest.start) / 1e9);
        double[] rates = new double[OUTCOMES.length];
        for (int i = 0; i < rates.length; i++) {
            rates[i] = (counts[i] - oldest.countsAtStart[i]) / seconds;
        }
        Histogram waitWindow = new Histogram(DIGITS);
        Histogram holdWindow = new Histogram(DIGITS);
        for (Slice s : slices) {
            waitWindow.add(s.waits);
            holdWindow.add(s.holds);
        }
        return new Snapshot(counts, rates, seconds, Distribution.of(waitWindow), Distribution.of(waitTotal),
                Distribution.of(holdWindow), Distribution.of(holdTotal), sum(lost), renewed.sum(),
                renewalsFailed.sum(), permits.sum(), allowed.sum(), rejected.sum());
    }

    /** When the second-oldest slice started, that is when the oldest ended. */
    private long slicesSecondStart() {
        var it = slices.iterator();
        it.next();
        return it.hasNext() ? it.next().start : sliceStart;
    }

    private static PackedHistogram packed(Histogram interval) {
        PackedHistogram copy = new PackedHistogram(DIGITS);
        copy.add(interval);
        return copy;
    }

    private static Recorder recorder() {
        return new Recorder(1, HIGHEST_MICROS, DIGITS);
    }

    private static LongAdder[] adders(int n) {
        LongAdder[] adders = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            adders[i] = new LongAdder();
        }
        return adders;
    }

    private static long[] sum(LongAdder[] adders) {
        long[] sums = new long[adders.length];
        for (int i = 0; i < sums.length; i++) {
            sums[i] = adders[i].sum();
        }
        return sums;
    }

    /** Recorded between {@code start} and the next slice's start. */
    private record Slice(long start, long[] countsAtStart, PackedHistogram waits, PackedHistogram holds) {}

    /** A distribution's figures, in milliseconds. */
    record Distribution(long count, double p50, double p75, double p90, double p95, double p99, double max) {

        static Distribution of(AbstractHistogram micros) {
            if (micros.getTotalCount() == 0) {
                return new Distribution(0, 0, 0, 0, 0, 0, 0);
            }
            return new Distribution(micros.getTotalCount(), ms(micros, 50), ms(micros, 75), ms(micros, 90),
                    ms(micros, 95), ms(micros, 99), micros.getMaxValue() / 1e3);
        }

        private static double ms(AbstractHistogram micros, double percentile) {
            return micros.getValueAtPercentile(percentile) / 1e3;
        }
    }

    /**
     * A group's figures at one time: acquisitions per outcome (indexed by {@link AcquireOutcome#ordinal()}) and
     * their rate over the window of {@code windowSeconds}, the wait and hold distributions over that window and
     * since the start, leases lost per reason (by {@link LeaseLostException.Reason#ordinal()}), renewals, permits
     * held and rate-limit decisions.
     */
    record Snapshot(long[] outcomes, double[] ratesPerSecond, double windowSeconds, Distribution waitWindow,
            Distribution waitTotal, Distribution holdWindow, Distribution holdTotal, long[] lost, long renewed,
            long renewalsFailed, long permitsHeld, long allowed, long rejected) {}
}
