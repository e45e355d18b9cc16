package dev.redlock.internal.quorum;

import dev.redlock.NodeDownException;
import dev.redlock.NodeHeldOutException;
import dev.redlock.internal.engine.Engine;
import dev.redlock.internal.engine.QuorumRule;
import dev.redlock.internal.health.NodeHealth;
import dev.redlock.internal.node.LettuceNode;
import dev.redlock.internal.node.NodeChannel;
import dev.redlock.internal.script.Script;
import dev.redlock.metrics.LockMetricsRecorder;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.LongPredicate;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;

/**
 * One script sent to every node in parallel, with one timer for the per-node timeout and a decision as soon as a
 * quorum said yes or can no longer say yes.
 *
 * <p>Each node's command runs to its end whatever happens to the caller: cancelling the caller never cancels a
 * command that may already be on the wire. For callers that must send a follow-up to the same node (a release after
 * an acquire), {@link #settled(int)} completes once that node's command can no longer take effect after the
 * follow-up: it replied or failed (so it ran, or never will), it was never sent, or it timed out and the connection
 * it was sent on is closed (connections are closed abortively, so bytes still unsent are dropped, not retransmitted
 * later). A timed-out command is not settled by its timeout alone: it may still sit in the event loop's write queue
 * (a write handed to Lettuce from another thread is a queued task, which a later write from the event loop itself
 * overtakes) or in a socket that is retransmitting through a partition, while a follow-up on a new connection would
 * reach the node first and leave the late command's key behind.
 *
 * <p>Per-node state machine: {@code PENDING → SENDING → SENT → DONE}; the timer moves {@code PENDING → ABANDONED}
 * (never sent), {@code SENDING → SENDING_EXPIRED} and {@code SENT → EXPIRED}. A release is never abandoned: one that
 * still waits for its node's acquire (or a connection) when the timer fires goes {@code PENDING → LATE} and is sent
 * as soon as it can be, since a key granted late must still be deleted.
 */
public final class QuorumCall {

    /** Receives the outcome. */
    public interface Listener {
        /**
         * Called exactly once, on the thread that delivered the deciding reply (or the timer thread).
         *
         * @param yes whether a quorum said yes
         * @param atNanos the scheduler clock, read in the deciding continuation after the reply was decoded
         */
        void decided(QuorumCall call, boolean yes, long atNanos);
    }

    private static final int PENDING = 0;
    private static final int SENDING = 1;
    private static final int SENT = 2;
    private static final int DONE = 3;
    private static final int ABANDONED = 4;
    private static final int SENDING_EXPIRED = 5;
    private static final int EXPIRED = 6;
    /** A release not yet sent when the timer fired: counted as timed out, but still sent when it can be. */
    private static final int LATE = 7;
    private static final int LATE_SENT = 8;

    private final Engine owner;
    private final NodeChannel[] nodes;
    private final Script script;
    private final String[] keys;
    private final String[] args;
    private final Scheduler scheduler;
    private final Duration timeout;
    private final int quorum;
    private final LongPredicate yes;
    private final boolean decideEarly;
    /**
     * Whether a "no" may also be decided early (at n - quorum + 1 noes). Not for a batch: a node's reply carries one
     * answer per lease, its "no" may concern only some of them, so the call waits for every node (or the timer)
     * before it says "no". Not for a release either: its caller needs every answer to tell "the lease is gone"
     * from "nothing is known".
     */
    private final boolean decideNoEarly;
    private final boolean mustSend;
    private final Listener listener;

    private final AtomicIntegerArray states;
    /** Per node: a {@code Long} reply from a node that counts, or a {@code Throwable} (failure or hold-out). */
    private final AtomicReferenceArray<Object> outcomes;
    private final NodeChannel.NodeConnection[] connections;
    private final NodeHealth[] health;
    /** Per node: whether the command was sent with the breaker's permission, so its outcome is recorded there. */
    private final boolean[] recorded;
    private final CompletableFuture<Void>[] settled;
    private final AtomicInteger yesCount = new AtomicInteger();
    private final AtomicInteger noCount = new AtomicInteger();
    private final AtomicInteger known = new AtomicInteger();
    private final AtomicBoolean decided = new AtomicBoolean();
    private final AtomicInteger written = new AtomicInteger();
    private final CompletableFuture<Void> allWritten = new CompletableFuture<>();
    /** Per node: 1 once its command will not change anything any more (see {@link #finished()}). */
    private final AtomicIntegerArray finishedNodes;
    private final AtomicInteger finishedCount = new AtomicInteger();
    private final CompletableFuture<Void> finished = new CompletableFuture<>();
    /** The application's recorder, told each node's reply; null when none is installed. */
    private final LockMetricsRecorder recorder;
    private volatile long startNanos;
    private volatile Disposable timer;

    @SuppressWarnings("unchecked")
    public QuorumCall(
            Engine owner,
            Script script,
            QuorumRule rule,
            String[] keys,
            String[] args,
            Duration timeout,
            LongPredicate yes,
            boolean decideEarly,
            boolean trackSettled,
            Listener listener) {
        this.owner = owner;
        this.nodes = owner.channels();
        this.script = script;
        this.keys = keys;
        this.args = args;
        this.scheduler = owner.scheduler();
        this.timeout = timeout;
        this.quorum = owner.quorumFor(rule, script);
        this.yes = yes;
        this.decideEarly = decideEarly;
        this.decideNoEarly = decideEarly
                && (script.kind() == Script.Kind.COMMAND || script.kind() == Script.Kind.ACQUIRE);
        this.mustSend = script.isRelease();
        this.listener = listener;
        int n = nodes.length;
        this.states = new AtomicIntegerArray(n);
        this.finishedNodes = new AtomicIntegerArray(n);
        this.outcomes = new AtomicReferenceArray<>(n);
        this.connections = new NodeChannel.NodeConnection[n];
        this.health = owner.health();
        this.recorded = new boolean[n];
        this.recorder = owner.eventBus().recording() ? owner.eventBus().recorder() : null;
        if (trackSettled) {
            this.settled = new CompletableFuture[n];
            for (int i = 0; i < n; i++) {
                settled[i] = new CompletableFuture<>();
            }
        } else {
            this.settled = null;
        }
    }

    /**
     * Sends to every node; node {@code i} waits for {@code after.settled(i)} first when {@code after} is given.
     *
     * @return this call
     */
    public QuorumCall start(QuorumCall after) {
        startNanos = now();
        timer = scheduler.schedule(this::onTimeout, timeout.toNanos(), TimeUnit.NANOSECONDS);
        for (int i = 0; i < nodes.length; i++) {
            if (after == null || after.settled == null || after.settled[i].isDone()) {
                send(i);
            } else {
                int node = i;
                after.settled[i].whenComplete((v, e) -> send(node));
            }
        }
        return this;
    }

    public int nodeCount() {
        return nodes.length;
    }

    public int quorum() {
        return quorum;
    }

    public long startNanos() {
        return startNanos;
    }

    /**
     * Completes once every node's command was handed to its connection or given up (failed, abandoned): after that,
     * closing the connections loses nothing this call still wanted to send.
     */
    public CompletableFuture<Void> allWritten() {
        return allWritten;
    }

    /**
     * Completes once every node's command is over: it got its reply or error (a late one too), was never sent, or
     * its connection failed it. A command that never hears back (a node that swallows it) keeps this open; callers
     * bound their wait. {@code close()} waits for this before closing connections, so a release is not cut off in
     * the middle.
     */
    public CompletableFuture<Void> finished() {
        return finished;
    }

    private void nodeFinished(int i) {
        if (finishedNodes.compareAndSet(i, 0, 1) && finishedCount.incrementAndGet() == nodes.length) {
            finished.complete(null);
        }
    }

    private void writtenOrGivenUp() {
        if (written.incrementAndGet() == nodes.length) {
            allWritten.complete(null);
        }
    }

    /** Completes once node {@code i}'s command can no longer be overtaken on its connection. */
    CompletionStage<Void> settled(int i) {
        return settled[i];
    }

    public int yesCount() {
        return yesCount.get();
    }

    /** The reply of node {@code i} if it counted, else {@code null}. */
    public Long countedReply(int i) {
        Object o = outcomes.get(i);
        return o instanceof Long ? (Long) o : null;
    }

    /** How many counted replies satisfy {@code test}. */
    public int countReplies(LongPredicate test) {
        int c = 0;
        for (int i = 0; i < nodes.length; i++) {
            Long v = countedReply(i);
            if (v != null && test.test(v)) {
                c++;
            }
        }
        return c;
    }

    /** How many nodes failed, timed out or were held out (as far as known now). */
    public int failureCount() {
        int c = 0;
        for (int i = 0; i < nodes.length; i++) {
            if (outcomes.get(i) instanceof Throwable) {
                c++;
            }
        }
        return c;
    }

    /** Node name to failure cause, for the nodes known to have failed. */
    public Map<String, Throwable> failures() {
        Map<String, Throwable> map = new LinkedHashMap<>();
        for (int i = 0; i < nodes.length; i++) {
            Object o = outcomes.get(i);
            if (o instanceof Throwable) {
                map.put(nodes[i].name(), (Throwable) o);
            }
        }
        return map;
    }

    private long now() {
        return owner.now();
    }

    private void send(int i) {
        int permit = health[i].permit(script, health, quorum);
        recorded[i] = permit == NodeHealth.PERMITTED;
        if (permit == NodeHealth.DENIED) {
            // The node's circuit breaker is open: fail fast instead of waiting out its timeout. Not recorded.
            if (states.compareAndSet(i, PENDING, DONE)) {
                writtenOrGivenUp();
                nodeFinished(i);
                record(i, new NodeDownException(nodes[i].name(), "its circuit breaker is open"), false, now());
                settle(i);
            }
            return;
        }
        NodeChannel.NodeConnection c;
        try {
            c = nodes[i].ready();
        } catch (Throwable t) {
            failBeforeSend(i, t);
            return;
        }
        if (c != null) {
            dispatch(i, c);
            return;
        }
        nodes[i].connect().whenComplete((conn, e) -> {
            if (e != null) {
                failBeforeSend(i, LettuceNode.unwrap(e));
            } else {
                dispatch(i, conn);
            }
        });
    }

    private void dispatch(int i, NodeChannel.NodeConnection c) {
        connections[i] = c;
        if (!states.compareAndSet(i, PENDING, SENDING)) {
            if (states.compareAndSet(i, LATE, LATE_SENT)) {
                // a release the timer already counted as failed: send it anyway; only finished() waits for its reply
                try {
                    c.eval(script, keys, args).whenComplete((v, e) -> nodeFinished(i));
                } catch (RuntimeException ignored) {
                    nodeFinished(i); // the key expires with its TTL
                }
                writtenOrGivenUp();
            }
            return; // otherwise the timer abandoned it while we were connecting: never send it
        }
        CompletionStage<Long> reply;
        try {
            reply = c.eval(script, keys, args);
        } catch (Throwable t) {
            reply = CompletableFuture.failedFuture(t);
        }
        reply.whenComplete((v, e) -> onReply(i, c, v, e));
        writtenOrGivenUp();
        if (!states.compareAndSet(i, SENDING, SENT)) {
            if (states.get(i) == SENDING_EXPIRED) {
                // the timer came first: settled by a late reply, or once the connection it went on is closed
                settleWhenClosed(i, c);
            } else {
                settle(i); // the reply came first (DONE) and left settling to us
            }
        }
    }

    /** A timed-out command: its follow-up may go once its connection is closed (unless its late reply comes first). */
    private void settleWhenClosed(int i, NodeChannel.NodeConnection c) {
        if (settled != null) {
            c.closed().whenComplete((v, e) -> settle(i));
        }
    }

    private void failBeforeSend(int i, Throwable error) {
        if (states.compareAndSet(i, LATE, DONE)) {
            writtenOrGivenUp(); // a late release that cannot be sent: nothing more to do
            nodeFinished(i);
        }
        if (states.compareAndSet(i, PENDING, DONE)) {
            writtenOrGivenUp();
            nodeFinished(i);
            long now = now();
            if (recorded[i]) {
                health[i].failure(script, now - startNanos, error);
            }
            record(i, error, false, now);
            settle(i);
        }
    }

    private void onReply(int i, NodeChannel.NodeConnection c, Long value, Throwable error) {
        long now = now();
        nodeFinished(i);
        while (true) {
            int s = states.get(i);
            if (s == SENDING || s == SENT) {
                if (states.compareAndSet(i, s, DONE)) {
                    if (error != null) {
                        Throwable cause = LettuceNode.unwrap(error);
                        if (recorded[i]) {
                            health[i].failure(script, now - startNanos, cause);
                        }
                        record(i, cause, false, now);
                    } else {
                        c.replied(now);
                        if (recorded[i]) {
                            health[i].success(script, now - startNanos);
                        } else {
                            health[i].answeredWhileOpen();
                        }
                        NodeHeldOutException heldOut = c.heldOut(now);
                        if (heldOut != null) {
                            record(i, heldOut, false, now);
                        } else {
                            record(i, value, yes.test(value), now);
                        }
                    }
                    if (s == SENT) {
                        settle(i);
                    }
                    return;
                }
            } else {
                // A late reply after the timeout: already counted as a failure. The command has run (or failed), so
                // a follow-up may go now.
                settle(i);
                return;
            }
        }
    }

    private void onTimeout() {
        long now = now();
        for (int i = 0; i < nodes.length; i++) {
            while (true) {
                int s = states.get(i);
                int next;
                if (s == PENDING) {
                    next = mustSend ? LATE : ABANDONED;
                } else if (s == SENDING) {
                    next = SENDING_EXPIRED;
                } else if (s == SENT) {
                    next = EXPIRED;
                } else {
                    break;
                }
                if (states.compareAndSet(i, s, next)) {
                    if (next == ABANDONED) {
                        writtenOrGivenUp();
                        nodeFinished(i);
                    }
                    NodeChannel.NodeConnection c = connections[i];
                    if (c != null && next != ABANDONED && next != LATE) {
                        c.timedOut(now);
                    }
                    TimeoutException timedOut = new TimeoutException("no reply from " + nodes[i].name() + " within " + timeout);
                    if (recorded[i]) {
                        health[i].failure(script, now - startNanos, timedOut);
                    }
                    record(i, timedOut, false, now);
                    if (next == ABANDONED) {
                        settle(i); // never sent
                    } else if (next == EXPIRED) {
                        settleWhenClosed(i, c); // SENDING_EXPIRED: dispatch does it once the command is handed over
                    }
                    break;
                }
            }
        }
    }

    private void record(int i, Object outcome, boolean isYes, long now) {
        outcomes.set(i, outcome);
        if (recorder != null) {
            recorder.nodeReplied(nodes[i].name(), script.name(), reply(outcome, isYes), Duration.ofNanos(now - startNanos));
        }
        int n = nodes.length;
        if (isYes) {
            if (yesCount.incrementAndGet() == quorum && decideEarly) {
                decide(true, now);
            }
        } else if (noCount.incrementAndGet() == n - quorum + 1 && decideNoEarly) {
            decide(false, now);
        }
        if (known.incrementAndGet() == n) {
            Disposable t = timer;
            if (t != null) {
                t.dispose();
            }
            decide(yesCount.get() >= quorum, now);
        }
    }

    private static LockMetricsRecorder.NodeReply reply(Object outcome, boolean isYes) {
        if (isYes) {
            return LockMetricsRecorder.NodeReply.YES;
        }
        if (outcome instanceof TimeoutException) {
            return LockMetricsRecorder.NodeReply.TIMEOUT;
        }
        if (outcome instanceof NodeHeldOutException || outcome instanceof NodeDownException) {
            // not asked: the breaker is open, the restart guard holds it out, or it is known down
            return LockMetricsRecorder.NodeReply.SKIPPED;
        }
        return outcome instanceof Throwable ? LockMetricsRecorder.NodeReply.ERROR : LockMetricsRecorder.NodeReply.NO;
    }

    private void decide(boolean result, long now) {
        if (decided.compareAndSet(false, true)) {
            listener.decided(this, result, now);
        }
    }

    private void settle(int i) {
        if (settled != null) {
            settled[i].complete(null);
        }
    }
}
