package dev.redlock.bench;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The closed loop of the contended benchmarks ({@link ContendedBenchmark}, {@link FairLockBenchmark}): one worker per
 * slot, all on the same key, each acquiring, holding the lock for the critical section, releasing, and at once trying
 * again, from {@link #start} to {@link #stop} (one JMH iteration). The workers run on the implementations' threads;
 * the JMH thread only takes one permit per acquisition ({@link #awaitAcquisition}), so one invocation is one
 * acquisition. Every acquisition, its wait and every release go to the iteration's {@link HandoffRecorder}; the
 * measurement iterations are pooled in the trial's.
 */
final class ContentionLoop {

    /** The critical section of the contended benchmarks: 1 ms ({@code Mono.delay}). */
    static final Duration CRITICAL_SECTION = Duration.ofMillis(1);
    private static final Duration STOP_LIMIT = Duration.ofSeconds(90);

    final HandoffRecorder iteration = new HandoffRecorder();
    final HandoffRecorder trial = new HandoffRecorder();
    private final Semaphore acquisitions = new Semaphore(0);
    private final Mono<Long> criticalSection = Mono.delay(CRITICAL_SECTION);
    private volatile boolean stopping;
    private volatile Throwable failure;
    private CountDownLatch stopped;
    private Disposable running;
    private boolean measuring;

    /** Starts one worker per slot; {@code measuring}: the iteration counts for the trial's figures. */
    void start(LockDriver driver, Slot[] slots, boolean measuring) {
        this.measuring = measuring;
        iteration.reset();
        acquisitions.drainPermits();
        stopping = false;
        stopped = new CountDownLatch(1);
        running = Flux.range(0, slots.length)
                .flatMap(w -> worker(driver, slots[w]), slots.length)
                .doFinally(s -> stopped.countDown())
                .subscribe(null, e -> failure = e);
    }

    private Mono<Void> worker(LockDriver driver, Slot slot) {
        int w = slot.index;
        return Mono.defer(() -> {
                    long start = System.nanoTime();
                    return driver.acquire(slot).doOnNext(held -> iteration.acquired(w, System.nanoTime() - start));
                })
                .flatMap(held -> {
                    acquisitions.release();
                    return criticalSection.then(Mono.defer(() -> {
                        iteration.releasing(w);
                        return driver.release(held);
                    }));
                })
                .repeat(() -> !stopping)
                .then();
    }

    /** Blocks the JMH thread until the next acquisition. */
    void awaitAcquisition() throws InterruptedException {
        acquisitions.acquire();
    }

    /**
     * Stops the workers (each finishes its current cycle) and waits for them; adds a measurement iteration to the
     * trial's figures.
     *
     * @return the iteration's figures
     * @throws IllegalStateException when the workers did not stop, one failed, or two held the lock at once
     */
    HandoffRecorder.Snapshot stop(String impl) throws InterruptedException {
        stopping = true;
        boolean done = stopped.await(STOP_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
        if (!done) {
            running.dispose();
            throw new IllegalStateException(impl + " workers did not stop within " + STOP_LIMIT);
        }
        if (failure != null) {
            throw new IllegalStateException(impl + " worker failed", failure);
        }
        HandoffRecorder.Snapshot s = iteration.snapshot();
        if (measuring) {
            trial.add(iteration);
        }
        if (s.violations > 0) {
            throw new IllegalStateException(impl + ": " + s.violations + " acquisitions while another worker held the lock");
        }
        return s;
    }

    boolean measuring() {
        return measuring;
    }
}
