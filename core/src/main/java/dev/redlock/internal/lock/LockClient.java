package dev.redlock.internal.lock;

import dev.redlock.Lease;
import dev.redlock.LockEvent;
import dev.redlock.LockOptions;
import dev.redlock.NodeStatus;
import dev.redlock.QuorumUnavailableException;
import dev.redlock.ReactiveRedLock;
import dev.redlock.RedLock;
import dev.redlock.RedisNode;
import dev.redlock.fair.RedFairLock;
import dev.redlock.hierarchy.RedHierarchicalLock;
import dev.redlock.internal.mode.ModeLocks;
import dev.redlock.internal.multi.MultiLocks;
import dev.redlock.rw.RedReadWriteLock;
import dev.redlock.internal.Checks;
import dev.redlock.internal.engine.Engine;
import dev.redlock.internal.fair.FairLockHandle;
import dev.redlock.internal.engine.QuorumRule;
import dev.redlock.internal.quorum.QuorumCall;
import dev.redlock.internal.ratelimit.GcraRateLimiter;
import dev.redlock.internal.script.LockScript;
import dev.redlock.internal.semaphore.SemaphoreHandle;
import dev.redlock.ratelimit.RateLimit;
import dev.redlock.ratelimit.RedRateLimiter;
import dev.redlock.semaphore.RedSemaphore;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The lock client: {@link ReactiveRedLock} on the {@link Engine}, with the lock as its {@link LockSpec}. Checks the
 * arguments at call time, names the keys ({@code <prefix>{<key>}}), and adds the lock's own query ({@code isLocked}).
 * Not API: {@code ReactiveRedLock.builder()} makes it.
 */
public final class LockClient implements ReactiveRedLock {

    private final Engine engine;
    private final String keyPrefix;
    private final LockOptions defaults;
    private final ModeLocks modeLocks;

    public LockClient(Engine engine, String keyPrefix, LockOptions defaults) {
        this.engine = engine;
        this.keyPrefix = keyPrefix;
        this.defaults = defaults;
        this.modeLocks = new ModeLocks(engine, keyPrefix, this::checked);
    }

    /** The engine (tests reach its strategies through it). */
    public Engine engine() {
        return engine;
    }

    /** Watchdogs currently running (for tests and metrics). */
    public int runningWatchdogs() {
        return engine.runningWatchdogs();
    }

    LockSpec spec(String key) {
        return new LockSpec(keyPrefix, Checks.key(key));
    }

    LockOptions checked(LockOptions options) {
        Checks.notNull(options, "options");
        engine.checkLeaseTime(options.leaseTime(), "leaseTime");
        return options;
    }

    // == One lock by name ==

    @Override
    public RedLock lock(String name) {
        LockSpec spec = spec(name);
        return new LockHandle(engine, spec.name(), waits -> spec, defaults, this::checked, () -> isLocked(spec));
    }

    @Override
    public Mono<Lease> heldLease(String key) {
        return heldLease(spec(key));
    }

    /** The lease of {@code spec} that the subscriber's Reactor {@code Context} holds, if any. */
    Mono<Lease> heldLease(LockSpec spec) {
        return Mono.deferContextual(ctx -> Mono.justOrEmpty(engine.scope().held(ctx, spec)));
    }

    // == Other primitives ==

    @Override
    public RedSemaphore semaphore(String name, int permits) {
        // fencing and adaptive lease times are a lock's options; a client whose defaults use them still makes semaphores
        LockOptions options = defaults.fencing() || defaults.adaptiveLeaseTime()
                ? defaults.mutate().fencing(false).adaptiveLeaseTime(false).build()
                : defaults;
        return new SemaphoreHandle(engine, keyPrefix, name, permits, options);
    }

    @Override
    public RedFairLock fairLock(String name) {
        LockSpec spec = spec(name);
        return new FairLockHandle(engine, keyPrefix, name, defaults, () -> isLocked(spec));
    }

    @Override
    public RedReadWriteLock readWriteLock(String name) {
        return modeLocks.readWriteLock(name, defaults);
    }

    @Override
    public RedHierarchicalLock hierarchicalLock(String path) {
        return modeLocks.hierarchicalLock(path, defaults);
    }

    @Override
    public RedLock multiLock(Collection<String> keys) {
        return MultiLocks.multiLock(engine, keyPrefix, keys, defaults, this::checked);
    }

    @Override
    public RedRateLimiter rateLimiter(String name, RateLimit limit) {
        return GcraRateLimiter.create(engine, keyPrefix, name, limit);
    }

    // == Manual acquire ==

    @Override
    public Mono<Lease> acquire(String key) {
        return acquire(key, defaults);
    }

    @Override
    public Mono<Lease> acquire(String key, LockOptions options) {
        LockSpec spec = spec(key);
        checked(options);
        return engine.acquire(spec, options).cast(Lease.class);
    }

    @Override
    public Mono<Lease> tryAcquire(String key) {
        return tryAcquire(key, defaults);
    }

    @Override
    public Mono<Lease> tryAcquire(String key, LockOptions options) {
        LockSpec spec = spec(key);
        checked(options);
        return engine.tryAcquire(spec, options).cast(Lease.class);
    }

    // == Scoped use ==

    @Override
    public <T> Flux<T> withLock(String key, Function<? super Lease, ? extends Publisher<? extends T>> body) {
        return withLock(key, defaults, body);
    }

    @Override
    public <T> Flux<T> withLock(
            String key, LockOptions options, Function<? super Lease, ? extends Publisher<? extends T>> body) {
        LockSpec spec = spec(key);
        checked(options);
        Checks.notNull(body, "body");
        return engine.scope().flux(spec, options, body);
    }

    @Override
    public <T> Flux<T> withLock(String key, Flux<? extends T> body) {
        return withLock(key, defaults, body);
    }

    @Override
    public <T> Flux<T> withLock(String key, LockOptions options, Flux<? extends T> body) {
        Checks.notNull(body, "body");
        return withLock(key, options, lease -> body);
    }

    @Override
    public <T> Mono<T> withLock(String key, Mono<? extends T> body) {
        return withLock(key, defaults, body);
    }

    @Override
    public <T> Mono<T> withLock(String key, LockOptions options, Mono<? extends T> body) {
        Checks.notNull(body, "body");
        return withLockMono(key, options, lease -> body);
    }

    @Override
    public <T> Mono<T> withLockMono(String key, Function<? super Lease, ? extends Mono<? extends T>> body) {
        return withLockMono(key, defaults, body);
    }

    @Override
    public <T> Mono<T> withLockMono(
            String key, LockOptions options, Function<? super Lease, ? extends Mono<? extends T>> body) {
        LockSpec spec = spec(key);
        checked(options);
        Checks.notNull(body, "body");
        return engine.scope().mono(spec, options, body);
    }

    // == Queries and lifecycle ==

    @Override
    public Mono<Boolean> isLocked(String key) {
        return isLocked(spec(key));
    }

    /** Whether a quorum holds the lock's key: yes at a quorum with the key, no at a quorum without it. */
    Mono<Boolean> isLocked(LockSpec spec) {
        return engine.heldByQuorum(spec.name(), LockScript.EXISTS, spec.lockOnly(), new String[0],
                defaults.nodeTimeout());
    }

    @Override
    public LockOptions defaults() {
        return defaults;
    }

    @Override
    public List<RedisNode> nodes() {
        return engine.nodes();
    }

    @Override
    public int quorum() {
        return engine.quorum();
    }

    @Override
    public Duration maxLeaseTime() {
        return engine.maxLeaseTime();
    }

    @Override
    public Mono<Void> connect() {
        return engine.connect();
    }

    @Override
    public Flux<LockEvent> events() {
        return engine.events();
    }

    @Override
    public int activeLeases() {
        return engine.activeLeases();
    }

    @Override
    public List<NodeStatus> nodeStatus() {
        return engine.nodeStatus();
    }

    @Override
    public Mono<Void> closeAsync() {
        return engine.closeAsync();
    }

    @Override
    public void close() {
        closeAsync().block(Duration.ofSeconds(10));
    }
}
