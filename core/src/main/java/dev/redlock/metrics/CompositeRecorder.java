package dev.redlock.metrics;

import dev.redlock.LeaseLostException;
import dev.redlock.NodeStatus;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * {@link LockMetricsRecorder#composite}: every call goes to each recorder in order; the first exception is thrown
 * after all have had the call (the client logs it). Observations nest: the first recorder's is the outermost.
 */
final class CompositeRecorder implements LockMetricsRecorder {

    private final LockMetricsRecorder[] recorders;

    private CompositeRecorder(LockMetricsRecorder[] recorders) {
        this.recorders = recorders;
    }

    static LockMetricsRecorder of(LockMetricsRecorder... recorders) {
        if (recorders == null || recorders.length == 0) {
            throw new IllegalArgumentException("composite needs at least one recorder");
        }
        for (int i = 0; i < recorders.length; i++) {
            if (recorders[i] == null) {
                throw new IllegalArgumentException("recorders[" + i + "] is null");
            }
        }
        return recorders.length == 1 ? recorders[0] : new CompositeRecorder(recorders.clone());
    }

    /** Calls each recorder; one that throws does not keep the next from its call. */
    private void each(Consumer<LockMetricsRecorder> call) {
        RuntimeException first = null;
        for (LockMetricsRecorder r : recorders) {
            try {
                call.accept(r);
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public void acquireEnded(String name, AcquireOutcome outcome, Duration waited) {
        each(r -> r.acquireEnded(name, outcome, waited));
    }

    @Override
    public void leaseAcquired(String name, Duration validity) {
        each(r -> r.leaseAcquired(name, validity));
    }

    @Override
    public void leaseRenewed(String name, boolean renewed) {
        each(r -> r.leaseRenewed(name, renewed));
    }

    @Override
    public void leaseLost(String name, LeaseLostException.Reason reason) {
        each(r -> r.leaseLost(name, reason));
    }

    @Override
    public void leaseReleased(String name, Duration held, boolean confirmed) {
        each(r -> r.leaseReleased(name, held, confirmed));
    }

    @Override
    public void adaptiveLeaseTime(String group, Duration leaseTime) {
        each(r -> r.adaptiveLeaseTime(group, leaseTime));
    }

    @Override
    public void nodeStateChanged(String node, boolean up) {
        each(r -> r.nodeStateChanged(node, up));
    }

    @Override
    public void nodeHeldOut(String node, Duration heldOutFor) {
        each(r -> r.nodeHeldOut(node, heldOutFor));
    }

    @Override
    public void nodeReplied(String node, String script, NodeReply reply, Duration latency) {
        each(r -> r.nodeReplied(node, script, reply, latency));
    }

    @Override
    public void breakerStateChanged(String node, NodeStatus.BreakerState state) {
        each(r -> r.breakerStateChanged(node, state));
    }

    @Override
    public void permitsHeld(String semaphore, int delta) {
        each(r -> r.permitsHeld(semaphore, delta));
    }

    @Override
    public void rateLimitDecided(String limiter, boolean allowed) {
        each(r -> r.rateLimitDecided(limiter, allowed));
    }

    @Override
    public <T> Mono<T> observeAcquire(String name, Mono<T> acquire) {
        Mono<T> observed = acquire;
        for (int i = recorders.length - 1; i >= 0; i--) {
            observed = recorders[i].observeAcquire(name, observed);
        }
        return observed;
    }

    @Override
    public <T> Flux<T> observeHold(String name, Flux<T> body) {
        Flux<T> observed = body;
        for (int i = recorders.length - 1; i >= 0; i--) {
            observed = recorders[i].observeHold(name, observed);
        }
        return observed;
    }

    @Override
    public String toString() {
        return "composite" + List.of(recorders);
    }
}
