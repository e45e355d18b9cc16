package dev.redlock;

import java.time.Duration;
import java.time.Instant;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Sinks;
import reactor.util.retry.Retry;

/**
 * A held lease. State: {@code HELD → RELEASING → RELEASED}, or {@code HELD → LOST} (then a release only cleans up).
 */
final class DefaultLease implements Lease {

    private static final int HELD = 0;
    private static final int RELEASING = 1;
    private static final int RELEASED = 2;
    private static final int LOST = 3;

    private final DefaultReactiveRedLock owner;
    private final LockKeys keys;
    private final String token;
    private final long fence;
    private final LockOptions options;
    private final QuorumCall acquireCall;
    private final long acquiredNanos;
    private final int granted;

    private final AtomicInteger state = new AtomicInteger(HELD);
    private volatile Duration leaseTime;
    private volatile long deadlineNanos;
    private volatile int renewals;
    private volatile Throwable lastRenewalFailure;
    private volatile boolean holdLimitReached;
    private volatile LeaseLostException lostError;
    private volatile boolean lossReported;

    private final Sinks.One<LeaseLostException> lostSink = Sinks.one();
    private final AtomicBoolean lossTimerArmed = new AtomicBoolean();
    private volatile Disposable lossTimer;
    private final AtomicReference<Mono<Void>> releaseOutcome = new AtomicReference<>();
    /** Created when a local waiter asks; completed once this lease no longer stands in its way. */
    private final AtomicReference<CompletableFuture<Void>> handBack = new AtomicReference<>();
    private volatile boolean handedBack;

    DefaultLease(
            DefaultReactiveRedLock owner,
            LockKeys keys,
            String token,
            long fence,
            LockOptions options,
            QuorumCall acquireCall,
            long acquiredNanos,
            long deadlineNanos,
            int granted) {
        this.owner = owner;
        this.keys = keys;
        this.token = token;
        this.fence = fence;
        this.options = options;
        this.acquireCall = acquireCall;
        this.acquiredNanos = acquiredNanos;
        this.deadlineNanos = deadlineNanos;
        this.leaseTime = options.leaseTime();
        this.granted = granted;
    }

    // == Data ==

    @Override
    public String key() {
        return keys.key;
    }

    @Override
    public String token() {
        return token;
    }

    @Override
    public OptionalLong fencingToken() {
        return fence < 0 ? OptionalLong.empty() : OptionalLong.of(fence);
    }

    @Override
    public Duration leaseTime() {
        return leaseTime;
    }

    @Override
    public Instant deadline() {
        long wallMillis = owner.scheduler().now(TimeUnit.MILLISECONDS);
        return Instant.ofEpochMilli(wallMillis).plusNanos(deadlineNanos - owner.now());
    }

    @Override
    public Duration remaining() {
        long left = deadlineNanos - owner.now();
        return left > 0 ? Duration.ofNanos(left) : Duration.ZERO;
    }

    @Override
    public boolean isValid() {
        return state.get() == HELD && deadlineNanos - owner.now() > 0;
    }

    @Override
    public int grantedNodes() {
        return granted;
    }

    LockKeys keys() {
        return keys;
    }

    LockOptions options() {
        return options;
    }

    DefaultReactiveRedLock owner() {
        return owner;
    }

    boolean isHeld() {
        return state.get() == HELD;
    }

    /**
     * Completes once this lease stops standing in the way of this client's other waiters for its key: its release
     * was handed to every node's connection (an attempt sent after that reaches each node after the release), or
     * it was lost. Used by the next local waiter in line instead of trying while the lock is certainly held.
     */
    CompletableFuture<Void> handedBack() {
        CompletableFuture<Void> f = handBack.get();
        if (f == null) {
            handBack.compareAndSet(null, new CompletableFuture<>());
            f = handBack.get();
        }
        if (handedBack) { // read after the future is published: a hand-back that missed it is seen here
            f.complete(null);
        }
        return f;
    }

    private void handBack() {
        handedBack = true;
        CompletableFuture<Void> f = handBack.get();
        if (f != null) {
            f.complete(null);
        }
    }

    /** The loss error if the lease was lost, else {@code null}. */
    LeaseLostException lostError() {
        return lostError;
    }

    /**
     * The loss error if the lease was lost or is past its deadline now (then it is marked lost at once, without
     * waiting for the loss timer), else {@code null}.
     */
    LeaseLostException lostAtEnd() {
        if (state.get() == HELD && owner.now() - deadlineNanos >= 0) {
            checkDeadline();
        }
        return lostError;
    }

    // == Actions ==

    @Override
    public Mono<Lease> extend(Duration leaseTime) {
        owner.checkLeaseTime(leaseTime, "leaseTime");
        return Mono.defer(() -> renew(leaseTime));
    }

    /** A renewal of this lease, one script per node ({@link #extend}). */
    private Mono<Lease> renew(Duration newLeaseTime) {
        return Mono.create(sink -> {
            long t1 = owner.now();
            if (!renewalStillNeeded(t1, sink)) {
                return;
            }
            new QuorumCall(
                            owner,
                            LockScript.EXTEND,
                            keys.lockOnly,
                            new String[] {token, Long.toString(newLeaseTime.toMillis())},
                            Duration.ofNanos(renewalTimeoutNanos(t1)),
                            v -> v == 1,
                            true,
                            false,
                            (call, yes, at) -> renewalDecided(call, t1, newLeaseTime, call.yesCount(),
                                    call.countReplies(v -> v <= 0), at, sink))
                    .start(null);
        });
    }

    /** A watchdog renewal: sent with the other leases' renewals of the next few milliseconds ({@link RenewalBatcher}). */
    Mono<Lease> renewInBatch(Duration newLeaseTime) {
        return Mono.create(sink -> owner.renewals().submit(new RenewalBatcher.Request(this, newLeaseTime, sink)));
    }

    String lockKey() {
        return keys.lock;
    }

    /**
     * Whether a renewal sent at {@code t1} can still help; if not, {@code sink} has got the answer: the loss, or
     * that the lease was released.
     */
    boolean renewalStillNeeded(long t1, MonoSink<Lease> sink) {
        int s = state.get();
        if (s == LOST) {
            lossReported = true;
            sink.error(lostError);
            return false;
        }
        if (s != HELD) {
            sink.error(new IllegalStateException("lease on '" + keys.key + "' was released; it cannot be extended"));
            return false;
        }
        if (t1 - deadlineNanos >= 0) {
            lossReported = true;
            sink.error(markLost(
                    lastRenewalFailure != null
                            ? LeaseLostException.Reason.RENEWAL_FAILED
                            : LeaseLostException.Reason.EXPIRED,
                    null));
            return false;
        }
        return true;
    }

    /**
     * How long the nodes of a renewal sent at {@code t1} may take. A renewal is not in a hurry: it has until the
     * deadline to reach a quorum. Its nodes may take up to half the time that is left (at least nodeTimeout), so a
     * node slowed down by load (a burst of renewals, a starved CPU) still counts, and a failed renewal leaves time
     * for a retry. With nodeTimeout alone, a load spike turned renewals into timeouts, their retries into more load,
     * and 10,000 held leases into 9,600 lost ones.
     */
    long renewalTimeoutNanos(long t1) {
        return Math.max(options.nodeTimeout().toNanos(), (deadlineNanos - t1) / 2);
    }

    /**
     * The outcome of a renewal sent at {@code t1}: {@code renewed} nodes renewed this lease's key, {@code gone} nodes
     * answered that it holds no key of ours (or another owner's); the other nodes failed (in {@code call}).
     */
    void renewalDecided(QuorumCall call, long t1, Duration newLeaseTime, int renewed, int gone, long at,
            MonoSink<Lease> sink) {
        boolean yes = renewed >= call.quorum();
        if (yes && at - deadlineNanos < 0 && state.get() == HELD) {
            deadlineNanos = t1 + newLeaseTime.toNanos() - options.driftNanos(newLeaseTime);
            leaseTime = newLeaseTime;
            renewals++;
            lastRenewalFailure = null;
            owner.eventBus().lease(LockEvent.Type.RENEWED, keys.key, token, Duration.ofNanos(deadlineNanos - at), null);
            sink.success(this);
            return;
        }
        if (state.get() != HELD) {
            sink.error(lostError != null ? lostError
                    : new IllegalStateException("lease on '" + keys.key + "' was released"));
        } else if (yes || at - deadlineNanos >= 0) {
            // A quorum renewed, but only after the deadline: the lease had already ended.
            lossReported = true;
            sink.error(markLost(LeaseLostException.Reason.RENEWAL_FAILED, null));
        } else if (gone >= call.nodeCount() - call.quorum() + 1) {
            lossReported = true;
            sink.error(markLost(LeaseLostException.Reason.KEY_LOST, null));
        } else {
            QuorumUnavailableException e = new QuorumUnavailableException(keys.key, "extend", call.nodeCount(),
                    call.quorum(), renewed, Duration.ofNanos(at - t1), false, call.failures());
            lastRenewalFailure = e;
            owner.eventBus().lease(LockEvent.Type.RENEWAL_FAILED, keys.key, token, remaining(), e);
            sink.error(e);
        }
    }

    @Override
    public Mono<Void> release() {
        return Mono.defer(() -> {
            Mono<Void> outcome = releaseOutcome.get();
            if (outcome != null) {
                return outcome;
            }
            Sinks.One<Void> result = Sinks.one();
            if (!releaseOutcome.compareAndSet(null, result.asMono())) {
                return releaseOutcome.get();
            }
            startRelease(result);
            return result.asMono();
        });
    }

    /**
     * Release driven by a {@code withLock} scope: a loss was already reported to the subscriber there. A lost lease
     * is not waited for (its keys are already being removed), so the loss reaches the subscriber by the deadline.
     */
    Mono<Void> releaseFromScope() {
        lossReported = true;
        if (state.get() == LOST) {
            return Mono.empty();
        }
        return release().onErrorResume(LeaseLostException.class, e -> Mono.empty());
    }

    private void startRelease(Sinks.One<Void> result) {
        long now = owner.now();
        boolean wasHeld = state.compareAndSet(HELD, RELEASING);
        boolean expired = wasHeld && now - deadlineNanos >= 0;
        disarmLossTimer();
        owner.untrack(this);
        QuorumCall release = new QuorumCall(
                        owner,
                        owner.releaseScript(),
                        keys.lockOnly,
                        new String[] {token, keys.channel},
                        options.nodeTimeout(),
                        v -> v == 1,
                        // done once a quorum released (the lease can no longer be valid anywhere that matters); the
                        // other nodes' releases still go out and finish in the background
                        true,
                        false,
                        (call, yes, at) -> {
                            if (wasHeld) {
                                state.set(RELEASED);
                                lostSink.tryEmitEmpty();
                                owner.eventBus().lease(LockEvent.Type.RELEASED, keys.key, token,
                                        Duration.ofNanos(at - acquiredNanos), null);
                            }
                            LeaseLostException loss = null;
                            if (!wasHeld) {
                                loss = lostError;
                            } else if (expired) {
                                loss = newLoss(LeaseLostException.Reason.EXPIRED, null);
                            } else if (call.countReplies(v -> v <= 0) >= call.nodeCount() - call.quorum() + 1) {
                                loss = newLoss(LeaseLostException.Reason.KEY_LOST, null);
                            }
                            if (loss != null && !lossReported) {
                                lossReported = true;
                                result.tryEmitError(loss);
                            } else {
                                result.tryEmitEmpty();
                            }
                        })
                .start(acquireCall);
        if (wasHeld) {
            release.allWritten().thenRun(() -> {
                handBack();
                owner.notifier().releasedLocally(keys.channel);
            });
        }
    }

    @Override
    public Mono<LeaseLostException> lost() {
        return Mono.defer(() -> {
            armLossTimer();
            return lostSink.asMono();
        });
    }

    // == Loss detection ==

    private void armLossTimer() {
        if (lossTimerArmed.compareAndSet(false, true)) {
            scheduleDeadlineCheck();
        }
    }

    private void scheduleDeadlineCheck() {
        if (state.get() != HELD) {
            return;
        }
        long delay = Math.max(0, deadlineNanos - owner.now());
        lossTimer = owner.scheduler().schedule(this::checkDeadline, delay, TimeUnit.NANOSECONDS);
    }

    private void checkDeadline() {
        if (state.get() != HELD) {
            return;
        }
        if (deadlineNanos - owner.now() > 0) {
            scheduleDeadlineCheck(); // renewed meanwhile: sleep until the new deadline
            return;
        }
        LeaseLostException.Reason reason = holdLimitReached
                ? LeaseLostException.Reason.MAX_HOLD_TIME_EXCEEDED
                : lastRenewalFailure != null ? LeaseLostException.Reason.RENEWAL_FAILED : LeaseLostException.Reason.EXPIRED;
        markLost(reason, lastRenewalFailure);
    }

    private void disarmLossTimer() {
        Disposable t = lossTimer;
        if (t != null) {
            t.dispose();
        }
    }

    private LeaseLostException newLoss(LeaseLostException.Reason reason, Throwable cause) {
        return new LeaseLostException(keys.key, deadline(), reason, renewals, cause != null ? cause : lastRenewalFailure);
    }

    /** Marks the lease lost (once), tells {@link #lost()} subscribers, and cleans up its keys. */
    LeaseLostException markLost(LeaseLostException.Reason reason, Throwable cause) {
        LeaseLostException e = newLoss(reason, cause);
        if (state.compareAndSet(HELD, LOST)) {
            lostError = e;
            disarmLossTimer();
            owner.untrack(this);
            owner.eventBus().lease(LockEvent.Type.LOST, keys.key, token, Duration.ZERO, e);
            lostSink.tryEmitValue(e);
            handBack();
            // Whatever keys of ours remain are worthless now: remove them so others need not wait for the TTL.
            owner.releaseEverywhere(keys, token, acquireCall, true);
            return e;
        }
        return lostError != null ? lostError : e;
    }

    // == Watchdog ==

    /**
     * Renews every {@link LockOptions#renewalInterval()} until the lease is released or lost, retrying a failed
     * renewal quickly while the lease is still valid; stops renewing after the maximum hold time. The returned
     * Disposable stops it.
     */
    Disposable startWatchdog() {
        armLossTimer();
        owner.watchdogCounter().incrementAndGet();
        Duration period = options.renewalInterval();
        Duration retryDelay = Duration.ofNanos(Math.max(
                TimeUnit.MILLISECONDS.toNanos(1), Math.min(period.toNanos() / 4, options.nodeTimeout().toNanos())));
        // The first renewal comes at a random point of the last tenth of the period, so many leases taken together
        // (a burst of scopes) do not all renew in the same instant.
        long first = period.toNanos() - java.util.concurrent.ThreadLocalRandom.current().nextLong(period.toNanos() / 10 + 1);
        Flux<Long> ticks = Flux.interval(Duration.ofNanos(first), period, owner.scheduler());
        if (options.maxHoldTime().isPresent()) {
            ticks = ticks.takeUntilOther(Mono.delay(options.maxHoldTime().get(), owner.scheduler())
                    .doOnNext(x -> holdLimitReached = true));
        }
        return ticks.onBackpressureDrop()
                .concatMap(
                        tick -> renewInBatch(leaseTime)
                                .retryWhen(Retry.fixedDelay(Long.MAX_VALUE, retryDelay)
                                        .scheduler(owner.scheduler())
                                        .filter(e -> e instanceof QuorumUnavailableException && isHeld()))
                                .then()
                                .onErrorResume(e -> Mono.empty()),
                        0)
                .takeUntilOther(lostSink.asMono().then(Mono.just(true)).defaultIfEmpty(true))
                .doFinally(s -> owner.watchdogCounter().decrementAndGet())
                .subscribe();
    }
}
