package dev.redlock.reactor;

import dev.redlock.LockOptions;
import dev.redlock.ReactiveRedLock;
import java.util.function.UnaryOperator;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Runs the upstream publisher while holding a distributed lock, as an operator:
 *
 * <pre>{@code
 * Flux<Order> settled = orders.settle(batch).transformDeferred(LockOperator.of(redlock, "settlement"));
 * Mono<Receipt> paid = payments.pay(order).transformDeferred(LockOperator.of(redlock, "orders:" + id));
 * }</pre>
 *
 * <p>The lock is acquired when the result is subscribed; the upstream is subscribed only once the lease is held, and
 * the lease is released when the upstream completes, errors or is cancelled. Everything else is
 * {@link ReactiveRedLock#withLock(String, LockOptions, Flux)}: the watchdog, the {@code LeaseLostException} when the
 * lease is lost, reentrancy. Use {@code transformDeferred} (not {@code transform}) so each subscription locks anew.
 *
 * @param <T> the element type
 * @since 0.1.0
 */
public final class LockOperator<T> implements UnaryOperator<Publisher<T>> {

    private final ReactiveRedLock lock;
    private final String key;
    private final LockOptions options;

    private LockOperator(ReactiveRedLock lock, String key, LockOptions options) {
        this.lock = lock;
        this.key = key;
        this.options = options;
    }

    /**
     * An operator that holds {@code key} with the lock's default options.
     *
     * @param lock the client that holds the lock
     * @param key the lock key
     * @param <T> the element type
     * @return the operator, for {@code transformDeferred}
     * @throws IllegalArgumentException for a null lock, or a null/blank key
     */
    public static <T> LockOperator<T> of(ReactiveRedLock lock, String key) {
        if (lock == null) {
            throw new IllegalArgumentException("lock must not be null");
        }
        return of(lock, key, lock.defaults());
    }

    /**
     * An operator that holds {@code key} with the given options.
     *
     * @param lock the client that holds the lock
     * @param key the lock key
     * @param options the options of the acquire and the lease
     * @param <T> the element type
     * @return the operator, for {@code transformDeferred}
     * @throws IllegalArgumentException for a null lock or options, or a null/blank key
     */
    public static <T> LockOperator<T> of(ReactiveRedLock lock, String key, LockOptions options) {
        if (lock == null) {
            throw new IllegalArgumentException("lock must not be null");
        }
        if (key == null || key.isBlank()) {
            throw new IllegalArgumentException("key must not be null or blank, got " + (key == null ? "null" : "'" + key + "'"));
        }
        if (options == null) {
            throw new IllegalArgumentException("options must not be null");
        }
        return new LockOperator<>(lock, key, options);
    }

    /**
     * Wraps a {@code Mono} into a {@code Mono}, anything else into a {@code Flux}: a lazy publisher that acquires on
     * subscribe, then runs {@code upstream}, and releases the lease when it completes, errors or is cancelled. A
     * {@code Mono} goes to the {@code Mono} form of {@code withLock}: its value (or completion, or error) comes after
     * the lease was released, and a lease found lost when the body ends fails it. (The {@code Flux} form followed by
     * {@code next()} would cancel the scope on the value instead: the value would overtake the release and that last
     * loss check.) Errors are the upstream's and those of {@link ReactiveRedLock#withLock(String, LockOptions, Flux)}
     * (acquire failures, {@code LeaseLostException}).
     *
     * @param upstream the publisher to run under the lock
     * @return the publisher that runs it under the lock
     * @throws IllegalArgumentException at call time for a lease time above the client's maximum lease time
     */
    @Override
    public Publisher<T> apply(Publisher<T> upstream) {
        if (upstream instanceof Mono) {
            return lock.withLock(key, options, (Mono<T>) upstream);
        }
        return lock.withLock(key, options, Flux.from(upstream));
    }
}
