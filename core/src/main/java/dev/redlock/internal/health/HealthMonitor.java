package dev.redlock.internal.health;

import dev.redlock.LockEvent;
import dev.redlock.internal.engine.Engine;
import dev.redlock.internal.node.LettuceNode;
import dev.redlock.internal.node.NodeChannel;
import dev.redlock.internal.script.LockScript;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * Pings every node periodically on the client's scheduler: records the round trip, marks a node down after
 * {@link #FAILURES_TO_DOWN} failed checks in a row and up again after one success (events {@code NODE_DOWN} /
 * {@code NODE_UP}), feeds the circuit breakers, and, through the reconnect it triggers, lets the restart guard see a
 * restart even when no lock traffic reaches the node. Started with the client's first operation.
 */
public final class HealthMonitor {

    static final int FAILURES_TO_DOWN = 2;
    private static final String[] NONE = new String[0];

    private final Engine owner;
    private final Duration interval;
    private final Duration timeout;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicIntegerArray inFlight;
    private volatile Disposable ticks;

    public HealthMonitor(Engine owner, Duration interval, Duration timeout) {
        this.owner = owner;
        this.interval = interval;
        this.timeout = timeout;
        this.inFlight = new AtomicIntegerArray(owner.channels().length);
    }

    public void start() {
        if (!interval.isZero() && started.compareAndSet(false, true)) {
            ticks = Flux.interval(interval, interval, owner.scheduler())
                    .onBackpressureDrop()
                    .subscribe(tick -> checkAll(), e -> {});
        }
    }

    public void stop() {
        Disposable d = ticks;
        if (d != null) {
            d.dispose();
        }
    }

    /**
     * Reads the node's memory figures after a successful ping, off the ping's timing; a failure keeps the last
     * figures (the ping decides up and down).
     */
    private void readMemory(int i, NodeChannel.NodeConnection c) {
        c.eval(LockScript.USED_MEMORY, NONE, NONE).thenCombine(c.eval(LockScript.MAX_MEMORY, NONE, NONE),
                (used, max) -> {
                    owner.health()[i].memory(used, max);
                    return used;
                });
    }

    void checkAll() {
        NodeChannel[] nodes = owner.channels();
        for (int i = 0; i < nodes.length; i++) {
            if (inFlight.compareAndSet(i, 0, 1)) {
                check(i, nodes[i]);
            }
        }
    }

    private void check(int i, NodeChannel node) {
        long start = owner.now();
        CompletableFuture<Long> result = new CompletableFuture<>();
        Disposable timer = owner.scheduler().schedule(
                () -> result.completeExceptionally(new TimeoutException(
                        "health check of " + node.name() + " got no reply within " + timeout)),
                timeout.toNanos(),
                TimeUnit.NANOSECONDS);
        NodeChannel.NodeConnection ready = node.ready();
        CompletionStage<NodeChannel.NodeConnection> connection =
                ready != null ? CompletableFuture.completedFuture(ready) : node.connect();
        connection
                .thenCompose(c -> c.eval(LockScript.PING, NONE, NONE).thenApply(v -> {
                    readMemory(i, c);
                    return v;
                }))
                .whenComplete((v, e) -> {
                    if (e != null) {
                        result.completeExceptionally(LettuceNode.unwrap(e));
                    } else {
                        result.complete(v);
                    }
                });
        result.whenComplete((v, e) -> {
            timer.dispose();
            inFlight.set(i, 0);
            NodeHealth guard = owner.health()[i];
            long latency = owner.now() - start;
            if (e == null) {
                if (guard.pingSucceeded(latency)) {
                    owner.eventBus().node(LockEvent.Type.NODE_UP, node.name(), Duration.ofNanos(latency), null);
                }
            } else if (guard.pingFailed(e, FAILURES_TO_DOWN)) {
                owner.eventBus().node(LockEvent.Type.NODE_DOWN, node.name(), Duration.ZERO, e);
            }
        });
    }
}
