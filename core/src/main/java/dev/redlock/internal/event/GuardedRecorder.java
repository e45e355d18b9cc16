package dev.redlock.internal.event;

import dev.redlock.LeaseLostException;
import dev.redlock.NodeStatus;
import dev.redlock.metrics.LockMetricsRecorder;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A recorder that never throws: an exception of the application's recorder is logged (the first one with its stack,
 * later ones at debug) and otherwise ignored, so metrics never fail a lock operation.
 */
final class GuardedRecorder implements LockMetricsRecorder {

    private static final Logger log = LoggerFactory.getLogger(GuardedRecorder.class);

    private final LockMetricsRecorder delegate;
    private final AtomicBoolean warned = new AtomicBoolean();

    GuardedRecorder(LockMetricsRecorder delegate) {
        this.delegate = delegate;
    }

    private void failed(RuntimeException e) {
        if (warned.compareAndSet(false, true)) {
            log.warn("the metrics recorder {} threw; its errors are ignored from now on", delegate, e);
        } else {
            log.debug("the metrics recorder {} threw", delegate, e);
        }
    }

    @Override
    public void acquireEnded(String name, AcquireOutcome outcome, Duration waited) {
        try {
            delegate.acquireEnded(name, outcome, waited);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public void leaseAcquired(String name, Duration validity) {
        try {
            delegate.leaseAcquired(name, validity);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public void leaseRenewed(String name, boolean renewed) {
        try {
            delegate.leaseRenewed(name, renewed);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public void leaseLost(String name, LeaseLostException.Reason reason) {
        try {
            delegate.leaseLost(name, reason);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public void leaseReleased(String name, Duration held, boolean confirmed) {
        try {
            delegate.leaseReleased(name, held, confirmed);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public void adaptiveLeaseTime(String group, Duration leaseTime) {
        try {
            delegate.adaptiveLeaseTime(group, leaseTime);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public void nodeStateChanged(String node, boolean up) {
        try {
            delegate.nodeStateChanged(node, up);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public void nodeHeldOut(String node, Duration heldOutFor) {
        try {
            delegate.nodeHeldOut(node, heldOutFor);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public void nodeReplied(String node, String script, NodeReply reply, Duration latency) {
        try {
            delegate.nodeReplied(node, script, reply, latency);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public void breakerStateChanged(String node, NodeStatus.BreakerState state) {
        try {
            delegate.breakerStateChanged(node, state);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public void permitsHeld(String semaphore, int delta) {
        try {
            delegate.permitsHeld(semaphore, delta);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public void rateLimitDecided(String limiter, boolean allowed) {
        try {
            delegate.rateLimitDecided(limiter, allowed);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public <T> Mono<T> observeAcquire(String name, Mono<T> acquire) {
        try {
            return delegate.observeAcquire(name, acquire);
        } catch (RuntimeException e) {
            failed(e);
            return acquire;
        }
    }

    @Override
    public <T> Flux<T> observeHold(String name, Flux<T> body) {
        try {
            return delegate.observeHold(name, body);
        } catch (RuntimeException e) {
            failed(e);
            return body;
        }
    }
}
