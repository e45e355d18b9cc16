package dev.redlock.demo;

import dev.redlock.LeaseLostException;
import dev.redlock.LockOptions;
import dev.redlock.QuorumUnavailableException;
import dev.redlock.ReactiveRedLock;
import io.lettuce.core.KeyValue;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.reactive.RedisReactiveCommands;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
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
 * <p>No worker owns a thread: each is a {@code Mono.defer(...).repeat(...)} chain that runs on Lettuce's event loops
 * and Reactor's timers. Only {@link #run(long)} (the calling thread) and the counter set-up and read-back block.
 */
final class Workload {

    static final String COUNTER_PREFIX = "demo:counter:";

    private final ReactiveRedLock redlock;
    private final LockOptions options;
    private final StatefulRedisConnection<String, String> counterConnection;
    private final RedisReactiveCommands<String, String> counter;
    private final String[] lockKeys;
    private final String[] counterKeys;
    private final int workers;
    private final Duration hold;
    private final Stats stats;

    private final AtomicBoolean stopping = new AtomicBoolean();
    private final Sinks.Empty<Void> aborted = Sinks.empty();
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile long deadlineNanos;
    private volatile int hung;

    Workload(ReactiveRedLock redlock, LockOptions options, StatefulRedisConnection<String, String> counterConnection,
            int keys, int workers, Duration hold) {
        this.redlock = redlock;
        this.options = options;
        this.counterConnection = counterConnection;
        this.counter = counterConnection.reactive();
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
     * Runs the workers until {@code deadlineNanos} ({@code System.nanoTime()} based) and blocks until every worker
     * finished its last section, or until {@link #abort()}. A section still running {@code grace} after the deadline
     * (longer than any acquire may wait) is cancelled and counted as {@link #hung()}, so a stuck library call fails
     * the run instead of hanging it.
     */
    void run(long deadlineNanos, Duration grace) {
        this.deadlineNanos = deadlineNanos;
        Mono<Long> giveUp = Mono.delay(Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime())).plus(grace))
                .doOnNext(t -> hung = inFlight.get());
        Flux.range(0, workers)
                .flatMap(worker -> Mono.defer(this::oneSection).repeat(this::goOn), workers)
                .takeUntilOther(Mono.firstWithSignal(aborted.asMono(), giveUp))
                .blockLast();
    }

    /** Sections that had not finished when {@link #run} gave up on them. */
    int hung() {
        return hung;
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
    private Mono<String> increment(int k) {
        String key = counterKeys[k];
        Mono<Long> read = counter.get(key).map(Long::parseLong).defaultIfEmpty(0L);
        if (!hold.isZero()) {
            read = read.delayElement(hold);
        }
        return read.flatMap(value -> counter.set(key, Long.toString(value + 1)))
                .doOnSuccess(ok -> stats.completed(k));
    }
}
