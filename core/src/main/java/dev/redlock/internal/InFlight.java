package dev.redlock.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts work in flight that {@code close()} has to wait for (acquire attempts that may still grant, releases whose
 * nodes have not all answered). A counter, not a set of futures: it is on the path of every acquire and release.
 */
public final class InFlight {

    private final AtomicInteger count = new AtomicInteger();
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    private volatile boolean closing;

    /** Starts one unless {@link #drain()} was called: false, and nothing counted, once closing. */
    public boolean tryEnter() {
        count.incrementAndGet();
        if (closing) {
            exit();
            return false;
        }
        return true;
    }

    /** Starts one, also while closing (a release that close() itself starts must be waited for). */
    public void enter() {
        count.incrementAndGet();
    }

    /** Ends one that was entered. */
    public void exit() {
        if (count.decrementAndGet() == 0 && closing) {
            drained.complete(null);
        }
    }

    /** Refuses {@link #tryEnter()} from now on; completes once nothing is in flight. */
    public CompletableFuture<Void> drain() {
        closing = true;
        if (count.get() == 0) {
            drained.complete(null);
        }
        return drained;
    }
}
