package dev.redlock.chaos;

import dev.redlock.Lease;
import dev.redlock.LockAcquireTimeoutException;
import dev.redlock.LockOptions;
import dev.redlock.QuorumUnavailableException;
import dev.redlock.ReactiveRedLock;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import reactor.core.publisher.Mono;

/**
 * Runs semaphore operations and records them the way {@link Workload} records lock operations: the acquire's
 * {@code invoke} (with the permits asked for and the semaphore's P), its {@code ok} when the permits reach the body
 * (grant time, the deadline the holder believes in = now + {@code lease.remaining()}), the release's {@code invoke}
 * when the body ends or is cancelled (before the release can start; the believed deadline observed again), then the
 * release's outcome. The body holds the permits for a while and touches nothing: the {@link Checker} judges the
 * validity windows, weighted by the permits, against P.
 *
 * <p>Operations go through a {@link Source}: the client's real semaphore, or a test-only spec run by the engine (a
 * mutant). Each runs on the lock client its slot has when it starts (the nemesis may replace it meanwhile).
 */
final class SemaphoreWorkload {

    /** How an operation takes {@code n} permits around a body: a scope that releases when the body ends. */
    interface Source {
        Mono<Void> withPermits(ReactiveRedLock lock, int n, LockOptions options, Function<Lease, Mono<Void>> body);

        /** The semaphore of the client: {@code lock.semaphore(name, limit).withOptions(options).withPermitsMono}. */
        static Source real(String name, int limit) {
            return (lock, n, options, body) -> lock.semaphore(name, limit).withOptions(options)
                    .withPermitsMono(n, body::apply);
        }
    }

    /** One operation: options, permits, how long the body holds them, and a cancellation from outside. */
    static final class Spec {
        final LockOptions options;
        final int n;
        /** The body holds the permits this long (a long hold counts in the client's {@code longHolds}). */
        final Duration hold;
        final boolean longHold;
        /** Cancelled from outside this long after the invoke; null: not cancelled. */
        final Duration cancelAfter;

        Spec(LockOptions options, int n, Duration hold, boolean longHold, Duration cancelAfter) {
            this.options = options;
            this.n = n;
            this.hold = hold;
            this.longHold = longHold;
            this.cancelAfter = cancelAfter;
        }
    }

    private final History history;
    private final String name;
    private final int limit;
    private final Source source;
    private volatile boolean stopping;

    SemaphoreWorkload(Cluster cluster, String name, int limit, Source source) {
        this.history = cluster.history;
        this.name = name;
        this.limit = limit;
        this.source = source;
    }

    void stop() {
        stopping = true;
    }

    /** Operations one after another while {@code running} says so (and until {@link #stop()}). */
    Mono<Void> worker(Cluster.Client c, int worker, SplittableRandom random, Function<SplittableRandom, Spec> next,
            java.util.function.BooleanSupplier running) {
        return Mono.defer(() -> op(c, worker, next.apply(random)).then(Mono.just(true)))
                .repeat(() -> running.getAsBoolean() && !stopping)
                .then();
    }

    /** One operation, recorded; completes empty whatever happens (outcomes are in the history). */
    Mono<Void> op(Cluster.Client c, int worker, Spec spec) {
        return Mono.defer(() -> {
            Op o = new Op(history.nextOp(), c, worker, spec);
            history.append(Event.of(Event.INVOKE, Event.ACQUIRE, o.op).t(System.nanoTime()).client(c.index)
                    .worker(worker).key(name).permits(spec.n, limit));
            Mono<Void> run = source.withPermits(c.lock, spec.n, spec.options, lease -> Mono.defer(() -> o.enter(lease)
                            ? body(o)
                            : Mono.<Void>empty())
                    .doOnTerminate(o::releaseInvoke)
                    .doOnCancel(o::releaseInvoke));
            if (spec.cancelAfter != null) {
                run = run.doOnCancel(o::cancelled).takeUntilOther(Mono.delay(spec.cancelAfter));
            }
            return run.doOnSuccess(v -> o.end(null))
                    .onErrorResume(e -> {
                        o.end(e);
                        return Mono.empty();
                    });
        });
    }

    private Mono<Void> body(Op o) {
        if (!o.spec.longHold) {
            return o.spec.hold.isZero() ? Mono.empty() : Mono.delay(o.spec.hold).then();
        }
        o.client.longHolds.incrementAndGet();
        // a long hold ends early when the workload stops (the nemesis' holds outlast the run otherwise)
        long until = System.nanoTime() + o.spec.hold.toNanos();
        return Mono.delay(Duration.ofMillis(50))
                .doOnNext(x -> o.belief.observe(o.lease)) // the holder keeps up with the watchdog's renewals
                .repeat(() -> !stopping && System.nanoTime() - until < 0)
                .then()
                .doFinally(s -> o.client.longHolds.decrementAndGet());
    }

    /** Per-operation state; exactly one path records the operation's end. */
    private final class Op {
        final long op;
        final Cluster.Client client;
        final int worker;
        final Spec spec;
        final GuardedStore.Belief belief = new GuardedStore.Belief();
        final AtomicBoolean releaseInvoked = new AtomicBoolean();
        final AtomicBoolean ended = new AtomicBoolean();
        volatile Lease lease;
        volatile String tok;
        /** Guarded by this. */
        private boolean entered;
        private boolean closedBeforeEntry;

        Op(long op, Cluster.Client client, int worker, Spec spec) {
            this.op = op;
            this.client = client;
            this.worker = worker;
            this.spec = spec;
        }

        /** The permits reached the body: records the grant, unless the operation already ended. */
        synchronized boolean enter(Lease granted) {
            if (closedBeforeEntry) {
                return false;
            }
            lease = granted;
            tok = GuardedStore.tokenHash(granted.token());
            long t = System.nanoTime();
            long deadline = t + granted.remaining().toNanos();
            belief.set(deadline);
            history.append(Event.of(Event.OK, Event.ACQUIRE, op).t(t).client(client.index).worker(worker).key(name)
                    .tok(tok).deadline(deadline).granted(granted.grantedNodes()).permits(spec.n, limit));
            entered = true;
            return true;
        }

        private synchronized boolean enteredOrClose() {
            if (!entered) {
                closedBeforeEntry = true;
            }
            return entered;
        }

        void releaseInvoke() {
            if (isEntered() && releaseInvoked.compareAndSet(false, true)) {
                belief.observe(lease);
                history.append(Event.of(Event.INVOKE, Event.RELEASE, op).t(System.nanoTime()).client(client.index)
                        .key(name).tok(tok).deadline(belief.get()));
            }
        }

        private synchronized boolean isEntered() {
            return entered;
        }

        void end(Throwable error) {
            if (!ended.compareAndSet(false, true)) {
                return;
            }
            if (!enteredOrClose()) {
                boolean known = error instanceof LockAcquireTimeoutException
                        || error instanceof QuorumUnavailableException;
                history.append(Event.of(known ? Event.FAIL : Event.INFO, Event.ACQUIRE, op).t(System.nanoTime())
                        .client(client.index).key(name).value(Workload.describe(error)));
                return;
            }
            releaseInvoke();
            String type = error == null ? Event.OK
                    : error instanceof dev.redlock.LeaseLostException ? Event.FAIL : Event.INFO;
            history.append(Event.of(type, Event.RELEASE, op).t(System.nanoTime()).client(client.index).key(name)
                    .tok(tok).value(error == null ? null : Workload.describe(error)));
        }

        /** Cancelled from outside: the release (if the body was entered) runs on, unobserved. */
        void cancelled() {
            if (!ended.compareAndSet(false, true)) {
                return;
            }
            if (!enteredOrClose()) {
                history.append(Event.of(Event.INFO, Event.ACQUIRE, op).t(System.nanoTime()).client(client.index)
                        .key(name).value("cancelled"));
                return;
            }
            releaseInvoke();
            history.append(Event.of(Event.INFO, Event.RELEASE, op).t(System.nanoTime()).client(client.index)
                    .key(name).tok(tok).value("cancelled"));
        }
    }
}
