package dev.redlock.internal.acquire;

import dev.redlock.LockAcquireTimeoutException;
import dev.redlock.LockOptions;
import dev.redlock.internal.engine.Engine;
import dev.redlock.internal.engine.LeaseSpec;
import dev.redlock.internal.lease.DefaultLease;
import dev.redlock.internal.notify.ReleaseNotifier;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import reactor.core.publisher.Mono;

/**
 * The acquire loop: one attempt, and while the lock is held elsewhere (or too few nodes answer), more attempts until
 * {@code maxWait}, each after a wait that a release notification cuts short.
 *
 * <ul>
 *   <li>Within one client, acquires of the same key wait in a local line ({@link LocalQueue}): only the head tries
 *       the nodes, so a release wakes one contender here, not a split vote among many. Not the acquires of a
 *       primitive whose waiters queue on the nodes ({@link LeaseSpec#queuesLocally()}: the fair lock), which keep
 *       their own places there.
 *   <li>Between attempts: the backoff ({@link LockOptions#backoff()}), shortened to the holder's remaining TTL when a
 *       node told it, capped by {@link LeaseSpec#maxPauseNanos()}, and cut short by the key's release notification
 *       ({@link ReleaseNotifier}). After a split vote
 *       (this attempt won some nodes, others went to other contenders) the next attempt comes after a short random
 *       delay instead, a few times in a row.
 *   <li>A retry never runs past {@code maxWait}: its nodes get what is left of the wait (at least 1 ms), so an
 *       acquire ends by {@code max(maxWait, nodeTimeout)} whatever the nodes do.
 * </ul>
 *
 * <p>One instance per subscription; its state is touched by one round at a time (rounds are sequential).
 */
public final class AcquireLoop {

    /** First window for the random retry delay after a split vote; doubles per split. */
    private static final long SPLIT_RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final int MAX_FAST_SPLIT_RETRIES = 5;

    private final Engine owner;
    private final LeaseSpec spec;
    private final LockOptions options;
    private final long waitDeadline;

    private int attempts;
    private int splits;
    /** The attempt whose outcome the error reports when the loop gives up. */
    private AcquireAttempt.Result last;
    /** Whether the current attempt got less than a node timeout (the end of maxWait was near). */
    private boolean cutShort;
    /** Start with a wait instead of an attempt (the caller's own attempt just failed). */
    private boolean waitFirst;
    /** The lease of the previous head of the local line, if it left holding the lock (see {@link #run}). */
    private DefaultLease localHolder;
    private ReleaseNotifier.Listener listener;

    private AcquireLoop(Engine owner, LeaseSpec spec, LockOptions options, long waitDeadline) {
        this.owner = owner;
        this.spec = spec;
        this.options = options;
        this.waitDeadline = waitDeadline;
    }

    /** An acquire: one attempt at once, then (while maxWait allows) the local line and the loop. */
    public static Mono<DefaultLease> acquire(Engine owner, LeaseSpec spec, LockOptions options) {
        return Mono.defer(() -> {
            long waitDeadline = owner.now() + options.maxWait().toNanos();
            if (spec.queuesLocally() && owner.localQueue().busy(spec.lineKey()) && !options.maxWait().isZero()) {
                // others in this client already wait for this key: queue behind them instead of adding a contender
                // (an acquire that may not wait at all still makes its one attempt). Permits too: someone waits only
                // after a refusal, and a herd of first attempts on a full semaphore splits the nodes' votes.
                return waitInLine(owner, spec, options, waitDeadline, null);
            }
            // Fast path: one attempt; the loop is only built once the lock turned out to be busy.
            return owner.attempt(spec, options, options.nodeTimeout())
                    .flatMap(first -> first.lease != null
                            ? Mono.just(first.lease)
                            : options.maxWait().isZero()
                                    ? Mono.error(first.contended
                                            ? new LockAcquireTimeoutException(spec.name(), options.maxWait(), 1)
                                            : first.unavailable(spec.name()))
                                    : spec.queuesLocally()
                                            ? waitInLine(owner, spec, options, waitDeadline, first)
                                            : loopAfter(owner, spec, options, waitDeadline, first));
        });
    }

    /** The loop right after a failed first attempt, outside any local line (its waiters queue on the nodes). */
    private static Mono<DefaultLease> loopAfter(Engine owner, LeaseSpec spec, LockOptions options,
            long waitDeadline, AcquireAttempt.Result first) {
        AcquireLoop loop = new AcquireLoop(owner, spec, options, waitDeadline);
        loop.attempts = 1;
        loop.last = first;
        loop.waitFirst = true;
        return loop.run();
    }

    /**
     * Waits for this acquire's turn among the local waiters of the key, then loops until maxWait. The ticket leaves
     * the line once the lease (or the error) went downstream, or on cancel. Not {@code Mono.usingWhen}: it holds the
     * value until its cleanup ran, and a cancel in that gap would drop the lease without a discard.
     */
    private static Mono<DefaultLease> waitInLine(Engine owner, LeaseSpec spec, LockOptions options,
            long waitDeadline, AcquireAttempt.Result first) {
        return Mono.defer(() -> {
            LocalQueue.Ticket ticket = owner.localQueue().join(spec.lineKey());
            return ticket.turn(waitDeadline - owner.now())
                    .flatMap(myTurn -> {
                        if (!myTurn) {
                            return Mono.error(new LockAcquireTimeoutException(spec.name(), options.maxWait(),
                                    first == null ? 0 : 1));
                        }
                        AcquireLoop loop = new AcquireLoop(owner, spec, options, waitDeadline);
                        loop.attempts = first == null ? 0 : 1;
                        loop.last = first;
                        // Queued right behind a failed first attempt: start by waiting. After waiting in line: try at
                        // once (the previous head either got the lock or gave up on it).
                        loop.waitFirst = first != null && ticket.wasHeadAtOnce();
                        loop.localHolder = spec.exclusive() ? ticket.handedOverBy() : null;
                        return loop.run().doOnNext(ticket::acquired);
                    })
                    .doFinally(s -> ticket.close());
        });
    }

    /**
     * Rounds until a lease or an error: each round is an attempt that emits the lease or completes empty, and between
     * rounds {@link #pause()} waits (or ends the loop with the error to report).
     *
     * <p>{@code localHolder}: the lease of this client's previous head of the line, which left it holding the lock.
     * The first attempt waits until that lease is handed back (or the backoff passed): trying while it is held can only
     * be refused and costs a cleanup release on every node, and a release notification may be an old one (the previous
     * holder's, arriving after the lock changed hands) that would trigger such a futile attempt.
     */
    private Mono<DefaultLease> run() {
        return Mono.defer(this::round)
                .repeatWhenEmpty(rounds -> rounds.concatMap(round -> pause()))
                .doFinally(s -> {
                    if (listener != null) {
                        listener.close();
                    }
                });
    }

    private Mono<DefaultLease> round() {
        if (waitFirst) {
            waitFirst = false; // the caller's attempt already ran: start with its wait
            return Mono.empty();
        }
        DefaultLease holder = localHolder;
        if (holder != null) {
            localHolder = null; // only before the first attempt here
            CompletableFuture<Void> handedBack = holder.handedBack();
            if (!handedBack.isDone()) {
                long wait = Math.max(0, Math.min(options.backoff().delay(1).toNanos(), waitDeadline - owner.now()));
                return Mono.fromFuture(handedBack, true)
                        .timeout(Duration.ofNanos(wait), Mono.empty(), owner.scheduler())
                        .then(Mono.defer(this::attempt));
            }
        }
        return attempt();
    }

    private Mono<DefaultLease> attempt() {
        attempts++;
        if (listener != null) {
            listener.arm();
        }
        long left = waitDeadline - owner.now();
        long timeout = Math.max(TimeUnit.MILLISECONDS.toNanos(1), Math.min(options.nodeTimeout().toNanos(), left));
        cutShort = timeout < options.nodeTimeout().toNanos();
        return owner.attempt(spec, options, Duration.ofNanos(timeout)).flatMap(r -> {
            if (r.lease != null) {
                return Mono.just(r.lease);
            }
            // An attempt cut short by the end of maxWait (to as little as 1 ms) says little about the nodes: a live
            // node may just not have answered in what was left, and its timeout can be recorded before or after the
            // decision. Unless it found the lock held, the error reports the last full attempt (its refusals,
            // connection or auth errors, ...).
            if (!cutShort || last == null || r.contended) {
                last = r;
            }
            return Mono.empty();
        });
    }

    /** The wait before the next round: emits once when it is over, or errors to end the loop. */
    private Mono<Long> pause() {
        AcquireAttempt.Result r = last;
        if (owner.isCloseStarted()) {
            return Mono.error(owner.closedError(spec.name(), "acquire"));
        }
        long left = waitDeadline - owner.now();
        if (left <= 0) {
            return Mono.error(r.contended
                    ? new LockAcquireTimeoutException(spec.name(), options.maxWait(), attempts)
                    : r.unavailable(spec.name()));
        }
        long wait = Math.min(Math.min(options.backoff().delay(attempts).toNanos(), left), spec.maxPauseNanos());
        if (!r.contended) {
            return Mono.delay(Duration.ofNanos(wait), owner.scheduler());
        }
        if (r.call.yesCount() > 0 && splits < MAX_FAST_SPLIT_RETRIES) {
            // A split vote: we won some nodes, others went to other contenders, and the failed attempts release what
            // they got without notifying anyone. The lock is likely free again at once, so retry soon, with a short
            // random delay (growing with repeated splits) to break the tie. After a few in a row (say a holder that
            // owns only part of the nodes), fall back to the normal wait.
            splits++;
            long window = Math.min(wait, SPLIT_RETRY_NANOS << (splits - 1));
            return Mono.delay(Duration.ofNanos(ThreadLocalRandom.current().nextLong(window + 1)), owner.scheduler());
        }
        if (r.holderTtlMillis >= 0) {
            wait = Math.min(wait, TimeUnit.MILLISECONDS.toNanos(r.holderTtlMillis + 1));
        }
        if (listener == null) {
            // First contention: listen for releases, and retry as soon as the subscription stands, so a release that
            // happened meanwhile is not missed.
            listener = owner.notifier().listen(spec.releaseChannel());
            return listener.ready(wait).thenReturn(0L);
        }
        return listener.await(wait).thenReturn(0L);
    }
}
