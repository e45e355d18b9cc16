package dev.redlock.demo;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;

/**
 * Prints one progress line per second from its own daemon thread (never a Reactor or Netty thread): rewritten in
 * place with a carriage return on a terminal, one line per second otherwise. {@link #event(String)} prints a line of
 * its own (a chaos fault) above it.
 */
final class Progress implements AutoCloseable {

    private final PrintStream out;
    private final boolean terminal;
    private final Stats stats;
    private final Supplier<String> nodes;
    private final long startNanos;
    private final String totalText;
    private final int elapsedWidth;
    private final Thread thread;

    private volatile boolean stopped;
    private long lastCompleted;
    private long lastNanos;
    private int lastLineLength;
    private boolean printedInPlace;

    /** {@code nodes} tells how many lock nodes count toward a quorum now, such as {@code 4/5}; read once per line. */
    Progress(PrintStream out, boolean terminal, Stats stats, Supplier<String> nodes, long startNanos, Duration total) {
        this.out = out;
        this.terminal = terminal;
        this.stats = stats;
        this.nodes = nodes;
        this.startNanos = startNanos;
        this.lastNanos = startNanos;
        this.totalText = Durations.format(total);
        this.elapsedWidth = Math.max(2, Long.toString(Math.max(1, total.toSeconds())).length());
        this.thread = new Thread(this::loop, "redlock-demo-progress");
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    private void loop() {
        long tick = 1;
        while (!stopped) {
            long sleepNanos = startNanos + TimeUnit.SECONDS.toNanos(tick) - System.nanoTime();
            if (sleepNanos > 0) {
                try {
                    TimeUnit.NANOSECONDS.sleep(sleepNanos);
                } catch (InterruptedException e) {
                    return; // close() interrupts
                }
            }
            if (stopped) {
                return;
            }
            print(tick);
            tick++;
        }
    }

    private void print(long second) {
        long now = System.nanoTime();
        long completed = stats.completedTotal();
        double seconds = Math.max(1e-9, (now - lastNanos) / 1e9);
        long opsPerSecond = Math.round((completed - lastCompleted) / seconds);
        lastCompleted = completed;
        lastNanos = now;
        Histogram waits = stats.interval();
        String line = String.format(Locale.ROOT,
                "[%" + elapsedWidth + "ds/%s] ops/s %5d  wait p50 %s p99 %s  lost %d  errors %d  nodes %s",
                second, totalText, opsPerSecond, millis(waits, 50), millis(waits, 99), stats.lost(), stats.errors(),
                nodes.get());
        synchronized (out) {
            if (terminal) {
                int pad = Math.max(0, lastLineLength - line.length());
                out.print("\r" + line + " ".repeat(pad));
                printedInPlace = true;
                lastLineLength = line.length();
            } else {
                out.println(line);
            }
            out.flush();
        }
    }

    /**
     * Prints {@code line} on a line of its own; on a terminal it replaces the progress line, which the next second
     * prints again below it. Any thread except Reactor and Netty ones (it may wait for the printer).
     */
    void event(String line) {
        synchronized (out) {
            if (terminal && printedInPlace) {
                int pad = Math.max(0, lastLineLength - line.length());
                out.println("\r" + line + " ".repeat(pad));
                printedInPlace = false;
                lastLineLength = 0;
            } else {
                out.println(line);
            }
            out.flush();
        }
    }

    /** A percentile of a histogram of microseconds as {@code 0.41 ms}, or {@code - ms} when it is empty. */
    static String millis(Histogram micros, double percentile) {
        if (micros.getTotalCount() == 0) {
            return "   - ms";
        }
        return millis(micros.getValueAtPercentile(percentile));
    }

    static String millis(long micros) {
        double ms = micros / 1000.0;
        // thresholds on the rounded value, so 9.996 prints as "10.0", not "10.00"
        return String.format(Locale.ROOT, ms < 9.995 ? "%5.2f ms" : ms < 99.95 ? "%5.1f ms" : "%5.0f ms", ms);
    }

    /** Stops the printer and waits for it; ends the in-place line on a terminal. */
    @Override
    public void close() {
        stopped = true;
        thread.interrupt();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (out) {
            if (printedInPlace) {
                out.println();
                out.flush();
            }
        }
    }
}
