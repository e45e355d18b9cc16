package dev.redlock.demo;

import dev.redlock.NodeStatus;
import dev.redlock.ReactiveRedLock;
import dev.redlock.testkit.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * {@code --chaos}: faults on a minority of the embedded lock nodes while the workers run. Every few seconds one node
 * that counts toward a quorum is killed (SIGKILL, restarted on the same port after a second or two), paused (SIGSTOP,
 * resumed with SIGCONT after up to 2.5 s) or restarted at once (SIGKILL and start: the node comes back empty, having
 * forgotten every lock it held). The first fault is always a kill, so that even a short run shows one.
 *
 * <p>At most {@code (N-1)/2} nodes are out at once, and a node is out while it is killed, paused, or restarted and
 * not yet counted again by the lock client: the restart guard holds a restarted node out of quorums until every
 * lease it may have forgotten has expired, and chaos waits for that ({@link ReactiveRedLock#nodeStatus()}) before it
 * takes another node down in its place. So a quorum stays reachable and the lock goes on; with more nodes out it
 * would only stall, never break.
 *
 * <p>Faults run on one daemon thread of their own (the test kit's node control blocks) and are reported through
 * {@code log}. The choices come from a seeded random generator; the same seed gives the same choices, though when
 * they happen also depends on when restarted nodes count again.
 */
final class Chaos implements AutoCloseable {

    /** When the first fault comes, after the start of the run. */
    static final Duration FIRST_FAULT = Duration.ofSeconds(1);
    private static final long MIN_GAP_MILLIS = 1500;
    private static final long MAX_GAP_MILLIS = 3000;
    /** How often a full fault budget is checked again. */
    private static final long RETRY_MILLIS = 250;
    /** How often the state of restarted nodes is polled. */
    private static final long POLL_MILLIS = 100;
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(5);

    private enum State { UP, KILLED, PAUSED, RECOVERING }

    private final List<RedisServer> nodes;
    private final ReactiveRedLock redlock;
    private final long seed;
    private final SplittableRandom random;
    private final int maxOut;
    private final Duration holdOut;
    private final Consumer<String> log;
    private final long startNanos;
    private final ScheduledExecutorService thread;

    // only touched on the chaos thread, and by close() once that thread has ended
    private final State[] state;
    private final long[] restartedAt;
    private final boolean[] seenHeldOut;
    private boolean first = true;

    private volatile int kills;
    private volatile int pauses;
    private volatile int restarts;
    private volatile int maxOutSeen;
    private volatile boolean closed;
    /** Whether the chaos thread ended after {@link #stop()}; only then is the node state safe to read. */
    private volatile boolean stopped;

    /**
     * Chaos on {@code nodes}, the lock client's nodes in its order; faults start {@link #FIRST_FAULT} after
     * {@code startNanos} ({@code System.nanoTime()} based) once {@link #start()} is called. {@code holdOut} is how
     * long the restart guard holds a restarted node out (the client's maximum lease time).
     */
    Chaos(List<RedisServer> nodes, ReactiveRedLock redlock, long seed, Duration holdOut, Consumer<String> log,
            long startNanos) {
        this.nodes = List.copyOf(nodes);
        this.redlock = redlock;
        this.seed = seed;
        this.random = new SplittableRandom(seed);
        this.maxOut = (nodes.size() - 1) / 2;
        this.holdOut = holdOut;
        this.log = log;
        this.startNanos = startNanos;
        this.state = new State[nodes.size()];
        Arrays.fill(state, State.UP);
        this.restartedAt = new long[nodes.size()];
        this.seenHeldOut = new boolean[nodes.size()];
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "redlock-demo-chaos");
            t.setDaemon(true);
            return t;
        });
    }

    void start() {
        long delay = startNanos + FIRST_FAULT.toNanos() - System.nanoTime();
        thread.schedule(this::fault, Math.max(0, delay), TimeUnit.NANOSECONDS);
        thread.scheduleWithFixedDelay(this::poll, POLL_MILLIS, POLL_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * What happened, for the summary: e.g. {@code 5 faults: 2 killed, 2 paused, 1 restarted at once; at most 2 of
     * 5 nodes out at once}.
     */
    String summary() {
        int faults = kills + pauses + restarts;
        return String.format(Locale.ROOT, "%d fault%s: %d killed, %d paused, %d restarted at once; at most %d of %d"
                        + " nodes out at once (seed %d)", faults, faults == 1 ? "" : "s", kills, pauses, restarts,
                maxOutSeen, nodes.size(), seed);
    }

    // == On the chaos thread ==

    private void fault() {
        if (closed) {
            return;
        }
        List<NodeStatus> status = redlock.nodeStatus();
        List<Integer> candidates = new ArrayList<>();
        int out = 0;
        for (int i = 0; i < nodes.size(); i++) {
            if (isOut(i, status)) {
                out++;
            } else {
                candidates.add(i);
            }
        }
        if (out >= maxOut || candidates.isEmpty()) {
            schedule(this::fault, RETRY_MILLIS); // the budget is full: wait until a node counts again
            return;
        }
        int i = candidates.get(random.nextInt(candidates.size()));
        int kind = first ? 0 : random.nextInt(10);
        first = false;
        try {
            if (kind < 4) {
                kill(i);
            } else if (kind < 8) {
                pause(i);
            } else {
                restartAtOnce(i);
            }
        } catch (RuntimeException e) {
            say("chaos: fault on node " + name(i) + " failed: " + Demo.describe(e));
        }
        maxOutSeen = Math.max(maxOutSeen, out + 1);
        schedule(this::fault, random.nextLong(MIN_GAP_MILLIS, MAX_GAP_MILLIS + 1));
    }

    private void kill(int i) {
        long downMillis = random.nextLong(1000, 2501);
        nodes.get(i).kill();
        state[i] = State.KILLED;
        kills++;
        say(String.format(Locale.ROOT, "chaos: node %s killed (SIGKILL), restart in %s", name(i), seconds(downMillis)));
        schedule(() -> {
            try {
                nodes.get(i).restart();
                recovering(i);
                say("chaos: node " + name(i) + " restarted on the same port, empty; the restart guard holds it out of"
                        + " quorums for " + Durations.format(holdOut));
            } catch (RuntimeException e) {
                say("chaos: node " + name(i) + " could not be restarted, it stays down: " + Demo.describe(e));
            }
        }, downMillis);
    }

    private void pause(int i) {
        long pauseMillis = random.nextLong(500, 2501);
        nodes.get(i).pause();
        state[i] = State.PAUSED;
        pauses++;
        say("chaos: node " + name(i) + " paused " + seconds(pauseMillis) + " (SIGSTOP)");
        schedule(() -> {
            try {
                nodes.get(i).resume();
                state[i] = State.UP;
                say("chaos: node " + name(i) + " resumed (SIGCONT)");
            } catch (RuntimeException e) {
                say("chaos: node " + name(i) + " could not be resumed: " + Demo.describe(e));
            }
        }, pauseMillis);
    }

    private void restartAtOnce(int i) {
        nodes.get(i).restart();
        recovering(i);
        restarts++;
        say("chaos: node " + name(i) + " killed and restarted at once, empty: it forgot its locks; the restart guard"
                + " holds it out of quorums for " + Durations.format(holdOut));
    }

    private void recovering(int i) {
        state[i] = State.RECOVERING;
        restartedAt[i] = System.nanoTime();
        seenHeldOut[i] = false;
    }

    /** Moves restarted nodes back to UP once the client counts them again. */
    private void poll() {
        if (closed) {
            return;
        }
        List<NodeStatus> status = redlock.nodeStatus();
        for (int i = 0; i < nodes.size(); i++) {
            if (state[i] != State.RECOVERING) {
                continue;
            }
            NodeStatus s = status.get(i);
            if (!s.heldOutFor().isZero()) {
                seenHeldOut[i] = true;
            }
            long since = System.nanoTime() - restartedAt[i];
            // until the client has seen the new run_id, the node may still look fine from before the restart
            if (s.counts() && (seenHeldOut[i] || since > holdOut.toNanos() + TimeUnit.SECONDS.toNanos(2))) {
                state[i] = State.UP;
                say(String.format(Locale.ROOT, "chaos: node %s counts again, %s after its restart", name(i),
                        seconds(TimeUnit.NANOSECONDS.toMillis(since))));
            }
        }
    }

    private boolean isOut(int i, List<NodeStatus> status) {
        return state[i] != State.UP || !status.get(i).counts();
    }

    private void schedule(Runnable action, long delayMillis) {
        if (!closed) {
            thread.schedule(() -> {
                if (!closed) {
                    action.run();
                }
            }, delayMillis, TimeUnit.MILLISECONDS);
        }
    }

    private void say(String line) {
        if (!closed) {
            long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
            log.accept(String.format(Locale.ROOT, "[%5.1fs] %s", elapsedMillis / 1000.0, line));
        }
    }

    private String name(int i) {
        RedisServer node = nodes.get(i);
        return node.host() + ":" + node.port();
    }

    private static String seconds(long millis) {
        return String.format(Locale.ROOT, "%.1fs", millis / 1000.0);
    }

    /**
     * Stops injecting faults and resumes paused nodes, so that the releases at the end of the run are answered.
     * Killed nodes stay down (they refuse connections at once) until {@link #close()}. Blocking, bounded; idempotent.
     */
    void stop() {
        if (closed) {
            return;
        }
        closed = true;
        thread.shutdownNow();
        try {
            stopped = thread.awaitTermination(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        restore(State.PAUSED);
    }

    /**
     * {@link #stop()}, then restarts the nodes it left killed, so that every node is up again as at the start and
     * nothing is left reconnecting to a dead port while the clients shut down. Blocking, bounded; idempotent.
     */
    @Override
    public void close() {
        stop();
        restore(State.KILLED);
    }

    /** Brings back the nodes in {@code state}; only once the chaos thread has ended (a stuck one keeps them). */
    private synchronized void restore(State which) {
        if (!stopped) {
            return; // a node operation is stuck; closing the nodes kills them anyway
        }
        for (int i = 0; i < nodes.size(); i++) {
            if (state[i] != which) {
                continue;
            }
            try {
                if (which == State.PAUSED) {
                    nodes.get(i).resume();
                } else {
                    nodes.get(i).restart();
                }
                state[i] = State.UP;
            } catch (RuntimeException e) {
                // closing the nodes kills it anyway
            }
        }
    }
}
