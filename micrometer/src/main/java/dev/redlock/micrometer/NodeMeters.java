package dev.redlock.micrometer;

import dev.redlock.NodeStatus;
import dev.redlock.metrics.LockMetricsRecorder.NodeReply;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/** The meters of one node: its replies by script and kind, up/down, breaker state, restart-guard hold-outs. */
final class NodeMeters {

    private final MeterRegistry registry;
    private final String node;
    /** Per script name (a fixed set), one timer per reply kind. */
    private final ConcurrentMap<String, Timer[]> replies = new ConcurrentHashMap<>();
    private final Timer heldOut;
    private volatile int up = 1;
    private volatile NodeStatus.BreakerState breaker = NodeStatus.BreakerState.CLOSED;

    NodeMeters(MeterRegistry registry, String node) {
        this.registry = registry;
        this.node = node;
        Gauge.builder("redlock.node.up", this, m -> m.up)
                .description("1 while health checks find the node up, else 0")
                .tags("node", node)
                .strongReference(true)
                .register(registry);
        for (NodeStatus.BreakerState state : NodeStatus.BreakerState.values()) {
            Gauge.builder("redlock.node.breaker", this, m -> m.breaker == state ? 1 : 0)
                    .description("1 for the node's circuit-breaker state, 0 for the other states")
                    .tags("node", node, "state", state.name().toLowerCase(Locale.ROOT))
                    .strongReference(true)
                    .register(registry);
        }
        this.heldOut = Timer.builder("redlock.node.held.out")
                .description("Restart-guard hold-outs of the node and their length")
                .tags("node", node)
                .register(registry);
    }

    void replied(String script, NodeReply reply, Duration latency) {
        Timer[] timers = replies.get(script);
        if (timers == null) {
            timers = replies.computeIfAbsent(script, s -> new Timer[NodeReply.values().length]);
        }
        Timer timer = timers[reply.ordinal()];
        if (timer == null) {
            // registering twice returns the same meter: a race only costs a lookup
            timer = Timer.builder("redlock.node.replies")
                    .description("Each node's answers to quorum calls and their latency")
                    .tags("node", node, "script", script, "reply", reply.name().toLowerCase(Locale.ROOT))
                    .register(registry);
            timers[reply.ordinal()] = timer;
        }
        timer.record(latency.toNanos(), TimeUnit.NANOSECONDS);
    }

    void up(boolean isUp) {
        up = isUp ? 1 : 0;
    }

    void breaker(NodeStatus.BreakerState state) {
        breaker = state;
    }

    void heldOut(Duration heldOutFor) {
        heldOut.record(heldOutFor.toNanos(), TimeUnit.NANOSECONDS);
    }
}
