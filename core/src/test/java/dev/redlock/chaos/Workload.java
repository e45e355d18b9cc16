package dev.redlock.chaos;

import dev.redlock.Lease;
import dev.redlock.LeaseLostException;
import dev.redlock.LockAcquireTimeoutException;
import dev.redlock.QuorumUnavailableException;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Runs operations against the lock and records them: acquire → critical section on the {@link GuardedStore} →
 * release. Entirely non-blocking except the F11 stall, which runs on its own (non-Reactor) threads.
 *
 * <p>The critical section: read the unguarded set, pause, then check {@code lease.remaining() >= margin} and either
 * write (set ∪ {op}, CAS on the token) or abort. A long hold repeats that every {@code writeGap} until its hold time
 * is over (the watchdog renews meanwhile); when too little validity is left it skips that write and keeps holding, so
 * a lease whose renewals fail is lost (and signalled) rather than given back early. The release's {@code invoke} is recorded when the section ends or is
 * cancelled, before the release can start, so a recorded window never ends later than the holder's belief.
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

    /** One operation, recorded; completes empty whatever happens (outcomes are in the history). */
    Mono<Void> op(Cluster.Client c, int worker, String key, OpSpec spec, SplittableRandom random) {
        return Mono.defer(() -> {
            Ctx ctx = new Ctx(history.nextOp(), c, worker, key, spec, random);
            history.append(Event.of(Event.INVOKE, Event.ACQUIRE, ctx.op).t(System.nanoTime()).client(c.index)
                    .worker(worker).key(key));
            Mono<Void> run = spec.manual ? manual(ctx) : scoped(ctx);
            return run.doOnSuccess(v -> ctx.finish(null))
                    .onErrorResume(e -> {
                        ctx.finish(e);
                        return Mono.empty();
                    });
        });
    }

    private Mono<Void> scoped(Ctx ctx) {
        Flux<Void> scope = ctx.client.lock.withLock(ctx.key, ctx.spec.options, lease -> Mono.defer(() -> {
                            ctx.enter(lease);
                            return section(ctx);
                        })
                        .doOnTerminate(ctx::releaseInvoke)
                        .doOnCancel(() -> {
                            ctx.cancelPendingWrite();
                            ctx.releaseInvoke();
                        }));
        return scope.then();
    }

    private Mono<Void> manual(Ctx ctx) {
        return ctx.client.lock.acquire(ctx.key, ctx.spec.options).flatMap(lease -> {
            ctx.enter(lease);
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

    /** The critical section: one write, or writes every writeGap for the hold time. */
    private Mono<Void> section(Ctx ctx) {
        if (ctx.spec.hold.isZero()) {
            return writeOnce(ctx);
        }
        ctx.client.longHolds.incrementAndGet();
        long until = ctx.entryNanos + ctx.spec.hold.toNanos();
        return loop(ctx, until).doFinally(s -> ctx.client.longHolds.decrementAndGet());
    }

    private Mono<Void> loop(Ctx ctx, long until) {
        return writeOnce(ctx).then(Mono.defer(() -> {
            if (ctx.aborted || stopping || System.nanoTime() - until >= 0) {
                return Mono.empty();
            }
            return Mono.delay(ctx.spec.writeGap).then(loop(ctx, until));
        }));
    }

    private Mono<Void> writeOnce(Ctx ctx) {
        return Mono.defer(() -> {
            GuardedStore.Node read = store.read(ctx.op, ctx.client.index, ctx.entry);
            Pending pending = new Pending(read);
            ctx.pending = pending;
            long pauseMax = ctx.spec.csPauseMax.toNanos();
            long pause = pauseMax > 0 ? ctx.random.nextLong(pauseMax + 1) : 0;
            Mono<Void> write = Mono.defer(() -> {
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
            });
            return pause > 0 ? Mono.delay(Duration.ofNanos(pause)).then(write) : write;
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
        final int worker;
        final String key;
        final OpSpec spec;
        final SplittableRandom random;
        final GuardedStore.Belief belief = new GuardedStore.Belief();
        final AtomicBoolean releaseInvoked = new AtomicBoolean();
        volatile Lease lease;
        volatile GuardedStore.Entry entry;
        volatile long entryNanos;
        volatile boolean entered;
        volatile boolean aborted;
        volatile Pending pending;

        Ctx(long op, Cluster.Client client, int worker, String key, OpSpec spec, SplittableRandom random) {
            this.op = op;
            this.client = client;
            this.worker = worker;
            this.key = key;
            this.spec = spec;
            this.random = random;
        }

        void enter(Lease lease) {
            this.lease = lease;
            this.entry = store.enter(op, client.index, worker, key, lease, belief);
            this.entryNanos = System.nanoTime();
            this.entered = true;
        }

        void cancelPendingWrite() {
            Pending p = pending;
            if (p != null && p.claim()) {
                store.abort(op, client.index, entry, p.read, Event.INFO, "cancelled", belief.get());
            }
        }

        void releaseInvoke() {
            if (entered && releaseInvoked.compareAndSet(false, true)) {
                belief.observe(lease);
                history.append(Event.of(Event.INVOKE, Event.RELEASE, op).t(System.nanoTime()).client(client.index)
                        .key(key).tok(entry.tok).deadline(belief.get()));
            }
        }

        void finish(Throwable error) {
            if (!entered) {
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
        if (e instanceof LockAcquireTimeoutException || e instanceof QuorumUnavailableException) {
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
