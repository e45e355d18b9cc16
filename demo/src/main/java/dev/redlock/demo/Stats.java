package dev.redlock.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What the workers measured. Recording is wait-free (safe on event-loop threads); reading intervals is
 * synchronized and done by the progress printer and, at the end, the main thread.
 */
final class Stats {

    private static final int MAX_ERROR_SAMPLES = 5;

    /**
     * Fixed range (1 us to 10 min, 3 digits): an auto-resizing recorder takes a lock to resize, and recording
     * happens on event-loop threads, which must never wait.
     */
    private static final long HIGHEST_MICROS = TimeUnit.MINUTES.toMicros(10);

    private final Recorder waits = new Recorder(HIGHEST_MICROS, 3);
    private final Histogram totalWaits = new Histogram(HIGHEST_MICROS, 3);
    private Histogram recycled; // guarded by this; the interval returned last time, reused by the next call

    private final LongAdder[] completed;
    private final LongAdder[] unknownWrites;
    private final LongAdder lost = new LongAdder();
    private final LongAdder unavailable = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final ConcurrentLinkedQueue<String> errorSamples = new ConcurrentLinkedQueue<>();
    private final AtomicInteger errorSampleCount = new AtomicInteger();

    Stats(int keys) {
        completed = new LongAdder[keys];
        unknownWrites = new LongAdder[keys];
        for (int i = 0; i < keys; i++) {
            completed[i] = new LongAdder();
            unknownWrites[i] = new LongAdder();
        }
    }

    /** The time from requesting the lock to entering the critical section. */
    void recordWait(long nanos) {
        waits.recordValue(Math.min(HIGHEST_MICROS, Math.max(0, TimeUnit.NANOSECONDS.toMicros(nanos))));
    }

    /** The data node acknowledged the SET of a critical section on key {@code keyIndex}: its increment is stored. */
    void completed(int keyIndex) {
        completed[keyIndex].increment();
    }

    /**
     * A SET on key {@code keyIndex} was sent but its reply never said whether it was applied (an error or no answer
     * from the data node): that key's counter may or may not include it, so it cannot be checked exactly.
     */
    void unknownWrite(int keyIndex) {
        unknownWrites[keyIndex].increment();
    }

    void leaseLost() {
        lost.increment();
    }

    /**
     * A section that ended with {@code QuorumUnavailableException}: too few lock nodes could be reached, so the lock
     * refused (availability, not safety).
     */
    void quorumUnavailable() {
        unavailable.increment();
    }

    void error(Throwable e) {
        errors.increment();
        if (errorSampleCount.getAndIncrement() < MAX_ERROR_SAMPLES) {
            StackTraceElement[] trace = e.getStackTrace();
            errorSamples.add(e.getClass().getName() + ": " + e.getMessage()
                    + (trace.length > 0 ? " (at " + trace[0] + ")" : ""));
        }
    }

    /**
     * The waits recorded since the last call (microseconds), also added to the totals. The result is valid until
     * the next call, which reuses it.
     */
    synchronized Histogram interval() {
        Histogram h = waits.getIntervalHistogram(recycled);
        totalWaits.add(h);
        recycled = h;
        return h;
    }

    /** All waits drained so far (call {@link #interval()} once more at the end). */
    synchronized Histogram total() {
        return totalWaits.copy();
    }

    long completedOf(int keyIndex) {
        return completed[keyIndex].sum();
    }

    long completedTotal() {
        long sum = 0;
        for (LongAdder a : completed) {
            sum += a.sum();
        }
        return sum;
    }

    long unknownWritesOf(int keyIndex) {
        return unknownWrites[keyIndex].sum();
    }

    long lost() {
        return lost.sum();
    }

    long unavailable() {
        return unavailable.sum();
    }

    long errors() {
        return errors.sum();
    }

    List<String> errorSamples() {
        return new ArrayList<>(errorSamples);
    }
}
