package dev.redlock.internal.health;

import dev.redlock.BreakerOptions;
import dev.redlock.NodeHeldOutException;
import dev.redlock.NodeStatus;
import dev.redlock.internal.engine.Engine;
import dev.redlock.internal.script.Script;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the client knows about one node's health: a resilience4j circuit breaker that makes a node known to be down
 * fail fast instead of costing its timeout on every attempt, plus the health monitor's latest observations.
 *
 * <p>Releases are never gated by the breaker (a key must not outlive its lease for lack of trying); acquires,
 * extensions and queries are. The health monitor's pings are recorded too, and a successful ping moves an open
 * breaker to half-open so real traffic probes the node back in.
 */
public final class NodeHealth {

    /** The breaker used unless the builder sets another configuration. */
    /** The resilience4j configuration for the project's own {@link BreakerOptions} (null when disabled). */
    static CircuitBreakerConfig config(BreakerOptions options) {
        if (!options.enabled()) {
            return null;
        }
        return CircuitBreakerConfig.custom()
                .slidingWindow(options.windowSize(), options.minimumCalls(),
                        CircuitBreakerConfig.SlidingWindowType.COUNT_BASED,
                        CircuitBreakerConfig.SlidingWindowSynchronizationStrategy.LOCK_FREE)
                .failureRateThreshold((float) options.failureRateThreshold())
                .waitDurationInOpenState(options.openFor())
                .permittedNumberOfCallsInHalfOpenState(options.halfOpenCalls())
                .build();
    }

    private final String name;
    private final CircuitBreaker breaker;
    private final Engine owner;
    private volatile boolean up = true;
    private volatile long lastPingNanos = -1;
    private volatile Throwable lastError;
    private final AtomicInteger consecutivePingFailures = new AtomicInteger();
    private volatile long usedMemory = -1;
    private volatile long maxMemory = -1;

    public NodeHealth(String name, BreakerOptions options, Engine owner) {
        CircuitBreakerConfig config = config(options);
        this.name = name;
        this.owner = owner;
        this.breaker = config == null
                ? null
                : CircuitBreaker.of("redlock-" + name, CircuitBreakerConfig.from(config)
                        .clock(new SchedulerClock(owner))
                        .build());
        if (breaker != null && owner.eventBus().recording()) {
            breaker.getEventPublisher().onStateTransition(e -> owner.eventBus().recorder()
                    .breakerStateChanged(name, state(e.getStateTransition().getToState())));
        }
    }

    /** The node's memory figures of a health check ({@code INFO memory}). */
    void memory(long used, long max) {
        usedMemory = used;
        maxMemory = max;
    }

    /** The command may go, and its outcome feeds the breaker. */
    public static final int PERMITTED = 0;
    /** The command may go, but outside the breaker (releases, or a probe the quorum needs): outcome not recorded. */
    static final int BYPASS = 1;
    /** The breaker is open and the other nodes can still form a quorum: fail this node at once. */
    public static final int DENIED = 2;

    /**
     * Whether a command of this script may be sent now. An open breaker only skips its node while enough other
     * nodes have closed breakers to form a quorum: when the client itself is slow (a cold JVM, a starved CPU) every
     * node times out, and breakers that then skipped a majority would take the whole lock down for their open
     * period instead of protecting it.
     */
    public int permit(Script script, NodeHealth[] all, int quorum) {
        if (!gated(script)) {
            return BYPASS;
        }
        if (breaker.tryAcquirePermission()) {
            return PERMITTED;
        }
        int closed = 0;
        for (NodeHealth g : all) {
            if (g.breaker.getState() != CircuitBreaker.State.OPEN) {
                closed++;
            }
        }
        return closed >= quorum ? DENIED : BYPASS;
    }

    /** A node answered a command sent while its breaker was open: let real traffic probe it back in. */
    public void answeredWhileOpen() {
        if (breaker != null && breaker.getState() == CircuitBreaker.State.OPEN) {
            breaker.transitionToHalfOpenState();
        }
    }

    boolean gated(Script script) {
        return breaker != null && !script.isRelease();
    }

    public void success(Script script, long nanos) {
        if (gated(script)) {
            breaker.onSuccess(Math.max(0, nanos), TimeUnit.NANOSECONDS);
        }
    }

    public void failure(Script script, long nanos, Throwable error) {
        lastError = error;
        if (gated(script)) {
            breaker.onError(Math.max(0, nanos), TimeUnit.NANOSECONDS, error);
        }
    }

    /** A health-check ping answered in {@code nanos}. Returns true if the node was down before. */
    boolean pingSucceeded(long nanos) {
        lastPingNanos = nanos;
        consecutivePingFailures.set(0);
        if (breaker != null && breaker.getState() == CircuitBreaker.State.OPEN) {
            breaker.transitionToHalfOpenState(); // probe it back in with real traffic
        }
        boolean wasDown = !up;
        up = true;
        return wasDown;
    }

    /** A health-check ping failed. Returns true if the node just went down. */
    boolean pingFailed(Throwable error, int failuresToDown) {
        lastError = error;
        if (consecutivePingFailures.incrementAndGet() >= failuresToDown && up) {
            up = false;
            return true;
        }
        return false;
    }

    private static NodeStatus.BreakerState state(CircuitBreaker.State state) {
        switch (state) {
            case CLOSED:
                return NodeStatus.BreakerState.CLOSED;
            case HALF_OPEN:
                return NodeStatus.BreakerState.HALF_OPEN;
            case DISABLED:
            case METRICS_ONLY:
                return NodeStatus.BreakerState.DISABLED;
            default:
                return NodeStatus.BreakerState.OPEN; // OPEN, FORCED_OPEN
        }
    }

    public NodeStatus status(NodeHeldOutException heldOut) {
        return new NodeStatus(
                name,
                up,
                lastPingNanos < 0 ? null : Duration.ofNanos(lastPingNanos),
                breaker == null ? NodeStatus.BreakerState.DISABLED : state(breaker.getState()),
                heldOut == null ? Duration.ZERO : heldOut.remaining(),
                lastError == null ? null : String.valueOf(lastError.getMessage()),
                usedMemory,
                maxMemory);
    }

    /** The resilience4j breaker reads the client's scheduler clock, so breaker timing runs in virtual time too. */
    private static final class SchedulerClock extends Clock {
        private final Engine owner;

        SchedulerClock(Engine owner) {
            this.owner = owner;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            long nanos = owner.now();
            return Instant.ofEpochSecond(Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L));
        }

        @Override
        public long millis() {
            return TimeUnit.NANOSECONDS.toMillis(owner.now());
        }
    }
}
