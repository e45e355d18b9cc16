package dev.redlock.internal.semaphore;

import dev.redlock.LockOptions;
import dev.redlock.QuorumUnavailableException;
import dev.redlock.internal.Checks;
import dev.redlock.internal.engine.Engine;
import dev.redlock.internal.engine.QuorumRule;
import dev.redlock.internal.quorum.QuorumCall;
import dev.redlock.semaphore.PermitLease;
import dev.redlock.semaphore.RedSemaphore;
import java.time.Duration;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** {@link RedSemaphore} on the {@link Engine}: checks the arguments at call time and makes a spec per acquire. */
public final class SemaphoreHandle implements RedSemaphore {

    private final Engine engine;
    private final String prefix;
    private final String name;
    private final int permits;
    private final LockOptions options;
    private final String[] hash;

    /**
     * A handle; checks the name and the number of permits.
     *
     * @throws IllegalArgumentException for a null or blank name, or permits outside [1, 4096]
     */
    public SemaphoreHandle(Engine engine, String prefix, String name, int permits, LockOptions options) {
        this.engine = engine;
        this.prefix = prefix;
        this.name = Checks.key(name, "name");
        if (permits < 1 || permits > SemaphoreScript.MAX_PERMITS) {
            throw new IllegalArgumentException("permits must be between 1 and " + SemaphoreScript.MAX_PERMITS
                    + ", got " + permits + " (semaphore '" + name + "')");
        }
        this.permits = permits;
        this.options = checked(engine, options);
        this.hash = new String[] {prefix + "{" + this.name + "}:permits"};
    }

    private static LockOptions checked(Engine engine, LockOptions options) {
        Checks.notNull(options, "options");
        engine.checkLeaseTime(options.leaseTime(), "leaseTime");
        if (options.fencing()) {
            throw new IllegalArgumentException("fencing is not available for semaphore permits: turn it off in the "
                    + "options (several holders share a semaphore, so no token order could protect a resource)");
        }
        if (options.adaptiveLeaseTime()) {
            // hold times are kept per lock group; a permit's hold says little about the next holder's
            throw new IllegalArgumentException("adaptiveLeaseTime is not available for semaphore permits: turn it off "
                    + "in the options");
        }
        return options;
    }

    private int checkedN(int n) {
        if (n < 1 || n > permits) {
            throw new IllegalArgumentException("n must be between 1 and the semaphore's permits (" + permits
                    + "), got " + n + " (semaphore '" + name + "')");
        }
        return n;
    }

    private SemaphoreSpec spec(int n, boolean reserve) {
        return new SemaphoreSpec(prefix, name, permits, n, reserve, options);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int permits() {
        return permits;
    }

    @Override
    public LockOptions options() {
        return options;
    }

    @Override
    public RedSemaphore withOptions(LockOptions options) {
        return new SemaphoreHandle(engine, prefix, name, permits, options);
    }

    @Override
    public Mono<PermitLease> acquire(int n) {
        SemaphoreSpec spec = spec(checkedN(n), !options.maxWait().isZero());
        return wrap(engine.acquire(spec, options), n);
    }

    @Override
    public Mono<PermitLease> tryAcquire(int n) {
        SemaphoreSpec spec = spec(checkedN(n), false);
        return wrap(engine.tryAcquire(spec, options), n);
    }

    /** The engine's lease as a permit lease; one that reaches a cancelled subscriber is released. */
    private static Mono<PermitLease> wrap(Mono<? extends dev.redlock.Lease> lease, int n) {
        return lease.<PermitLease>map(l -> new Permits(l, n))
                .doOnDiscard(Permits.class, p -> p.release().subscribe(v -> {}, e -> {}));
    }

    @Override
    public <T> Flux<T> withPermits(int n, Function<? super PermitLease, ? extends Publisher<? extends T>> body) {
        SemaphoreSpec spec = spec(checkedN(n), !options.maxWait().isZero());
        Checks.notNull(body, "body");
        return engine.scope().flux(spec, options, lease -> body.apply(new Permits(lease, n)));
    }

    @Override
    public <T> Mono<T> withPermitsMono(int n, Function<? super PermitLease, ? extends Mono<? extends T>> body) {
        SemaphoreSpec spec = spec(checkedN(n), !options.maxWait().isZero());
        Checks.notNull(body, "body");
        return engine.scope().mono(spec, options, lease -> body.apply(new Permits(lease, n)));
    }

    @Override
    public <T> Flux<T> withPermits(int n, Flux<? extends T> body) {
        checkedN(n);
        Checks.notNull(body, "body");
        return withPermits(n, lease -> body);
    }

    @Override
    public <T> Mono<T> withPermits(int n, Mono<? extends T> body) {
        checkedN(n);
        Checks.notNull(body, "body");
        return withPermitsMono(n, lease -> body);
    }

    @Override
    public Mono<Integer> availablePermits() {
        String[] args = {Integer.toString(permits)};
        return engine.ensureOpen(name, "availablePermits").then(Mono.create(sink -> new QuorumCall(
                        engine,
                        SemaphoreScript.AVAILABLE,
                        QuorumRule.MAJORITY,
                        hash,
                        args,
                        options.nodeTimeout(),
                        v -> v >= 0,
                        false,
                        false,
                        (call, yes, at) -> {
                            if (yes) {
                                long free = permits;
                                for (int i = 0; i < call.nodeCount(); i++) {
                                    Long v = call.countedReply(i);
                                    if (v != null && v >= 0) {
                                        free = Math.min(free, v);
                                    }
                                }
                                sink.success((int) free);
                                return;
                            }
                            for (int i = 0; i < call.nodeCount(); i++) {
                                Long v = call.countedReply(i);
                                if (v != null && v < -SemaphoreScript.MISMATCH) {
                                    sink.error(spec(1, false).mismatch(v));
                                    return;
                                }
                            }
                            sink.error(new QuorumUnavailableException(name,
                                    QuorumUnavailableException.Operation.AVAILABLE_PERMITS, call.nodeCount(),
                                    call.quorum(), call.yesCount(), Duration.ofNanos(at - call.startNanos()), false,
                                    call.failures()));
                        })
                .start(null)));
    }

    @Override
    public String toString() {
        return "RedSemaphore{" + name + ", permits=" + permits + '}';
    }
}
