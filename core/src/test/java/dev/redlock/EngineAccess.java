package dev.redlock;

import dev.redlock.internal.engine.Engine;
import dev.redlock.internal.fair.FairScript;
import dev.redlock.internal.lock.LockClient;
import dev.redlock.internal.lock.LockHandle;
import dev.redlock.internal.mode.ModeScript;
import dev.redlock.internal.engine.ValidityRule;
import dev.redlock.internal.node.NodeChannel;
import dev.redlock.internal.script.LockScript;
import dev.redlock.internal.script.Script;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Test-only bridge to the engine for the safety tests ({@code dev.redlock.chaos}): it builds the deliberate bugs
 * ("mutants") and fault points the checker must catch, all in test code, through the strategies the engine reads
 * (its clock, quorum rule and validity rule) and a decorator of its nodes (which sends mutants of the real scripts in
 * their place). Production code has no switch for any of them and loads only the real scripts. Nothing here is part
 * of the public API.
 */
public final class EngineAccess {

    /**
     * Mutant release: a plain {@code DEL} that does not check the key still holds this lease's token. Never loaded
     * on a node: the node learns it through {@code EVAL} when it answers {@code NOSCRIPT}.
     */
    static final Script RELEASE_UNCHECKED = Script.of("release-unchecked", "redis.call('del', KEYS[1])\n"
            + "if ARGV[2] ~= '' then redis.call('publish', ARGV[2], '1') end\n"
            + "return 1", Script.Kind.RELEASE);

    /** The fair lock's acquire and release, as the engine loads them. */
    private static final Script FAIR_ACQUIRE = FairScript.PRELOADED.get(0);
    private static final Script FAIR_RELEASE = FairScript.PRELOADED.get(1);

    /** The line of the fair scripts that lists the lapsed waiters (those whose heartbeat is in the past). */
    private static final String LAPSED = "local lapsed = redis.call('zrangebyscore', KEYS[4], '-inf', now)\n";

    /**
     * Mutant fair acquire and release: no waiter is ever pruned (the lapsed list is always empty), so an entry whose
     * waiter vanished stays in the queue as long as other waiters keep the queue's keys alive. Sent with {@code EVAL}
     * after {@code NOSCRIPT} (a command, not an acquire, for the node).
     */
    static final Script FAIR_ACQUIRE_NO_PRUNING = mutant(FAIR_ACQUIRE, "fair-acquire-no-pruning", LAPSED,
            "local lapsed = {}\n", Script.Kind.COMMAND);
    static final Script FAIR_RELEASE_NO_PRUNING = mutant(FAIR_RELEASE, "fair-release-no-pruning", LAPSED,
            "local lapsed = {}\n", Script.Kind.RELEASE);

    /** Mutant fair acquire: grants whenever the key is free, whoever comes first in the queue. */
    static final Script FAIR_ACQUIRE_NO_HEAD_CHECK = mutant(FAIR_ACQUIRE, "fair-acquire-no-head-check",
            "local first = #head == 0 or ", "local first = true or #head == 0 or ", Script.Kind.COMMAND);

    /** The locks with modes' acquire, as the engine loads it. */
    private static final Script MODE_ACQUIRE = ModeScript.ACQUIRE;

    /**
     * Mutant mode acquire: a request for S ignores X holders (the row of a holder in X admits S), so a reader is
     * granted beside a writer on the node that runs it. Sent with {@code EVAL} after {@code NOSCRIPT}.
     */
    static final Script MODE_ACQUIRE_READER_BESIDE_WRITER = mutant(MODE_ACQUIRE, "mode-acquire-reader-beside-writer",
            "local compatible = {'11110', '11000', '10100', '10000', '00000'}\n",
            "local compatible = {'11110', '11000', '10100', '10000', '00100'}\n", Script.Kind.COMMAND);

    private EngineAccess() {}

    /** {@code real}'s text with {@code from} replaced by {@code to}; fails if the real script no longer has it. */
    private static Script mutant(Script real, String name, String from, String to, Script.Kind kind) {
        if (!real.source().contains(from)) {
            throw new IllegalStateException(real.name() + " no longer contains the line the mutant " + name
                    + " replaces: " + from.trim());
        }
        return Script.of(name, real.source().replace(from, to), kind);
    }

    /**
     * Installs the test seams (every mutant off) on {@code client} and returns a handle to flip them. Call it right
     * after building the client. The switches are volatile and may be changed while the client is in use (a clock
     * jump in the middle of a hold).
     */
    public static Hooks installHooks(ReactiveRedLock client) {
        Engine engine = engine(client);
        Hooks hooks = new Hooks(engine);
        engine.clock(hooks::now);
        engine.quorumRule(hooks::quorum);
        engine.validityRule(hooks::grantable);
        int[] index = {0};
        engine.decorateNodes(node -> new HookedNode(node, hooks, index[0]++));
        return hooks;
    }

    /**
     * A scope on a lease of a test-only {@code spec} (a mutant primitive) run by {@code client}'s engine, exactly as
     * the client's own primitives are: the engine's acquire, watchdog, release on complete, error and cancel.
     */
    public static <T> reactor.core.publisher.Mono<T> withLease(ReactiveRedLock client,
            dev.redlock.internal.engine.LeaseSpec spec, LockOptions options,
            java.util.function.Function<? super Lease, ? extends reactor.core.publisher.Mono<? extends T>> body) {
        return engine(client).scope().mono(spec, options, body);
    }

    /**
     * A lock on {@code name} whose acquires use {@code specs} (a test-only spec, a mutant), run by {@code client}'s
     * engine exactly as the client's own locks are (the same handle class); {@code isLocked()} is not offered.
     */
    public static RedLock lock(ReactiveRedLock client, String name, LockHandle.Specs specs, LockOptions options) {
        return new LockHandle(engine(client), name, specs, options, o -> o, () -> reactor.core.publisher.Mono.error(
                new UnsupportedOperationException("isLocked() of a test-only lock")));
    }

    /** Watchdogs the client currently runs (0 once every scope has ended). */
    public static int runningWatchdogs(ReactiveRedLock client) {
        return engine(client).runningWatchdogs();
    }

    /** The client's clock ({@code now()} in nanoseconds), which the mutants may bend. */
    public static long engineNanos(ReactiveRedLock client) {
        return engine(client).now();
    }

    private static Engine engine(ReactiveRedLock client) {
        if (!(client instanceof LockClient)) {
            throw new IllegalArgumentException("not an engine client: " + client);
        }
        return ((LockClient) client).engine();
    }

    /** A handle on one client's seams. */
    public static final class Hooks {
        private final Engine engine;
        private volatile int quorum;
        private volatile int extendQuorum;
        private volatile boolean skipValidityCheck;
        private volatile boolean wallClock;
        private volatile long wallClockJumpNanos;
        private volatile boolean releaseWithoutOwnershipCheck;
        private volatile boolean noReleaseOnFailure;
        private volatile long pauseAfterRepliesNanos;
        private volatile boolean noHeartbeatPruning;
        private volatile boolean noLeave;
        private volatile boolean headOnFirstNodeOnly;
        private volatile boolean readerBesideWriterOnFirstNode;
        /** Added to the clock: the pauses after replies taken so far. */
        private final AtomicLong paused = new AtomicLong();
        /** The token of the last attempt that paused: one pause per attempt, at its first reply. */
        private final java.util.concurrent.atomic.AtomicReference<String> lastPaused =
                new java.util.concurrent.atomic.AtomicReference<>();

        private Hooks(Engine engine) {
            this.engine = engine;
        }

        long now() {
            long base = wallClock
                    ? TimeUnit.MILLISECONDS.toNanos(System.currentTimeMillis()) + wallClockJumpNanos
                    : engine.scheduler().now(TimeUnit.NANOSECONDS);
            return base + paused.get();
        }

        int quorum(Script script, int nodes) {
            if ((script == LockScript.EXTEND || script == LockScript.EXTEND_BATCH) && extendQuorum > 0) {
                return extendQuorum;
            }
            return quorum; // 0: the primitive's own rule
        }

        boolean grantable(long decidedAt, long deadline) {
            return skipValidityCheck || ValidityRule.BEFORE_DEADLINE.grantable(decidedAt, deadline);
        }

        /** Mutant: the quorum for every script (0 = N/2+1). */
        public Hooks quorum(int quorum) {
            this.quorum = quorum;
            return this;
        }

        /** Mutant: the quorum for extensions only (0 = the normal quorum). */
        public Hooks extendQuorum(int extendQuorum) {
            this.extendQuorum = extendQuorum;
            return this;
        }

        /** Mutant: hand out leases even when the quorum answered after the lease's deadline. */
        public Hooks skipValidityCheck(boolean on) {
            this.skipValidityCheck = on;
            return this;
        }

        /** Mutant: measure time with the wall clock plus {@link #wallClockJump(Duration)}. */
        public Hooks wallClock(boolean on) {
            this.wallClock = on;
            return this;
        }

        /** With {@link #wallClock(boolean)}: a step of the client's wall clock (negative = back in time). */
        public Hooks wallClockJump(Duration jump) {
            this.wallClockJumpNanos = jump.toNanos();
            return this;
        }

        /** Mutant: release with a plain DEL, without checking the key still holds the lease's token. */
        public Hooks releaseWithoutOwnershipCheck(boolean on) {
            this.releaseWithoutOwnershipCheck = on;
            return this;
        }

        /** Mutant: a failed or cancelled attempt does not release the nodes that granted (or may grant later). */
        public Hooks noReleaseOnFailure(boolean on) {
            this.noReleaseOnFailure = on;
            return this;
        }

        /**
         * Mutant: the fair lock's scripts never prune a lapsed waiter (set it on every client that uses the lock: any
         * real script a node runs prunes).
         */
        public Hooks noHeartbeatPruning(boolean on) {
            this.noHeartbeatPruning = on;
            return this;
        }

        /**
         * Fault: a fair-lock waiter whose acquire ends without a lease (timed out, cancelled) never leaves the nodes'
         * queues, as if its process vanished: its entry stays until its heartbeat lapses.
         */
        public Hooks noLeave(boolean on) {
            this.noLeave = on;
            return this;
        }

        /**
         * Mutant: only the first node checks that a fair-lock waiter comes first in its queue; the others grant
         * whenever the key is free.
         */
        public Hooks headOnFirstNodeOnly(boolean on) {
            this.headOnFirstNodeOnly = on;
            return this;
        }

        /**
         * Mutant: the first node runs the locks with modes' acquire with a request for S ignoring X holders, so it
         * grants a reader beside a writer; the other nodes run the real script.
         */
        public Hooks readerBesideWriterOnFirstNode(boolean on) {
            this.readerBesideWriterOnFirstNode = on;
            return this;
        }

        /**
         * Fault: a client pause between an acquire's replies and reading T2, like a GC pause: the clock moves on by
         * {@code pause} as each acquire reply arrives, before the engine sees it.
         */
        public Hooks pauseAfterReplies(Duration pause) {
            this.pauseAfterRepliesNanos = pause.toNanos();
            return this;
        }
    }

    /** A node whose commands go through the hooks: script substitution, dropped cleanups, pauses after replies. */
    private static final class HookedNode implements NodeChannel {
        private final NodeChannel node;
        private final Hooks hooks;
        /** The node's place in the client's list (0: the first node). */
        private final int index;

        HookedNode(NodeChannel node, Hooks hooks, int index) {
            this.node = node;
            this.hooks = hooks;
            this.index = index;
        }

        @Override
        public String name() {
            return node.name();
        }

        @Override
        public NodeConnection ready() {
            NodeConnection c = node.ready();
            return c == null ? null : new HookedConnection(c, hooks, index);
        }

        @Override
        public CompletionStage<NodeConnection> connect() {
            return node.connect().thenApply(c -> new HookedConnection(c, hooks, index));
        }

        @Override
        public NodeHeldOutException heldOut(long nowNanos) {
            return node.heldOut(nowNanos);
        }

        @Override
        public CompletionStage<Void> subscribe(String channel, Runnable onMessage) {
            return node.subscribe(channel, onMessage);
        }

        @Override
        public void unsubscribe(String channel, Runnable onMessage) {
            node.unsubscribe(channel, onMessage);
        }

        @Override
        public boolean slotStrict() {
            return node.slotStrict();
        }

        @Override
        public CompletionStage<Void> closeAsync() {
            return node.closeAsync();
        }
    }

    private static final class HookedConnection implements NodeChannel.NodeConnection {
        private final NodeChannel.NodeConnection connection;
        private final Hooks hooks;
        private final int node;

        HookedConnection(NodeChannel.NodeConnection connection, Hooks hooks, int node) {
            this.connection = connection;
            this.hooks = hooks;
            this.node = node;
        }

        /** The fair lock's mutants and vanishing waiters; null for any other script. */
        private CompletionStage<Long> fair(Script script, String[] keys, String[] args) {
            if (script == FAIR_ACQUIRE) {
                if (hooks.headOnFirstNodeOnly && node > 0) {
                    return connection.eval(FAIR_ACQUIRE_NO_HEAD_CHECK, keys, args);
                }
                return hooks.noHeartbeatPruning ? connection.eval(FAIR_ACQUIRE_NO_PRUNING, keys, args) : null;
            }
            if (script == FAIR_RELEASE) {
                // ARGV: token ("" for a waiter leaving without a lease), wake prefix, waiter
                if (hooks.noLeave && args[0].isEmpty() && !args[2].isEmpty()) {
                    return CompletableFuture.completedFuture(0L);
                }
                return hooks.noHeartbeatPruning ? connection.eval(FAIR_RELEASE_NO_PRUNING, keys, args) : null;
            }
            return null;
        }

        @Override
        public CompletionStage<Long> eval(Script script, String[] keys, String[] args) {
            if (script.isRelease() && script != RELEASE_UNCHECKED) {
                // the lock's, the semaphore's and the fair lock's releases: ARGV[2] is the channel (the fair lock's
                // wake prefix), "" for a failed or cancelled attempt's release
                boolean cleanup = args.length > 1 && args[1].isEmpty();
                if (cleanup && hooks.noReleaseOnFailure) {
                    return CompletableFuture.completedFuture(0L);
                }
                if (script == LockScript.RELEASE && hooks.releaseWithoutOwnershipCheck) {
                    return connection.eval(RELEASE_UNCHECKED, keys, args);
                }
            }
            CompletionStage<Long> fair = fair(script, keys, args);
            if (fair != null) {
                return fair;
            }
            if (script == MODE_ACQUIRE && hooks.readerBesideWriterOnFirstNode && node == 0) {
                return connection.eval(MODE_ACQUIRE_READER_BESIDE_WRITER, keys, args);
            }
            CompletionStage<Long> reply = connection.eval(script, keys, args);
            long pause = hooks.pauseAfterRepliesNanos;
            if (script == LockScript.ACQUIRE && pause > 0) {
                String token = args[0];
                return reply.thenApply(v -> {
                    String last = hooks.lastPaused.get();
                    if (!token.equals(last) && hooks.lastPaused.compareAndSet(last, token)) {
                        hooks.paused.addAndGet(pause);
                    }
                    return v;
                });
            }
            return reply;
        }

        @Override
        public NodeHeldOutException heldOut(long nowNanos) {
            return connection.heldOut(nowNanos);
        }

        @Override
        public void timedOut(long nowNanos) {
            connection.timedOut(nowNanos);
        }

        @Override
        public void replied(long nowNanos) {
            connection.replied(nowNanos);
        }

        @Override
        public CompletionStage<Void> closed() {
            return connection.closed();
        }
    }
}
