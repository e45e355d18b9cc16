package dev.redlock.internal.lease;

import dev.redlock.Lease;
import dev.redlock.LeaseLostException;
import dev.redlock.LockEvent;
import dev.redlock.LockOptions;
import dev.redlock.QuorumUnavailableException;
import dev.redlock.internal.engine.Engine;
import dev.redlock.internal.engine.LeaseSpec;
import dev.redlock.internal.quorum.QuorumCall;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Sinks;

/**
 * A held lease. State: {@code HELD → RELEASING → RELEASED}, or {@code HELD → LOST} (then a release only cleans up).
 */
public final class DefaultLease implements Lease {

    private static final int HELD = 0;
    private static final int RELEASING = 1;
    private static final int RELEASED = 2;
    private static final int LOST = 3;

    private final Engine owner;
    private final LeaseSpec spec;
    private final String token;
    private final long fence;
    private final LockOptions options;
    private final QuorumCall acquireCall;
    private final long acquiredNanos;
    private final int granted;

    private final AtomicInteger state = new AtomicInteger(HELD);
    /** For a semaphore's lease: 0 until its permits are reported held, 1 while they are, 2 once they are not. */
    private volatile int permitsReported;
    private static final AtomicIntegerFieldUpdater<DefaultLease> PERMITS_REPORTED =
            AtomicIntegerFieldUpdater.newUpdater(DefaultLease.class, "permitsReported");
    private volatile Duration leaseTime;
    private volatile long deadlineNanos;
    private volatile int renewals;
    private volatile Throwable lastRenewalFailure;
    private volatile boolean holdLimitReached;
    private volatile LeaseLostException lostError;
    /** Set when {@code close()} of the client ended this lease while it was held. */
    private volatile LeaseLostException closedError;
    private volatile boolean lossReported;

    /** Renewals sent and not decided yet, as {sequence, deadline they give}; guarded by itself. */
    private final ArrayDeque<long[]> renewalsInFlight = new ArrayDeque<>(2);
    private long renewalSequence; // guarded by renewalsInFlight
    private volatile Watchdog watchdog;

    private final Sinks.One<LeaseLostException> lostSink = Sinks.one();
    private final AtomicBoolean lossTimerArmed = new AtomicBoolean();
    private final AtomicLong lossTimerGeneration = new AtomicLong();
    private final AtomicReference<Disposable> lossTimer = new AtomicReference<>();
    private final AtomicReference<Mono<Void>> releaseOutcome = new AtomicReference<>();
    /** Created when a local waiter asks; completed once this lease no longer stands in its way. */
    private final AtomicReference<CompletableFuture<Void>> handBack = new AtomicReference<>();
    private volatile boolean handedBack;

    public DefaultLease(
            Engine owner,
            LeaseSpec spec,
            String token,
            long fence,
            LockOptions options,
            QuorumCall acquireCall,
            long acquiredNanos,
            long deadlineNanos,
            int granted) {
        this.owner = owner;
        this.spec = spec;
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
        return spec.name();
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

    LeaseSpec spec() {
        return spec;
    }

    LockOptions options() {
        return options;
    }

    Engine owner() {
        return owner;
    }

    boolean isHeld() {
        return state.get() == HELD;
    }

    /** Released (or being released) by its owner or by close(); a lost lease is not. */
    boolean isReleased() {
        int s = state.get();
        return s == RELEASING || s == RELEASED;
    }

    /**
     * Completes once this lease stops standing in the way of this client's other waiters for its key: its release
     * was handed to every node's connection (an attempt sent after that reaches each node after the release), or
     * it was lost. Used by the next local waiter in line instead of trying while the lock is certainly held.
     */
    public CompletableFuture<Void> handedBack() {
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
    public LeaseLostException lostAtEnd() {
        if (state.get() == HELD && owner.now() - deadlineNanos >= 0) {
            checkDeadline(lossTimerGeneration.get());
        }
        LeaseLostException closed = closedError;
        return lostError != null ? lostError : closed;
    }

    // == Actions ==

    @Override
    public Mono<Lease> extend(Duration leaseTime) {
        owner.checkLeaseTime(leaseTime, "leaseTime");
        checkLeavesValidity(leaseTime);
        return Mono.defer(() -> renew(leaseTime));
    }

    /** A lease time so short that drift and one node timeout use it up would give a deadline in the past. */
    private void checkLeavesValidity(Duration newLeaseTime) {
        long driftMillis = TimeUnit.NANOSECONDS.toMillis(options.driftNanos(newLeaseTime) + 999_999);
        if (options.nodeTimeout().toMillis() + driftMillis >= newLeaseTime.toMillis()) {
            throw new IllegalArgumentException("leaseTime " + newLeaseTime + " leaves no validity: the node timeout ("
                    + options.nodeTimeout() + ") plus the clock drift (" + driftMillis + " ms) must be shorter");
        }
    }

    /** A renewal of this lease, one script per node ({@link #extend}). */
    private Mono<Lease> renew(Duration newLeaseTime) {
        return Mono.create(sink -> {
            long t1 = owner.now();
            long sequence = beginRenewal(t1, newLeaseTime, sink);
            if (sequence < 0) {
                return;
            }
            QuorumCall call = new QuorumCall(
                    owner,
                    spec.renewScript(),
                    spec.quorumRule(),
                    spec.renewKeys(),
                    spec.renewArgs(token, newLeaseTime),
                    Duration.ofNanos(renewalTimeoutNanos(t1)),
                    v -> v == 1,
                    true,
                    false,
                    (c, yes, at) -> renewalDecided(c, sequence, t1, newLeaseTime, c.yesCount(),
                            c.countReplies(v -> v <= 0), at, sink));
            call.start(null);
        });
    }

    /** A watchdog renewal: sent with the other leases' renewals of the next few milliseconds ({@link RenewalBatcher}). */
    public Mono<Lease> renewInBatch(Duration newLeaseTime) {
        if (spec.batchRenewScript() == null) {
            return renew(newLeaseTime);
        }
        return Mono.create(sink -> owner.renewals().submit(new RenewalBatcher.Request(this, newLeaseTime, sink)));
    }

    /** The key this lease's batched renewal renews ({@link LeaseSpec#batchKey()}). */
    String batchKey() {
        return spec.batchKey();
    }

    /**
     * Registers a renewal about to be sent at {@code t1}, or answers {@code sink} at once when it can no longer help
     * (the loss, or that the lease was released) and returns -1.
     *
     * <p>A renewal that may reach the nodes can shorten the keys' life (a shorter lease time than before): the
     * deadline moves to {@code min(current, t1 + newLeaseTime - drift)} before it is sent, whatever its outcome. If
     * it only moved on success, a renewal whose replies were lost would leave the lease valid for its old deadline
     * while its keys expire at the new one, and another owner could acquire while {@link #isValid()} says true.
     *
     * @return the renewal's sequence number, for {@link #renewalDecided}
     */
    long beginRenewal(long t1, Duration newLeaseTime, MonoSink<Lease> sink) {
        int s = state.get();
        if (s == LOST) {
            lossReported = true;
            sink.error(lostError);
            return -1;
        }
        if (s != HELD) {
            LeaseLostException closed = closedError;
            sink.error(closed != null ? closed
                    : new IllegalStateException("lease on '" + spec.name() + "' was released; it cannot be extended"));
            return -1;
        }
        if (t1 - deadlineNanos >= 0) {
            lossReported = true;
            sink.error(markLost(
                    lastRenewalFailure != null
                            ? LeaseLostException.Reason.RENEWAL_FAILED
                            : LeaseLostException.Reason.EXPIRED,
                    null));
            return -1;
        }
        long candidate = t1 + newLeaseTime.toNanos() - options.driftNanos(newLeaseTime);
        long sequence;
        boolean lowered = false;
        boolean changed = !newLeaseTime.equals(leaseTime);
        synchronized (renewalsInFlight) {
            sequence = ++renewalSequence;
            renewalsInFlight.addLast(new long[] {sequence, candidate});
            if (candidate - deadlineNanos < 0) {
                deadlineNanos = candidate;
                lowered = true;
            }
            leaseTime = newLeaseTime; // the lease time last asked for, also what the watchdog renews with
        }
        if (lowered) {
            rescheduleLossTimer();
        }
        Watchdog w = watchdog;
        if (changed && w != null) {
            w.leaseTimeChanged();
        }
        return sequence;
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
     * The outcome of renewal {@code sequence} sent at {@code t1}: {@code renewed} nodes renewed this lease's key,
     * {@code gone} nodes answered that it holds no key of ours (or another owner's); the other nodes failed (in
     * {@code call}).
     *
     * <p>On success the deadline becomes {@code t1 + newLeaseTime - drift}, but never later than what a renewal sent
     * after this one (still in flight) gives: that one reaches each node after this one and sets the keys' TTL last.
     */
    void renewalDecided(QuorumCall call, long sequence, long t1, Duration newLeaseTime, int renewed, int gone, long at,
            MonoSink<Lease> sink) {
        boolean yes = renewed >= call.quorum();
        long candidate = t1 + newLeaseTime.toNanos() - options.driftNanos(newLeaseTime);
        boolean moved = false;
        synchronized (renewalsInFlight) {
            renewalsInFlight.removeIf(r -> r[0] == sequence);
            if (yes && at - deadlineNanos < 0 && state.get() == HELD) {
                long next = candidate;
                for (long[] later : renewalsInFlight) {
                    if (later[0] > sequence && later[1] - next < 0) {
                        next = later[1];
                    }
                }
                deadlineNanos = next;
                moved = true;
            }
        }
        if (moved) {
            rescheduleLossTimer();
            renewals++;
            lastRenewalFailure = null;
            owner.eventBus().lease(LockEvent.Type.RENEWED, spec.name(), token, Duration.ofNanos(deadlineNanos - at), null);
            sink.success(this);
            return;
        }
        if (state.get() != HELD) {
            LeaseLostException closed = closedError;
            sink.error(lostError != null ? lostError
                    : closed != null ? closed
                    : new IllegalStateException("lease on '" + spec.name() + "' was released"));
        } else if (yes || at - deadlineNanos >= 0) {
            // A quorum renewed, but only after the deadline: the lease had already ended.
            lossReported = true;
            sink.error(markLost(LeaseLostException.Reason.RENEWAL_FAILED, null));
        } else if (gone >= call.nodeCount() - call.quorum() + 1) {
            lossReported = true;
            sink.error(markLost(LeaseLostException.Reason.KEY_LOST, null));
        } else {
            QuorumUnavailableException e = new QuorumUnavailableException(spec.name(), QuorumUnavailableException.Operation.EXTEND, call.nodeCount(),
                    call.quorum(), renewed, Duration.ofNanos(at - t1), false, call.failures());
            lastRenewalFailure = e;
            owner.eventBus().lease(LockEvent.Type.RENEWAL_FAILED, spec.name(), token, remaining(), e);
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
     * is not waited for (its keys are already being removed), so the loss reaches the subscriber by the deadline. A
     * release that cannot be confirmed is not the scope's error either: its body ran under a valid lease; the keys
     * left behind expire with the lease time, and {@link LockEvent.Type#RELEASE_UNCONFIRMED} tells.
     */
    Mono<Void> releaseFromScope() {
        lossReported = true;
        if (state.get() == LOST) {
            return Mono.empty();
        }
        return release().onErrorResume(e -> Mono.empty());
    }

    /**
     * Ends this lease because the client closes: scopes see {@link LeaseLostException.Reason#CLIENT_CLOSED} (their
     * body is cancelled), {@link #lost()} emits it, and the keys are released. Completes when the release is
     * decided; its slower nodes are tracked by the client, which waits for them before closing connections.
     */
    public Mono<Void> releaseOnClose() {
        if (state.get() == HELD && closedError == null) {
            LeaseLostException e = newLoss(LeaseLostException.Reason.CLIENT_CLOSED, null);
            closedError = e;
            lossReported = true; // told through lost() and the scopes, not again by release()
            lostSink.tryEmitValue(e);
        }
        return release().onErrorResume(e -> Mono.empty());
    }

    private void startRelease(Sinks.One<Void> result) {
        long now = owner.now();
        if (owner.isClosed()) {
            // the connections are gone; close() released every lease that was held when it started
            LeaseLostException loss = lostError;
            if (loss != null && !lossReported) {
                lossReported = true;
                result.tryEmitError(loss);
            } else if (loss != null) {
                result.tryEmitEmpty();
            } else {
                result.tryEmitError(owner.closedError(spec.name(), "release"));
            }
            return;
        }
        boolean wasHeld = state.compareAndSet(HELD, RELEASING);
        boolean expired = wasHeld && now - deadlineNanos >= 0;
        if (wasHeld && options.adaptiveLeaseTime() && closedError == null) {
            // a hold cut short by close() says nothing about how long the holder needed
            owner.holdTimes().record(spec.name(), now - acquiredNanos);
        }
        disarmLossTimer();
        owner.untrack(this);
        QuorumCall release = new QuorumCall(
                        owner,
                        spec.releaseScript(),
                        spec.quorumRule(),
                        spec.releaseKeys(),
                        spec.releaseArgs(token, true),
                        Engine.releaseTimeout(options),
                        v -> v == 1,
                        // done once a quorum released (the lease can no longer be valid anywhere that matters); the
                        // other nodes' releases still go out and finish in the background
                        true,
                        false,
                        (call, yes, at) -> releaseDecided(call, yes, at, wasHeld, expired, result));
        release.start(acquireCall);
        owner.trackRelease(release);
        if (wasHeld) {
            release.allWritten().thenRun(() -> {
                handBack();
                owner.notifier().releasedLocally(spec.releaseChannel());
            });
        }
    }

    /**
     * What a release tells its caller. The lease is over when at least {@code N - quorum + 1} nodes answered that
     * they no longer hold it (released now, or no key of ours): then no quorum can hold it any more. With fewer
     * answers nothing is known (the keys may still be on a quorum until they expire), and the caller gets a
     * {@link QuorumUnavailableException} instead of a success it cannot rely on.
     */
    private void releaseDecided(QuorumCall call, boolean yes, long at, boolean wasHeld, boolean expired,
            Sinks.One<Void> result) {
        int n = call.nodeCount();
        int released = call.countReplies(v -> v == 1);
        int gone = call.countReplies(v -> v <= 0);
        boolean ended = yes || released + gone >= n - call.quorum() + 1;
        LeaseLostException loss = null;
        if (!wasHeld) {
            loss = lostError;
        } else if (expired) {
            loss = newLoss(LeaseLostException.Reason.EXPIRED, null);
        } else if (gone >= n - call.quorum() + 1) {
            loss = newLoss(LeaseLostException.Reason.KEY_LOST, null);
        }
        QuorumUnavailableException unknown = ended ? null
                : new QuorumUnavailableException(spec.name(), QuorumUnavailableException.Operation.RELEASE, n, call.quorum(), released,
                        Duration.ofNanos(at - call.startNanos()), false, call.failures());
        if (wasHeld) {
            state.set(RELEASED);
            lostSink.tryEmitEmpty();
            owner.eventBus().lease(ended ? LockEvent.Type.RELEASED : LockEvent.Type.RELEASE_UNCONFIRMED, spec.name(),
                    token, Duration.ofNanos(at - acquiredNanos), unknown);
            uncountPermits();
        }
        if (loss != null && !lossReported) {
            lossReported = true;
            result.tryEmitError(loss);
        } else if (unknown != null && closedError == null) {
            result.tryEmitError(unknown);
        } else {
            result.tryEmitEmpty();
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

    /** The deadline moved: an armed loss timer must fire at the new one (earlier, or later after a renewal). */
    private void rescheduleLossTimer() {
        if (lossTimerArmed.get()) {
            scheduleDeadlineCheck();
        }
    }

    /**
     * Schedules the check at the current deadline. Each schedule gets a new generation; a check of an older one does
     * nothing, so only the latest timer counts even when two schedules race.
     */
    private void scheduleDeadlineCheck() {
        if (state.get() != HELD) {
            return;
        }
        long generation = lossTimerGeneration.incrementAndGet();
        long delay = Math.max(0, deadlineNanos - owner.now());
        Disposable timer = owner.scheduler().schedule(() -> checkDeadline(generation), delay, TimeUnit.NANOSECONDS);
        Disposable previous = lossTimer.getAndSet(timer);
        if (previous != null) {
            previous.dispose();
        }
    }

    private void checkDeadline(long generation) {
        if (state.get() != HELD || generation != lossTimerGeneration.get()) {
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
        lossTimerGeneration.incrementAndGet();
        Disposable t = lossTimer.getAndSet(null);
        if (t != null) {
            t.dispose();
        }
    }

    private LeaseLostException newLoss(LeaseLostException.Reason reason, Throwable cause) {
        return new LeaseLostException(spec.name(), deadline(), reason, renewals, cause != null ? cause : lastRenewalFailure);
    }

    /** Marks the lease lost (once), tells {@link #lost()} subscribers, and cleans up its keys. */
    LeaseLostException markLost(LeaseLostException.Reason reason, Throwable cause) {
        LeaseLostException e = newLoss(reason, cause);
        if (state.compareAndSet(HELD, LOST)) {
            lostError = e;
            if (reason == LeaseLostException.Reason.EXPIRED && options.adaptiveLeaseTime()) {
                // the holder outlived its lease: it needed at least this long, which the next lease time should cover
                owner.holdTimes().record(spec.name(), owner.now() - acquiredNanos);
            }
            disarmLossTimer();
            owner.untrack(this);
            owner.eventBus().lease(LockEvent.Type.LOST, spec.name(), token, Duration.ZERO, e);
            uncountPermits();
            lostSink.tryEmitValue(e);
            handBack();
            // Whatever keys of ours remain are worthless now: remove them so others need not wait for the TTL.
            owner.releaseEverywhere(spec, token, acquireCall, true);
            return e;
        }
        return lostError != null ? lostError : e;
    }

    // == Watchdog ==

    /** The watchdog reached the maximum hold time: a loss at the deadline is {@code MAX_HOLD_TIME_EXCEEDED}. */
    void holdLimitReached() {
        holdLimitReached = true;
    }

    /**
     * Starts renewing this lease ({@link Watchdog}) and arms the loss timer; the returned Disposable stops the
     * renewals.
     */
    Disposable startWatchdog() {
        armLossTimer();
        Watchdog w = new Watchdog(this, owner);
        watchdog = w;
        return w.start();
    }

    /**
     * Reports a semaphore lease's permits held, once it reached its subscriber; an end that came first (a cancel)
     * wins, so the metrics never count permits of a lease that ended.
     */
    public void countPermits() {
        if (spec.heldPermits() > 0 && PERMITS_REPORTED.compareAndSet(this, 0, 1)) {
            owner.eventBus().permits(spec.name(), spec.heldPermits());
        }
    }

    /** Reports a semaphore lease's permits no longer held, if they were reported held. */
    private void uncountPermits() {
        if (spec.heldPermits() > 0 && PERMITS_REPORTED.getAndSet(this, 2) == 1) {
            owner.eventBus().permits(spec.name(), -spec.heldPermits());
        }
    }
}
