package dev.redlock.internal.lease;

import dev.redlock.Lease;
import dev.redlock.LeaseLostException;
import dev.redlock.LockOptions;
import dev.redlock.internal.engine.Engine;
import dev.redlock.internal.engine.LeaseSpec;
import java.util.Objects;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * The {@code withLock} scope, written once for {@code Flux} and {@code Mono} bodies: acquire on subscribe, run the
 * body under the lease, release on complete, error and cancel ({@code usingWhen}), renew with the watchdog while it
 * runs, cancel it and fail with {@link LeaseLostException} when the lease is lost, and let nested scopes on the same
 * key reuse the lease through the Reactor {@code Context}.
 *
 * <p>The {@code Mono} form differs only in its outer {@code usingWhen}: {@code Mono.usingWhen} emits the body's value
 * once the lease was released, {@code Flux.usingWhen} emits elements as they come.
 */
public final class Scope {

    private final Engine owner;

    public Scope(Engine owner) {
        this.owner = owner;
    }

    /** A scope on a lease of {@code spec} whose body is any publisher; arguments are checked by the caller. */
    public <T> Flux<T> flux(LeaseSpec spec, LockOptions options,
            Function<? super Lease, ? extends Publisher<? extends T>> body) {
        HeldKey heldKey = new HeldKey(owner, spec.lineKey());
        return Flux.deferContextual(ctx -> {
            DefaultLease held = held(ctx, heldKey);
            if (held != null) {
                // reentrant: the outer scope renews and releases
                return reenter(spec, held, options).flatMapMany(h -> Flux.<T>from(body.apply(h)));
            }
            DefaultLease container = container(ctx, spec);
            LeaseSpec request = container == null ? spec : nested(spec, container);
            if (container != null && request == null) {
                return reenter(spec, container, options).flatMapMany(h -> Flux.<T>from(body.apply(h)));
            }
            return Flux.usingWhen(
                    owner.acquire(request, options),
                    lease -> guarded(lease, options, heldKey, body),
                    DefaultLease::releaseFromScope,
                    (lease, error) -> lease.releaseFromScope(),
                    DefaultLease::releaseFromScope);
        });
    }

    /** A scope on a lease of {@code spec} whose body is a {@code Mono}: its value comes after the release. */
    public <T> Mono<T> mono(LeaseSpec spec, LockOptions options,
            Function<? super Lease, ? extends Mono<? extends T>> body) {
        HeldKey heldKey = new HeldKey(owner, spec.lineKey());
        return Mono.deferContextual(ctx -> {
            DefaultLease held = held(ctx, heldKey);
            if (held != null) {
                return reenter(spec, held, options).flatMap(h -> Mono.<T>from(body.apply(h)));
            }
            DefaultLease container = container(ctx, spec);
            LeaseSpec request = container == null ? spec : nested(spec, container);
            if (container != null && request == null) {
                return reenter(spec, container, options).flatMap(h -> Mono.<T>from(body.apply(h)));
            }
            return Mono.usingWhen(
                    owner.acquire(request, options),
                    lease -> this.<T>guarded(lease, options, heldKey, body).singleOrEmpty(),
                    DefaultLease::releaseFromScope,
                    (lease, error) -> lease.releaseFromScope(),
                    DefaultLease::releaseFromScope);
        });
    }

    /** The lease an enclosing scope of this engine holds on {@code spec}'s resource in {@code ctx}, or null. */
    public Lease held(ContextView ctx, LeaseSpec spec) {
        return held(ctx, new HeldKey(owner, spec.lineKey()));
    }

    /** The context of a scope's body: the lease under its line key, and under each key it covers. */
    private Context withLease(Context context, HeldKey heldKey, DefaultLease lease) {
        Context c = context.put(heldKey, lease);
        for (String key : lease.spec().coveredLineKeys()) {
            c = c.put(new HeldKey(owner, key), lease);
        }
        return c;
    }

    /** The lease an enclosing scope holds on the nearest resource that contains {@code spec}'s, or null. */
    private DefaultLease container(ContextView ctx, LeaseSpec spec) {
        for (String key : spec.enclosingLineKeys()) {
            DefaultLease held = held(ctx, new HeldKey(owner, key));
            if (held != null) {
                return held;
            }
        }
        return null;
    }

    /** {@link LeaseSpec#nestedUnder}: null to run under the container's lease, else the spec to request. */
    private static LeaseSpec nested(LeaseSpec spec, DefaultLease container) {
        return spec.nestedUnder(container.spec());
    }

    private static DefaultLease held(ContextView ctx, HeldKey heldKey) {
        DefaultLease held = ctx.getOrDefault(heldKey, null);
        return held != null && !held.isReleased() ? held : null;
    }

    /**
     * The body under the lease: the watchdog (or the deadline check) runs while it does; a loss cancels it and
     * becomes the scope's error, also a loss found when the body ends (past the deadline before the loss timer ran).
     */
    private <T> Flux<T> guarded(DefaultLease lease, LockOptions options, HeldKey heldKey,
            Function<? super Lease, ? extends Publisher<? extends T>> body) {
        return Flux.defer(() -> {
            Disposable watchdog = options.watchdog() ? lease.startWatchdog() : lease.lost().subscribe(x -> {}, e -> {});
            Flux<T> work = Flux.<T>from(body.apply(lease));
            if (owner.eventBus().recording()) {
                work = owner.eventBus().recorder().observeHold(lease.spec().name(), work);
            }
            return work
                    .takeUntilOther(lease.lost())
                    .concatWith(Mono.defer(() -> lostOrEmpty(lease)))
                    .doFinally(s -> watchdog.dispose())
                    .contextWrite(c -> withLease(c, heldKey, lease));
        });
    }

    /**
     * A nested scope on a key whose lease an enclosing scope holds: it runs under that lease, if the lease is still
     * valid (a lease past its deadline or lost fails the nested scope with the loss, rather than running it
     * unprotected) and gives what the nested options ask for (a fenced scope needs the lease to carry a token).
     */
    private static Mono<DefaultLease> reenter(LeaseSpec spec, DefaultLease held, LockOptions options) {
        return Mono.defer(() -> {
            LeaseLostException lost = held.lostAtEnd();
            if (lost != null) {
                return Mono.error(lost);
            }
            RuntimeException refused = spec.reentryRefusal(held.spec());
            if (refused != null) {
                return Mono.error(refused);
            }
            if (options.fencing() && held.fencingToken().isEmpty()) {
                return Mono.error(new IllegalStateException("a nested withLock on '" + held.key() + "' asks for a "
                        + "fencing token, but the enclosing scope's lease has none: take the outer lock with "
                        + "LockOptions.fencing(true)"));
            }
            return Mono.just(held);
        });
    }

    /**
     * At the end of a scope: the loss if the lease was lost, also when the body finished after the deadline but
     * before the loss timer ran (a busy scheduler); else empty.
     */
    private static <T> Mono<T> lostOrEmpty(DefaultLease lease) {
        LeaseLostException lost = lease.lostAtEnd();
        return lost != null ? Mono.error(lost) : Mono.empty();
    }

    /** Context key under which a scope keeps its lease, per client and lock key. */
    private static final class HeldKey {
        private final Engine client;
        private final String key;

        HeldKey(Engine client, String lineKey) {
            this.client = client;
            this.key = lineKey;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof HeldKey && ((HeldKey) o).client == client && ((HeldKey) o).key.equals(key);
        }

        @Override
        public int hashCode() {
            return Objects.hash(System.identityHashCode(client), key);
        }
    }
}
