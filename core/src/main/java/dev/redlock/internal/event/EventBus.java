package dev.redlock.internal.event;

import dev.redlock.LeaseLostException;
import dev.redlock.LockEvent;
import dev.redlock.metrics.LockMetricsRecorder;
import dev.redlock.ReactiveRedLock;
import dev.redlock.internal.Tokens;
import java.time.Duration;
import java.time.Instant;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * Multicasts {@link LockEvent}s to whoever subscribed to {@link ReactiveRedLock#events()}. Best effort: a slow
 * subscriber misses events instead of slowing locks down, and nothing is built while nobody listens.
 *
 * <p>Events come from the threads that run lock operations (Lettuce's event loops, the client's scheduler). They
 * never call a subscriber there: an emitter only puts the event in a lock-free queue, one emitter at a time hands
 * the queue to the sink (a queue-drain loop instead of a monitor, so nobody waits for anybody), and each subscriber
 * receives on the delivery scheduler with a buffer of {@link #BUFFER} events. A subscriber that is slow or blocks
 * delays only itself; once its buffer is full it misses events.
 */
public final class EventBus {

    /** Events buffered per subscriber before it starts missing them. */
    static final int BUFFER = 256;

    private final Sinks.Many<LockEvent> sink = Sinks.many().multicast().directBestEffort();
    private final Queue<Object> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger wip = new AtomicInteger();
    private final Scheduler clock;
    private final GuardedRecorder recorder;
    /** Whether the application installed a recorder: without one, events skip the recorder calls altogether. */
    private final boolean recording;
    private final Flux<LockEvent> flux;

    private static final Object COMPLETE = new Object();

    public EventBus(Scheduler clock, Scheduler delivery) {
        this(clock, delivery, LockMetricsRecorder.NOOP);
    }

    /** Events that also feed {@code recorder} (the metrics SPI), whether or not anybody listens to them. */
    public EventBus(Scheduler clock, Scheduler delivery, LockMetricsRecorder recorder) {
        this.recorder = new GuardedRecorder(recorder);
        this.recording = recorder != LockMetricsRecorder.NOOP;
        this.clock = clock;
        this.flux = sink.asFlux().publishOn(delivery, BUFFER);
    }

    public Flux<LockEvent> flux() {
        return flux;
    }

    boolean listening() {
        return sink.currentSubscriberCount() > 0;
    }

    /** The metrics recorder (never throws). */
    public LockMetricsRecorder recorder() {
        return recorder;
    }

    /** Whether an application recorder is installed (else the engine skips measuring what only it would get). */
    public boolean recording() {
        return recording;
    }

    public void lease(LockEvent.Type type, String key, String token, Duration duration, Throwable error) {
        if (recording) {
            record(type, key, duration, error);
        }
        if (listening()) {
            emit(new LockEvent(type, key, null, Tokens.shortHash(token), now(), duration, error));
        }
    }

    /**
     * A lease was granted, told to the recorder: before the hand-over, so the metrics count the lease while its
     * holder runs. {@link #emitAcquired} tells {@code events()} subscribers after it.
     */
    public void recordAcquired(String key, Duration validity) {
        if (recording) {
            recorder.leaseAcquired(key, validity);
        }
    }

    /** A lease was granted and handed over: an ACQUIRED event, so a subscriber that reacts to it finds it delivered. */
    public void emitAcquired(String key, String token, Duration validity) {
        if (listening()) {
            emit(new LockEvent(LockEvent.Type.ACQUIRED, key, null, Tokens.shortHash(token), now(), validity, null));
        }
    }

    private void record(LockEvent.Type type, String key, Duration duration, Throwable error) {
        switch (type) {
            case RENEWED:
                recorder.leaseRenewed(key, true);
                break;
            case RENEWAL_FAILED:
                recorder.leaseRenewed(key, false);
                break;
            case LOST:
                recorder.leaseLost(key, ((LeaseLostException) error).reason());
                break;
            case RELEASED:
            case RELEASE_UNCONFIRMED:
                recorder.leaseReleased(key, duration, type == LockEvent.Type.RELEASED);
                break;
            default:
                break;
        }
    }

    /**
     * The adaptive lease time of {@code group} changed to {@code leaseTime}, as an acquire of {@code key} found: an
     * {@link LockEvent.Type#ADAPTIVE_LEASE} event and the recorder's {@code adaptiveLeaseTime}.
     */
    public void adaptiveLease(String key, String group, Duration leaseTime) {
        if (recording) {
            recorder.adaptiveLeaseTime(group, leaseTime);
        }
        if (listening()) {
            emit(new LockEvent(LockEvent.Type.ADAPTIVE_LEASE, key, null, null, now(), leaseTime, null));
        }
    }

    /** The permits this client holds of semaphore {@code name} changed by {@code delta}: told to the recorder. */
    public void permits(String name, int delta) {
        if (recording) {
            recorder.permitsHeld(name, delta);
        }
    }

    /** A rate limiter decided a request: told to the recorder. */
    public void rateLimit(String name, boolean allowed) {
        if (recording) {
            recorder.rateLimitDecided(name, allowed);
        }
    }

    public void node(LockEvent.Type type, String node, Duration duration, Throwable error) {
        if (recording && (type == LockEvent.Type.NODE_UP || type == LockEvent.Type.NODE_DOWN)) {
            recorder.nodeStateChanged(node, type == LockEvent.Type.NODE_UP);
        } else if (recording && type == LockEvent.Type.NODE_HELD_OUT) {
            recorder.nodeHeldOut(node, duration);
        }
        if (listening()) {
            emit(new LockEvent(type, null, node, null, now(), duration, error));
        }
    }

    public void complete() {
        emit(COMPLETE);
    }

    private Instant now() {
        return Instant.ofEpochMilli(clock.now(TimeUnit.MILLISECONDS));
    }

    private void emit(Object event) {
        queue.offer(event);
        if (wip.getAndIncrement() != 0) {
            return; // the thread draining now hands it over too
        }
        int missed = 1;
        do {
            Object next;
            while ((next = queue.poll()) != null) {
                if (next == COMPLETE) {
                    sink.tryEmitComplete();
                } else {
                    sink.tryEmitNext((LockEvent) next);
                }
            }
            missed = wip.addAndGet(-missed);
        } while (missed != 0);
    }
}
