package dev.redlock.internal.acquire;

import dev.redlock.LockOptions;
import dev.redlock.QuorumUnavailableException;
import dev.redlock.internal.Tokens;
import dev.redlock.internal.engine.Engine;
import dev.redlock.internal.engine.LeaseSpec;
import dev.redlock.internal.engine.ValidityRule;
import dev.redlock.internal.lease.DefaultLease;
import dev.redlock.internal.quorum.QuorumCall;
import dev.redlock.internal.script.LockScript;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongPredicate;
import reactor.core.publisher.Mono;

/**
 * One Redlock acquire attempt: the acquire script to all nodes in parallel, the validity check after the deciding
 * reply, the optional fencing write-back, and the release on every node when the attempt fails or is cancelled.
 *
 * <p>T1 is read before the first command is sent; T2 in the continuation that delivered the deciding reply. The
 * lease is valid until {@code T1 + lease − drift} and only granted if T2 is before that. A pause anywhere before T2
 * is read therefore only makes the attempt fail.
 */
public final class AcquireAttempt implements QuorumCall.Listener, LongPredicate {

    private static final int RUNNING = 0;
    private static final int FINISHED = 1;
    private static final int CANCELLED = 2;

    /** What an attempt produced. */
    public static final class Result {
        public final DefaultLease lease;
        public final boolean contended;
        final long holderTtlMillis;
        final QuorumCall call;
        final boolean validityExpired;
        final long elapsedNanos;
        public final QuorumUnavailableException.Operation operation;

        Result(DefaultLease lease, boolean contended, long holderTtlMillis, QuorumCall call, boolean validityExpired,
                long elapsedNanos, QuorumUnavailableException.Operation operation) {
            this.lease = lease;
            this.contended = contended;
            this.holderTtlMillis = holderTtlMillis;
            this.call = call;
            this.validityExpired = validityExpired;
            this.elapsedNanos = elapsedNanos;
            this.operation = operation;
        }

        public QuorumUnavailableException unavailable(String key) {
            return new QuorumUnavailableException(key, operation, call.nodeCount(), call.quorum(), call.yesCount(),
                    Duration.ofNanos(elapsedNanos), validityExpired, call.failures());
        }
    }

    private final Engine owner;
    private final LeaseSpec spec;
    private final LockOptions options;
    private final Duration nodeTimeout;
    private final HandOff.Emitter<Result> sink;
    private final String token;
    private final AtomicInteger state = new AtomicInteger(RUNNING);
    private final long driftNanos;
    private long t1;
    private long deadline;
    private QuorumCall acquire;
    private long fence = -1;
    /** The spec's grant rule for this attempt, or null for {@link LeaseSpec#granted(long)}. */
    private final LongPredicate grants;

    /**
     * One attempt, started on subscribe: emits its result (a lease, or why there is none); a cancel before the result
     * releases the attempt's keys on every node, and a lease granted as the cancel comes is released, never lost.
     */
    public static Mono<Result> attempt(Engine owner, LeaseSpec spec, LockOptions options, Duration nodeTimeout) {
        return new HandOff<Result>(
                emitter -> new AcquireAttempt(owner, spec, options, nodeTimeout, emitter).start(),
                result -> {
                    if (result.lease != null) {
                        result.lease.release().subscribe(v -> { }, e -> { });
                    }
                });
    }

    private AcquireAttempt(
            Engine owner, LeaseSpec spec, LockOptions options, Duration nodeTimeout, HandOff.Emitter<Result> sink) {
        this.owner = owner;
        this.nodeTimeout = nodeTimeout;
        this.spec = spec;
        this.options = options;
        this.sink = sink;
        this.driftNanos = options.driftNanos(options.leaseTime());
        this.grants = spec.attemptGrants();
        String prefix = spec.tokenPrefix();
        this.token = prefix.isEmpty() ? Tokens.next() : prefix + Tokens.next();
    }

    private void start() {
        // close() waits for the attempts that began: each one that begins ends with one endAttempt() (on leaving
        // RUNNING), once it can no longer grant a lease
        if (!owner.beginAttempt()) {
            sink.error(owner.closedError(spec.name(), "acquire"));
            return;
        }
        t1 = owner.now();
        deadline = t1 + options.leaseTime().toNanos() - driftNanos;
        acquire = new QuorumCall(
                        owner,
                spec.acquireScript(),
                spec.quorumRule(),
                spec.acquireKeys(),
                spec.acquireArgs(token, options.leaseTime(), options),
                nodeTimeout,
                this,
                true,
                true,
                this);
        spec.attemptStarted(acquire);
        acquire.start(null);
        // Registered after the commands are on their way, so a cancel (even one that came before this subscription
        // started) releases each node after that node's acquire, never before it.
        sink.onCancel(this::cancel);
    }

    /** Whether a node's reply to the acquire script grants (the spec says; the attempt itself, to spare a lambda). */
    @Override
    public boolean test(long reply) {
        return grants == null ? spec.granted(reply) : grants.test(reply);
    }

    @Override
    public void decided(QuorumCall call, boolean yes, long at) {
        if (call == acquire) {
            onAcquireDecided(yes, at);
        } else {
            onFenceDecided(call, yes, at);
        }
    }

    private void onAcquireDecided(boolean yes, long at) {
        if (!yes) {
            int denied = acquire.countReplies(v -> !test(v));
            long ttl = -1;
            for (int i = 0; i < acquire.nodeCount(); i++) {
                Long v = acquire.countedReply(i);
                if (v == null || test(v)) {
                    continue;
                }
                RuntimeException error = spec.refusalError(v);
                if (error != null) {
                    failWith(error);
                    return;
                }
                spec.refused(v);
                long holderTtl = spec.holderTtlMillis(v);
                if (holderTtl >= 0) {
                    ttl = ttl < 0 ? holderTtl : Math.min(ttl, holderTtl);
                }
            }
            fail(denied > 0 && acquire.failureCount() <= acquire.nodeCount() - acquire.quorum(), ttl, false, at);
            return;
        }
        if (!owner.validityRule().grantable(at, deadline)) {
            fail(false, -1, true, at);
            return;
        }
        if (!spec.fenced(options)) {
            succeed(at);
            return;
        }
        long max = 0;
        for (int i = 0; i < acquire.nodeCount(); i++) {
            Long v = acquire.countedReply(i);
            if (v != null && test(v)) {
                max = Math.max(max, v);
            }
        }
        if (max >= LockScript.MAX_EXACT) {
            // The next token would not fit a Lua number exactly: the nodes could no longer compare counters, and
            // a resource could no longer order tokens. Someone wrote such a counter; refuse rather than repeat one.
            failWith(new IllegalStateException("the fencing counter of '" + spec.name() + "' is " + max
                    + ", at the end of the exact integers a Lua number holds (2^53 - 1): no larger token can be made"));
            return;
        }
        fence = max + 1;
        if (state.get() != RUNNING) {
            return; // cancelled: the release is already on its way
        }
        new QuorumCall(
                        owner,
                        spec.fenceScript(),
                        spec.quorumRule(),
                        spec.acquireKeys(),
                        spec.fenceArgs(token, fence),
                        options.nodeTimeout(),
                        v -> v == 1,
                        true,
                        false,
                        this)
                .start(acquire);
    }

    private void onFenceDecided(QuorumCall call, boolean yes, long at) {
        if (!yes) {
            fail(false, -1, false, at, call, QuorumUnavailableException.Operation.FENCING_WRITE_BACK);
        } else if (!ValidityRule.BEFORE_DEADLINE.grantable(at, deadline)) {
            fail(false, -1, true, at, call, QuorumUnavailableException.Operation.FENCING_WRITE_BACK);
        } else {
            succeed(at);
        }
    }

    private void succeed(long at) {
        DefaultLease lease = new DefaultLease(owner, spec, token, fence, options, acquire, t1, deadline,
                acquire.yesCount());
        if (state.compareAndSet(RUNNING, FINISHED)) {
            owner.track(lease);
            owner.endAttempt();
            // The recorder hears of the lease (and a semaphore's permits) before the hand-over, so the metrics count
            // it while its holder runs (a body may run inside sink.success); events() subscribers after it, so one
            // that reacts to ACQUIRED finds the lease delivered.
            Duration validity = Duration.ofNanos(deadline - at);
            owner.eventBus().recordAcquired(spec.name(), validity);
            lease.countPermits();
            // Handed over before anything else can run: a cancel that comes from now on finds the result either
            // delivered (the subscriber owns the lease) or still undelivered, and the hand-off releases it.
            sink.success(new Result(lease, false, -1, acquire, false, at - t1, QuorumUnavailableException.Operation.ACQUIRE));
            owner.eventBus().emitAcquired(spec.name(), token, validity);
        }
        // else: cancelled meanwhile, and cancel() already released everywhere
    }

    private void fail(boolean contended, long holderTtlMillis, boolean validityExpired, long at) {
        fail(contended, holderTtlMillis, validityExpired, at, acquire, QuorumUnavailableException.Operation.ACQUIRE);
    }

    private void fail(boolean contended, long holderTtlMillis, boolean validityExpired, long at, QuorumCall call,
            QuorumUnavailableException.Operation operation) {
        if (state.compareAndSet(RUNNING, FINISHED)) {
            // Release on ALL nodes, also those that said no or did not answer: a late or unseen grant must not linger.
            owner.releaseEverywhere(spec, token, acquire, false);
            owner.endAttempt();
            sink.success(new Result(null, contended, holderTtlMillis, call, validityExpired, at - t1, operation));
        }
    }

    /** Ends the attempt with an error that is not about the nodes' answers: released everywhere, then signalled. */
    private void failWith(RuntimeException error) {
        if (state.compareAndSet(RUNNING, FINISHED)) {
            owner.releaseEverywhere(spec, token, acquire, false);
            owner.endAttempt();
            sink.error(error);
        }
    }

    private void cancel() {
        if (state.compareAndSet(RUNNING, CANCELLED)) {
            owner.releaseEverywhere(spec, token, acquire, false);
            owner.endAttempt();
        }
    }
}
