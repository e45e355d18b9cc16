package dev.redlock.internal.fair;

import dev.redlock.Lease;
import dev.redlock.LockOptions;
import dev.redlock.fair.RedFairLock;
import dev.redlock.internal.Checks;
import dev.redlock.internal.engine.Engine;
import java.time.Duration;
import java.util.function.Function;
import java.util.function.Supplier;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * {@link RedFairLock} on the {@link Engine}: checks the arguments at call time, and makes a spec (a new waiter) per
 * subscription.
 */
public final class FairLockHandle implements RedFairLock {

    static final Duration MIN_HEARTBEAT = Duration.ofMillis(300);
    static final Duration MAX_HEARTBEAT = Duration.ofHours(1);

    private final Engine engine;
    private final String prefix;
    private final String name;
    private final LockOptions options;
    private final int priority;
    private final Duration heartbeatTimeout;
    private final Supplier<Mono<Boolean>> isLocked;

    /**
     * A handle with the default priority and heartbeat timeout.
     *
     * @param isLocked the plain lock's query on the same key
     * @throws IllegalArgumentException for a bad name or options
     */
    public FairLockHandle(Engine engine, String prefix, String name, LockOptions options,
            Supplier<Mono<Boolean>> isLocked) {
        this(engine, prefix, Checks.key(name, "name"), checked(engine, options), 0,
                Duration.ofSeconds(DEFAULT_HEARTBEAT_SECONDS), isLocked);
    }

    private FairLockHandle(Engine engine, String prefix, String name, LockOptions options, int priority,
            Duration heartbeatTimeout, Supplier<Mono<Boolean>> isLocked) {
        this.engine = engine;
        this.prefix = prefix;
        this.name = name;
        this.options = options;
        this.priority = priority;
        this.heartbeatTimeout = heartbeatTimeout;
        this.isLocked = isLocked;
    }

    private static LockOptions checked(Engine engine, LockOptions options) {
        Checks.notNull(options, "options");
        engine.checkLeaseTime(options.leaseTime(), "leaseTime");
        return options;
    }

    private FairLockSpec spec(boolean queue) {
        return new FairLockSpec(prefix, name, priority, heartbeatTimeout, queue, engine.channels().length);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LockOptions options() {
        return options;
    }

    @Override
    public int priority() {
        return priority;
    }

    @Override
    public Duration heartbeatTimeout() {
        return heartbeatTimeout;
    }

    @Override
    public RedFairLock withOptions(LockOptions options) {
        return new FairLockHandle(engine, prefix, name, checked(engine, options), priority, heartbeatTimeout, isLocked);
    }

    @Override
    public RedFairLock withPriority(int priority) {
        if (priority < 0 || priority > MAX_PRIORITY) {
            throw new IllegalArgumentException("priority must be between 0 and " + MAX_PRIORITY + ", got " + priority
                    + " (fair lock '" + name + "')");
        }
        return new FairLockHandle(engine, prefix, name, options, priority, heartbeatTimeout, isLocked);
    }

    @Override
    public RedFairLock withHeartbeatTimeout(Duration heartbeatTimeout) {
        Checks.notNull(heartbeatTimeout, "heartbeatTimeout");
        if (heartbeatTimeout.compareTo(MIN_HEARTBEAT) < 0 || heartbeatTimeout.compareTo(MAX_HEARTBEAT) > 0) {
            throw new IllegalArgumentException("heartbeatTimeout must be between " + MIN_HEARTBEAT + " and "
                    + MAX_HEARTBEAT + ", got " + heartbeatTimeout + " (fair lock '" + name + "')");
        }
        return new FairLockHandle(engine, prefix, name, options, priority, heartbeatTimeout, isLocked);
    }

    @Override
    public Mono<Lease> acquire() {
        return Mono.defer(() -> engine.acquire(spec(true), options));
    }

    @Override
    public Mono<Lease> tryAcquire() {
        return Mono.defer(() -> engine.tryAcquire(spec(false), options));
    }

    @Override
    public <T> Flux<T> withLock(Function<? super Lease, ? extends Publisher<? extends T>> body) {
        Checks.notNull(body, "body");
        return Flux.defer(() -> engine.scope().flux(spec(true), options, body));
    }

    @Override
    public <T> Mono<T> withLockMono(Function<? super Lease, ? extends Mono<? extends T>> body) {
        Checks.notNull(body, "body");
        return Mono.defer(() -> engine.scope().mono(spec(true), options, body));
    }

    @Override
    public Mono<Boolean> isLocked() {
        return isLocked.get();
    }

    @Override
    public String toString() {
        return "RedFairLock{" + name + ", priority=" + priority + '}';
    }
}
