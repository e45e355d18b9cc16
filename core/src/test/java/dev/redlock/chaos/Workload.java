package dev.redlock.chaos;

import dev.redlock.ClientClosedException;
import dev.redlock.Lease;
import dev.redlock.LeaseLostException;
import dev.redlock.LockAcquireTimeoutException;
import dev.redlock.LockEvent;
import dev.redlock.QuorumUnavailableException;
import dev.redlock.ReactiveRedLock;
import dev.redlock.RedLock;
import dev.redlock.fair.RedFairLock;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * Runs operations against the lock and records them: acquire → critical section on the {@link GuardedStore} →
 * release. Entirely non-blocking except the F11 stall, which runs on its own (non-Reactor) threads.
 *
 * <p>The critical section: read the unguarded set, pause, then check {@code lease.remaining() >= margin} and either
 * write (set ∪ {op}, CAS on the token) or abort. A long hold repeats that every {@code writeGap} until its hold time
 * is over (the watchdog renews meanwhile); when too little validity is left it skips that write and keeps holding, so
 * a lease whose renewals fail is lost (and signalled) rather than given back early. The release's {@code invoke} is
 * recorded when the section ends or is cancelled, before the release can start, so a recorded window never ends later
 * than the holder's belief. On a lock with modes ({@link OpSpec.Modal}) the acquire's {@code invoke} records what the
 * lease holds, and a shared mode's section only reads: it enters the store (the CAS register's owner changes, as it
 * would for a writer) and each step is the pause alone.
 *
 * <p>An operation may also extend its lease to a shorter lease time inside the section (recorded as an
 * {@code extend} with the deadlines observed, then the section goes on checking {@code remaining()}), and may be
 * cancelled from outside at a chosen point (the key's {@code ACQUIRED} event, a random delay, the release). Each
 * operation runs on the lock client its slot has when it starts; the nemesis may close that client meanwhile.
 */
final class Workload implements AutoCloseable {

    private final Cluster cluster;
    private final History history;
    private final GuardedStore store;
    private final ExecutorService stalls = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "chaos-stalled-holder");
        t.setDaemon(true);
        return t;
    });
    private final java.util.Set<CompletableFuture<Void>> stalled = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile boolean stopping;

    Workload(Cluster cluster) {
        this.cluster = cluster;
        this.history = cluster.history;
        this.store = cluster.store;
    }

    /** Makes long holds end at their next write and workers stop after their current operation. */
    void stop() {
        stopping = true;
    }

    boolean stopping() {
        return stopping;
    }

    /**
     * A worker: operations one after another (with {@code think} time between them) while {@code running} says so;
     * specs chosen by {@code next}.
     */
    Mono<Void> worker(Cluster.Client c, int worker, SplittableRandom random, String[] keys,
            java.util.function.Function<SplittableRandom, OpSpec> next, Duration think, BooleanSupplier running) {
        return Mono.defer(() -> {
                    String key = keys[random.nextInt(keys.length)];
                    Mono<Void> op = op(c, worker, key, next.apply(random), random);
                    return (think.isZero() ? op : op.then(Mono.delay(think)).then()).then(Mono.just(true));
                })
                .repeat(() -> running.getAsBoolean() && !stopping)
                .then();
    }

    /**
     * One operation, recorded; completes empty whatever happens (outcomes are in the history). It runs on the lock
     * client the slot has when it starts (the nemesis may replace it meanwhile).
     */
    Mono<Void> op(Cluster.Client c, int worker, String key, OpSpec spec, SplittableRandom random) {
        return Mono.defer(() -> {
            Ctx ctx = new Ctx(history.nextOp(), c, c.lock, worker, key, spec, random);
            Event invoke = Event.of(Event.INVOKE, Event.ACQUIRE, ctx.op).t(System.nanoTime()).client(c.index)
                    .worker(worker).key(key);
            if (spec.isFair()) {
                invoke.fair(spec.priority, spec.heartbeat.toMillis(), spec.options.leaseTime().toMillis());
            }
            if (spec.modal != null) {
                invoke.holds(spec.modal.holds(key));
            }
            history.append(invoke);
            Mono<Void> run = spec.manual ? manual(ctx) : scoped(ctx);
            if (spec.cancel == OpSpec.Cancel.NONE) {
                return run.doOnSuccess(v -> ctx.end(null))
                        .onErrorResume(e -> {
                            ctx.end(e);
                            return Mono.empty();
                        });
            }
            return cancellable(ctx, run);
        });
    }

    /**
     * Runs {@code run} and disposes its subscription from outside at the moment the spec asks for (F17 aimed at the
     * hand-over and the release): on the {@code ACQUIRED} event of the key, after a random delay, or while the
     * release is under way. The history records the cancellation as the operation's end: an {@code info} acquire if
     * the section was not entered, else the release's invoke and an {@code info} release.
     */
    private Mono<Void> cancellable(Ctx ctx, Mono<Void> run) {
        return Mono.create(sink -> {
            Disposable.Composite triggers = Disposables.composite();
            AtomicReference<Disposable> running = new AtomicReference<>();
            Runnable cancel = () -> {
                if (!ctx.claimEnd()) {
                    return;
                }
                Disposable d = running.getAndSet(Disposables.disposed());
                if (d != null) {
                    d.dispose();
                }
                triggers.dispose();
                ctx.cancelled();
                sink.success();
            };
            switch (ctx.spec.cancel) {
                case ON_ACQUIRED:
                    // subscribed before the acquire starts, so the grant's event cannot be missed
                    triggers.add(ctx.lock.events()
                            .filter(e -> e.type() == LockEvent.Type.ACQUIRED && ctx.key.equals(e.key().orElse(null)))
                            .take(1)
                            .subscribe(e -> cancel.run(), e -> {}));
                    break;
                case AFTER_DELAY:
                    triggers.add(Schedulers.parallel().schedule(cancel,
                            ctx.random.nextLong(ctx.spec.cancelDelayMax.toNanos() + 1), TimeUnit.NANOSECONDS));
                    break;
                case ON_RELEASE: {
                    long delay = ctx.random.nextLong(TimeUnit.MILLISECONDS.toNanos(1) + 1);
                    ctx.onSectionEnd = () -> triggers.add(Schedulers.parallel().schedule(cancel, delay,
                            TimeUnit.NANOSECONDS));
                    break;
                }
                default:
                    throw new IllegalStateException(ctx.spec.cancel.toString());
            }
            if (ctx.ended()) {
                return; // cancelled before it started
            }
            Disposable d = run.subscribe(v -> {}, e -> {
                if (ctx.claimEnd()) {
                    triggers.dispose();
                    ctx.finish(e);
                    sink.success();
                }
            }, () -> {
                if (ctx.claimEnd()) {
                    triggers.dispose();
                    ctx.finish(null);
                    sink.success();
                }
            });
            if (!running.compareAndSet(null, d)) {
                d.dispose();
            }
        });
    }

    private Mono<Void> scoped(Ctx ctx) {
        Function<Lease, Mono<Void>> body = lease -> Mono.defer(() -> ctx.enter(lease)
                        ? section(ctx)
                        : Mono.<Void>empty())
                .doOnTerminate(ctx::releaseInvoke)
                .doOnCancel(() -> {
                    ctx.cancelPendingWrite();
                    ctx.releaseInvoke();
                });
        Flux<Void> scope = ctx.spec.isFair() ? fair(ctx).withLock(body)
                : ctx.spec.modal != null ? modal(ctx).withLock(body)
                : ctx.lock.withLock(ctx.key, ctx.spec.options, body);
        return scope.then();
    }

    /** The lock with modes of the operation's key, in its spec's mode. */
    private static RedLock modal(Ctx ctx) {
        return ctx.spec.modal.lock(ctx.lock, ctx.key, ctx.spec.options);
    }

    /** The fair lock of the operation's key, as its spec's waiter. */
    private static RedFairLock fair(Ctx ctx) {
        return ctx.lock.fairLock(ctx.key).withOptions(ctx.spec.options).withPriority(ctx.spec.priority)
                .withHeartbeatTimeout(ctx.spec.heartbeat);
    }

    private Mono<Void> manual(Ctx ctx) {
        Mono<Lease> acquire = ctx.spec.isFair() ? fair(ctx).acquire()
                : ctx.spec.modal != null ? modal(ctx).acquire()
                : ctx.lock.acquire(ctx.key, ctx.spec.options);
        return acquire.flatMap(lease -> {
            if (!ctx.enter(lease)) {
                // cancelled between the hand-over and the entry: give it back (the control drops it)
                return ctx.spec.dropOnCancel ? Mono.<Void>empty() : lease.release().onErrorResume(e -> Mono.empty());
            }
            return section(ctx)
                    .then(Mono.defer(() -> {
                        long wait = ctx.entryNanos + ctx.spec.releaseAfter.toNanos() - System.nanoTime();
                        return wait > 0 ? Mono.delay(Duration.ofNanos(wait)).then() : Mono.<Void>empty();
                    }))
                    .then(Mono.defer(() -> {
                        ctx.releaseInvoke();
                        return lease.release();
                    }));
        });
    }

    /** The critical section: one write, or writes every writeGap for the hold time; a shortening extend in it. */
    private Mono<Void> section(Ctx ctx) {
        if (ctx.spec.hold.isZero()) {
            return step(ctx);
        }
        ctx.client.longHolds.incrementAndGet();
        long until = ctx.entryNanos + ctx.spec.hold.toNanos();
        return loop(ctx, until).doFinally(s -> ctx.client.longHolds.decrementAndGet());
    }

    private Mono<Void> loop(Ctx ctx, long until) {
        return step(ctx).then(Mono.defer(() -> {
            if (ctx.aborted || stopping || System.nanoTime() - until >= 0) {
                return Mono.empty();
            }
            return Mono.delay(ctx.spec.writeGap).then(loop(ctx, until));
        }));
    }

    /** The extend, if it is due before this write, then the write (a shared mode's read). */
    private Mono<Void> step(Ctx ctx) {
        boolean extendNow = !ctx.spec.extendTo.isZero() && !ctx.extended && ctx.writes >= ctx.spec.extendAfterWrites;
        boolean writes = ctx.spec.modal == null || ctx.spec.modal.writes();
        Mono<Void> write = (writes ? writeOnce(ctx) : readOnce(ctx)).doOnSuccess(v -> ctx.writes++);
        return extendNow ? extend(ctx).then(write) : write;
    }

    /**
     * A shared mode's step: the pause a write would take, then a look at the lease (the holder keeps up with the
     * watchdog's renewals); nothing is read from or written to the store.
     */
    private Mono<Void> readOnce(Ctx ctx) {
        return afterPause(ctx, Mono.fromRunnable(() -> ctx.belief.observe(ctx.lease)));
    }

    /** {@code then} after a pause uniform in [0, csPauseMax]. */
    private static Mono<Void> afterPause(Ctx ctx, Mono<Void> then) {
        long pauseMax = ctx.spec.csPauseMax.toNanos();
        long pause = pauseMax > 0 ? ctx.random.nextLong(pauseMax + 1) : 0;
        return pause > 0 ? Mono.delay(Duration.ofNanos(pause)).then(then) : then;
    }

    /**
     * {@code lease.extend(spec.extendTo)}: a renewal to a shorter lease time, inside the section. Recorded as an
     * {@code extend} operation: its invoke carries the deadline observed right after the renewal was sent (the
     * engine brings the deadline down before sending), its completion the deadline observed then. The section goes
     * on whatever the outcome and keeps checking {@code lease.remaining()} before each write. The control variant
     * ({@link OpSpec#staleBelief}) keeps believing the deadline it saw before.
     */
    private Mono<Void> extend(Ctx ctx) {
        return Mono.defer(() -> {
            ctx.extended = true;
            Lease lease = ctx.lease;
            if (ctx.spec.staleBelief) {
                ctx.belief.observe(lease);
                ctx.belief.freeze();
            }
            Sinks.One<Lease> done = Sinks.one();
            lease.extend(ctx.spec.extendTo).subscribe(done::tryEmitValue, done::tryEmitError, done::tryEmitEmpty);
            ctx.belief.observe(lease);
            history.append(Event.of(Event.INVOKE, Event.EXTEND, ctx.op).t(System.nanoTime()).client(ctx.client.index)
                    .key(ctx.key).tok(ctx.entry.tok).deadline(ctx.belief.get())
                    .value("leaseTime=" + ctx.spec.extendTo.toMillis() + "ms"));
            AtomicBoolean recorded = new AtomicBoolean();
            java.util.function.BiConsumer<String, String> complete = (type, value) -> {
                if (recorded.compareAndSet(false, true)) {
                    ctx.belief.observe(lease);
                    history.append(Event.of(type, Event.EXTEND, ctx.op).t(System.nanoTime())
                            .client(ctx.client.index).key(ctx.key).tok(ctx.entry.tok).deadline(ctx.belief.get())
                            .value(value));
                }
            };
            return done.asMono()
                    .doOnSuccess(l -> complete.accept(Event.OK, null))
                    .doOnError(e -> complete.accept(e instanceof LeaseLostException ? Event.FAIL : Event.INFO,
                            describe(e)))
                    .doOnCancel(() -> complete.accept(Event.INFO, "cancelled"))
                    .onErrorResume(e -> Mono.empty())
                    .then();
        });
    }

    private Mono<Void> writeOnce(Ctx ctx) {
        return Mono.defer(() -> {
            GuardedStore.Node read = store.read(ctx.op, ctx.client.index, ctx.entry);
            Pending pending = new Pending(read);
            ctx.pending = pending;
            return afterPause(ctx, Mono.defer(() -> {
                long remaining = ctx.belief.observe(ctx.lease);
                if (remaining < ctx.spec.margin.toNanos()) {
                    if (pending.claim()) {
                        store.abort(ctx.op, ctx.client.index, ctx.entry, read, Event.FAIL, "margin", ctx.belief.get());
                    }
                    // a single write ends the section; a long hold skips this write and keeps holding, hoping the
                    // watchdog renews (if it cannot, the lease is lost at its deadline and the section cancelled)
                    ctx.aborted = ctx.spec.hold.isZero();
                    return Mono.empty();
                }
                if (!pending.claim()) {
                    return Mono.empty();
                }
                long believed = ctx.belief.get();
                if (!ctx.spec.stall.isZero()) {
                    // F11: the holder stalls between its check and its write, like a GC pause; nothing cancels it.
                    long stallNanos = ctx.spec.stall.toNanos();
                    CompletableFuture<Void> stall = CompletableFuture.runAsync(() -> {
                        sleepNanos(stallNanos);
                        store.write(ctx.op, ctx.client.index, ctx.entry, read, believed);
                    }, stalls);
                    stalled.add(stall);
                    stall.whenComplete((v, e) -> stalled.remove(stall));
                    return Mono.fromFuture(stall, true);
                }
                store.write(ctx.op, ctx.client.index, ctx.entry, read, believed);
                return Mono.empty();
            }));
        });
    }

    /** One write between its read and its outcome; exactly one path records the outcome. */
    private static final class Pending {
        final GuardedStore.Node read;
        private final AtomicBoolean done = new AtomicBoolean();

        Pending(GuardedStore.Node read) {
            this.read = read;
        }

        boolean claim() {
            return done.compareAndSet(false, true);
        }
    }

    /** Per-operation state. */
    private final class Ctx {
        final long op;
        final Cluster.Client client;
        /** The lock client the operation runs on (the slot's when it started). */
        final ReactiveRedLock lock;
        final int worker;
        final String key;
        final OpSpec spec;
        final SplittableRandom random;
        final GuardedStore.Belief belief = new GuardedStore.Belief();
        final AtomicBoolean releaseInvoked = new AtomicBoolean();
        /** Set by whichever records the operation's end: its own outcome or a cancellation. */
        private final AtomicBoolean ended = new AtomicBoolean();
        volatile Lease lease;
        volatile GuardedStore.Entry entry;
        volatile long entryNanos;
        /** Guarded by this: the section was entered (the acquire's ok is recorded) ... */
        private boolean entered;
        /** ... or the operation ended before it could be (then it never will). */
        private boolean closedBeforeEntry;
        volatile boolean aborted;
        volatile Pending pending;
        /** Writes done so far (the section's own thread only). */
        int writes;
        volatile boolean extended;
        /** Called once when the section ends (a cancellation timed at the release arms itself here). */
        volatile Runnable onSectionEnd;

        Ctx(long op, Cluster.Client client, ReactiveRedLock lock, int worker, String key, OpSpec spec,
                SplittableRandom random) {
            this.op = op;
            this.client = client;
            this.lock = lock;
            this.worker = worker;
            this.key = key;
            this.spec = spec;
            this.random = random;
        }

        /**
         * The lease reached the section: records the acquire's ok and enters the store, unless the operation already
         * ended (cancelled in between), in which case it returns false and the section must not run.
         */
        boolean enter(Lease lease) {
            synchronized (this) {
                if (closedBeforeEntry) {
                    return false;
                }
                this.lease = lease;
                this.entry = store.enter(op, client.index, worker, key, lease, belief);
                this.entryNanos = System.nanoTime();
                this.entered = true;
                return true;
            }
        }

        /** Whether the section was entered; once false is returned it never will be. */
        private boolean enteredOrClose() {
            synchronized (this) {
                if (!entered) {
                    closedBeforeEntry = true;
                }
                return entered;
            }
        }

        boolean claimEnd() {
            return ended.compareAndSet(false, true);
        }

        boolean ended() {
            return ended.get();
        }

        void cancelPendingWrite() {
            Pending p = pending;
            if (p != null && p.claim()) {
                store.abort(op, client.index, entry, p.read, Event.INFO, "cancelled", belief.get());
            }
        }

        void releaseInvoke() {
            if (entered() && releaseInvoked.compareAndSet(false, true)) {
                belief.observe(lease);
                history.append(Event.of(Event.INVOKE, Event.RELEASE, op).t(System.nanoTime()).client(client.index)
                        .key(key).tok(entry.tok).deadline(belief.get()));
                Runnable hook = onSectionEnd;
                if (hook != null) {
                    hook.run();
                }
            }
        }

        private synchronized boolean entered() {
            return entered;
        }

        /** The operation's own outcome, unless a cancellation recorded the end first. */
        void end(Throwable error) {
            if (claimEnd()) {
                finish(error);
            }
        }

        void finish(Throwable error) {
            if (!enteredOrClose()) {
                boolean known = error instanceof LockAcquireTimeoutException || error instanceof QuorumUnavailableException;
                history.append(Event.of(known ? Event.FAIL : Event.INFO, Event.ACQUIRE, op).t(System.nanoTime())
                        .client(client.index).key(key).value(describe(error)));
                return;
            }
            releaseInvoke();
            String type = error == null ? Event.OK : error instanceof LeaseLostException ? Event.FAIL : Event.INFO;
            history.append(Event.of(type, Event.RELEASE, op).t(System.nanoTime()).client(client.index).key(key)
                    .tok(entry.tok).value(error == null ? null : describe(error)));
        }

        /** The operation was cancelled from outside (see {@link #cancellable}). */
        void cancelled() {
            if (!enteredOrClose()) {
                history.append(Event.of(Event.INFO, Event.ACQUIRE, op).t(System.nanoTime()).client(client.index)
                        .key(key).value("cancelled (" + spec.cancel + ")"));
                return;
            }
            cancelPendingWrite();
            releaseInvoke();
            String what = "cancelled (" + spec.cancel + ")";
            if (spec.manual) {
                if (spec.dropOnCancel) {
                    what += "; lease dropped without a release";
                } else {
                    lease.release().subscribe(v -> {}, e -> {});
                }
            }
            history.append(Event.of(Event.INFO, Event.RELEASE, op).t(System.nanoTime()).client(client.index)
                    .key(key).tok(entry.tok).value(what));
        }
    }

    static String describe(Throwable e) {
        if (e == null) {
            return "completed without a lease";
        }
        if (e instanceof LeaseLostException) {
            return "LeaseLostException " + ((LeaseLostException) e).reason();
        }
        String m = e.getMessage();
        String text = e.getClass().getSimpleName() + (m == null ? "" : ": " + (m.length() > 200 ? m.substring(0, 200) : m));
        if (e instanceof LockAcquireTimeoutException || e instanceof QuorumUnavailableException
                || e instanceof ClientClosedException) {
            return text;
        }
        // unexpected: keep where it came from (e.g. a BlockHound report names the blocking frame)
        StringBuilder b = new StringBuilder(text);
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t != e) {
                b.append(" | caused by ").append(t);
            }
            StackTraceElement[] frames = t.getStackTrace();
            for (int i = 0; i < Math.min(40, frames.length); i++) {
                b.append(" < ").append(frames[i]);
            }
        }
        return b.toString();
    }

    static void sleepNanos(long nanos) {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits (at most 30 s) for stalled holders to make their late writes, so every write has its outcome. */
    void awaitStalls() {
        CompletableFuture.allOf(stalled.toArray(CompletableFuture[]::new)).orTimeout(30, TimeUnit.SECONDS).join();
    }

    @Override
    public void close() {
        stalls.shutdownNow();
    }
}
