package dev.redlock.demo;

import dev.redlock.LeaseLostException;
import dev.redlock.LockOptions;
import dev.redlock.QuorumUnavailableException;
import dev.redlock.ReactiveRedLock;
import io.lettuce.core.KeyValue;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.reactive.RedisReactiveCommands;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.retry.Retry;

/**
 * The contended workload: {@code workers} reactive loops, each taking the lock of a random hot key and doing a
 * non-atomic read-modify-write of that key's counter (GET, pause, SET value+1) inside {@code withLock}. Two holders
 * at once would lose an update, so at the end every counter must equal the sections completed on its key.
 *
 * <h2>Exact accounting when sections are cancelled</h2>
 * A section can be cancelled at any point: its lease is lost ({@code withLock} cancels the body), or the run reaches
 * its end. Cancelling before the SET is sent changes nothing (a GET has no effect). Once the SET is sent, its outcome
 * no longer depends on the section: the SET goes out through Lettuce's async API, cancelling the section does not
 * cancel it ({@code Mono.fromFuture(future, true)}), and its reply is recorded whenever it comes. So a section counts
 * as completed exactly when the data node acknowledged its SET, whether or not its section was still running; a
 * SET whose reply is an error or never comes is counted as <em>unknown</em>, and a key with unknown SETs cannot be
 * checked exactly (the run fails as inconclusive). Before reading the counters, {@link #awaitWrites} waits for every
 * SET sent. Every GET and SET goes through one connection, so the data node applies them in the order they were
 * sent: a SET sent while its section held the lock is applied before the next holder's GET, even when the section
 * was cancelled right after sending it. The check is therefore exact: a counter that differs from the acknowledged
 * SETs of its key means an update was lost, and fails the run. Two holders at once lose one; so does a SET sent
 * after its section was cancelled, which a section avoids by checking for the cancel just before it sends (what
 * remains is the instant between that check and the send, when a cancel on another thread can still come first:
 * then the write may land after the next holder's GET, as any write after a lost lease may, which is what fencing
 * tokens are for). Either way a PASS is never wrong: it means every counter holds exactly its acknowledged SETs.
 *
 * <p>No worker owns a thread: each is a {@code Mono.defer(...).repeat(...)} chain that runs on Lettuce's event loops
 * and Reactor's timers. Only {@link #run} and {@link #awaitWrites} (the calling thread) and the counter set-up and
 * read-back block.
 */
final class Workload {

    static final String COUNTER_PREFIX = "demo:counter:";

    private final ReactiveRedLock redlock;
    private final LockOptions options;
    private final StatefulRedisConnection<String, String> counterConnection;
    private final RedisReactiveCommands<String, String> counter;
    private final RedisAsyncCommands<String, String> counterAsync;
    private final String[] lockKeys;
    private final String[] counterKeys;
    private final int workers;
    private final Duration hold;
    private final Stats stats;

    private final AtomicBoolean stopping = new AtomicBoolean();
    private final Sinks.Empty<Void> aborted = Sinks.empty();
    private final AtomicInteger inFlight = new AtomicInteger();
    /** SETs sent whose reply has not come yet. */
    private final AtomicInteger pendingWrites = new AtomicInteger();
    /** Set by {@link #awaitWrites}: no SET is sent any more, so none can land after the counters are read. */
    private volatile boolean writesClosed;
    private volatile long deadlineNanos;
    private volatile int cutOff;

    Workload(ReactiveRedLock redlock, LockOptions options, StatefulRedisConnection<String, String> counterConnection,
            int keys, int workers, Duration hold) {
        this.redlock = redlock;
        this.options = options;
        this.counterConnection = counterConnection;
        this.counter = counterConnection.reactive();
        this.counterAsync = counterConnection.async();
        this.lockKeys = new String[keys];
        this.counterKeys = new String[keys];
        for (int i = 0; i < keys; i++) {
            lockKeys[i] = "hot-" + i;
            counterKeys[i] = COUNTER_PREFIX + lockKeys[i];
        }
        this.workers = workers;
        this.hold = hold;
        this.stats = new Stats(keys);
    }

    String lockKey(int i) {
        return lockKeys[i];
    }

    String counterKey(int i) {
        return counterKeys[i];
    }

    int keys() {
        return lockKeys.length;
    }

    Stats stats() {
        return stats;
    }

    /** Deletes the counters (a rerun against the same nodes starts from zero). Blocking; main thread only. */
    void resetCounters() {
        counterConnection.sync().del(counterKeys);
    }

    /**
     * Makes sure a quorum of the nodes answers before the clock starts (connects every node). Blocking.
     *
     * @throws RuntimeException the library's error when no quorum answers
     */
    void warmUp(Duration timeout) {
        // the first command also opens the connections, which on a cold JVM can take longer than the node timeout
        Mono.defer(() -> redlock.isLocked(lockKeys[0]))
                .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(50)).maxBackoff(Duration.ofMillis(500))
                        .filter(QuorumUnavailableException.class::isInstance))
                .timeout(timeout, Mono.defer(() -> redlock.isLocked(lockKeys[0]))) // the last try reports its error
                .block();
    }

    /** The counters as stored in Redis, in key order; {@code null} for a missing key. Blocking; main thread only. */
    Long[] readCounters() {
        List<KeyValue<String, String>> values = counterConnection.sync().mget(counterKeys);
        Long[] result = new Long[counterKeys.length];
        for (int i = 0; i < values.size(); i++) {
            KeyValue<String, String> kv = values.get(i);
            result[i] = kv.hasValue() ? Long.valueOf(kv.getValue()) : null;
        }
        return result;
    }

    /**
     * Runs the workers until {@code deadlineNanos} ({@code System.nanoTime()} based), or until {@link #abort()}, and
     * blocks until they are done. From the deadline no new section starts; sections in flight get {@code grace} to
     * finish, and those still running then are cancelled (counted as {@link #cutOff()}): a wait for an unreachable
     * quorum ends there, and {@code withLock} releases what a cancelled section held. A SET already sent still counts
     * once acknowledged (see the class comment).
     */
    void run(long deadlineNanos, Duration grace) {
        this.deadlineNanos = deadlineNanos;
        Mono<Long> cutOffTime = Mono.delay(Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime())).plus(grace))
                .doOnNext(t -> cutOff = inFlight.get());
        Flux.range(0, workers)
                .flatMap(worker -> Mono.defer(this::oneSection).repeat(this::goOn), workers)
                .takeUntilOther(Mono.firstWithSignal(aborted.asMono(), cutOffTime))
                .blockLast();
    }

    /** Sections still in flight at the deadline plus the grace, which {@link #run} cancelled. */
    int cutOff() {
        return cutOff;
    }

    /**
     * Stops sending SETs and waits until every SET sent has its reply, at most {@code timeout}; a SET still unanswered
     * then has an unknown outcome, and the counters cannot be checked exactly. Blocking; main thread only, after
     * {@link #run} and before {@link #readCounters}.
     *
     * @return the SETs that were still unanswered
     */
    int awaitWrites(Duration timeout) {
        // with write(): either a late write sees the flag and sends nothing, or its count is seen below
        writesClosed = true;
        long end = System.nanoTime() + timeout.toNanos();
        while (pendingWrites.get() > 0 && System.nanoTime() - end < 0) {
            try {
                TimeUnit.MILLISECONDS.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return pendingWrites.get();
    }

    /** Stops at once: cancels sections in flight (their counters are then no longer checked). */
    void abort() {
        stopping.set(true);
        aborted.tryEmitEmpty();
    }

    private boolean goOn() {
        return !stopping.get() && System.nanoTime() - deadlineNanos < 0;
    }

    private Mono<Void> oneSection() {
        int k = ThreadLocalRandom.current().nextInt(lockKeys.length);
        long requested = System.nanoTime();
        return redlock.withLockMono(lockKeys[k], options, lease -> {
                    stats.recordWait(System.nanoTime() - requested);
                    return increment(k);
                })
                .onErrorResume(e -> {
                    if (e instanceof LeaseLostException) {
                        stats.leaseLost();
                    } else if (e instanceof QuorumUnavailableException) {
                        stats.quorumUnavailable(); // the lock refused while too many nodes were out: not a failure
                    } else {
                        stats.error(e);
                    }
                    return Mono.empty();
                })
                .doOnSubscribe(s -> inFlight.incrementAndGet())
                .doFinally(signal -> inFlight.decrementAndGet())
                .then();
    }

    /** The deliberately non-atomic read-modify-write that only mutual exclusion keeps correct. */
    private Mono<Void> increment(int k) {
        AtomicBoolean cancelled = new AtomicBoolean();
        Mono<Long> read = counter.get(counterKeys[k]).map(Long::parseLong).defaultIfEmpty(0L);
        if (!hold.isZero()) {
            read = read.delayElement(hold);
        }
        return read.flatMap(value -> cancelled.get() ? Mono.<Void>empty() : write(k, value + 1))
                .doOnCancel(() -> cancelled.set(true));
    }

    /**
     * Sends the SET at once and records its outcome from its reply, independently of the section: cancelling the
     * returned {@code Mono} (lease lost, end of the run) does not cancel a SET already sent.
     */
    private Mono<Void> write(int k, long value) {
        pendingWrites.incrementAndGet();
        if (writesClosed) { // a section cancelled at the end that got this far on another thread: send nothing
            pendingWrites.decrementAndGet();
            return Mono.empty();
        }
        CompletableFuture<String> reply = counterAsync.set(counterKeys[k], Long.toString(value)).toCompletableFuture();
        reply.whenComplete((ok, e) -> {
            if (e == null && "OK".equals(ok)) {
                stats.completed(k);
            } else {
                stats.unknownWrite(k);
            }
            pendingWrites.decrementAndGet();
        });
        return Mono.fromFuture(reply, true).then();
    }
}
