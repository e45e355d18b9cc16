package dev.redlock.chaos;

import java.util.concurrent.TimeUnit;

/**
 * Watches the two things a run cannot control (reliability.md §4.2, §4.4): JVM stalls (a thread that sleeps 5 ms at a
 * time and measures how late it wakes up) and the wall clock against the monotonic clock (Redis expiry follows the
 * wall clock, the windows the monotonic one). A run where either moved too much broke an assumption (A4 or A1) and is
 * judged "assumption broken" rather than passed or failed.
 */
final class Environment implements AutoCloseable {

    private final Thread thread;
    private final long startOffsetNanos;
    private final long startNanos;
    private volatile boolean running = true;
    private volatile long maxStallNanos;

    private Environment() {
        this.startNanos = System.nanoTime();
        this.startOffsetNanos = offset();
        this.thread = new Thread(this::detect, "chaos-stall-detector");
        thread.setDaemon(true);
        thread.start();
    }

    static Environment watch() {
        return new Environment();
    }

    private static long offset() {
        return TimeUnit.MILLISECONDS.toNanos(System.currentTimeMillis()) - System.nanoTime();
    }

    private void detect() {
        long sleep = TimeUnit.MILLISECONDS.toNanos(5);
        while (running) {
            long before = System.nanoTime();
            try {
                TimeUnit.NANOSECONDS.sleep(sleep); // the probe: how late it wakes is the stall measured
            } catch (InterruptedException e) {
                return;
            }
            long late = System.nanoTime() - before - sleep;
            if (late > maxStallNanos) {
                maxStallNanos = late;
            }
        }
    }

    /** The longest time the watcher woke up late so far. */
    long maxStallNanos() {
        return maxStallNanos;
    }

    /** How far the wall clock moved against the monotonic clock since the start (absolute), in nanoseconds. */
    long clockStepNanos() {
        return Math.abs(offset() - startOffsetNanos);
    }

    /** Whether the clocks diverged by more than 0.5 % of the time since the start (plus 5 ms of read noise). */
    boolean clockAssumptionBroken() {
        long elapsed = System.nanoTime() - startNanos;
        return clockStepNanos() > elapsed / 200 + TimeUnit.MILLISECONDS.toNanos(5);
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
