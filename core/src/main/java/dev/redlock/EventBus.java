package dev.redlock;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * Multicasts {@link LockEvent}s to whoever subscribed to {@link ReactiveRedLock#events()}. Best effort: a slow
 * subscriber misses events instead of slowing locks down, and nothing is built while nobody listens.
 */
final class EventBus {

    private final Sinks.Many<LockEvent> sink = Sinks.many().multicast().directBestEffort();
    private final Scheduler scheduler;

    EventBus(Scheduler scheduler) {
        this.scheduler = scheduler;
    }

    Flux<LockEvent> flux() {
        return sink.asFlux();
    }

    boolean listening() {
        return sink.currentSubscriberCount() > 0;
    }

    void lease(LockEvent.Type type, String key, String token, Duration duration, Throwable error) {
        if (listening()) {
            emit(new LockEvent(type, key, null, Tokens.shortHash(token), now(), duration, error));
        }
    }

    void node(LockEvent.Type type, String node, Duration duration, Throwable error) {
        if (listening()) {
            emit(new LockEvent(type, null, node, null, now(), duration, error));
        }
    }

    void complete() {
        synchronized (sink) {
            sink.tryEmitComplete();
        }
    }

    private Instant now() {
        return Instant.ofEpochMilli(scheduler.now(TimeUnit.MILLISECONDS));
    }

    private void emit(LockEvent event) {
        // Events come from several event-loop threads; the sink needs serialized emission. The critical section is a
        // single non-blocking hand-off to subscribers.
        synchronized (sink) {
            sink.tryEmitNext(event);
        }
    }
}
