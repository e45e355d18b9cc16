package dev.redlock.reactor;

import dev.redlock.semaphore.RedSemaphore;
import java.util.function.UnaryOperator;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Runs the upstream publisher while holding permits of a distributed semaphore, as an operator:
 *
 * <pre>{@code
 * RedSemaphore partner = redlock.semaphore("partner-api", 10);
 * Mono<Quote> quote = partnerClient.quote(order).transformDeferred(PermitOperator.of(partner, 1));
 * }</pre>
 *
 * <p>The permits are acquired when the result is subscribed; the upstream is subscribed only once they are held, and
 * they are released when the upstream completes, errors or is cancelled (also a cancel during the acquire).
 * Everything else is {@link RedSemaphore#withPermits(int, Flux)}: the watchdog, the {@code LeaseLostException} when
 * the permits are lost, nested scopes. Use {@code transformDeferred} (not {@code transform}) so each subscription
 * acquires anew.
 *
 * @param <T> the element type
 * @since 0.1.0
 */
public final class PermitOperator<T> implements UnaryOperator<Publisher<T>> {

    private final RedSemaphore semaphore;
    private final int permits;

    private PermitOperator(RedSemaphore semaphore, int permits) {
        this.semaphore = semaphore;
        this.permits = permits;
    }

    /**
     * An operator that holds {@code permits} permits of {@code semaphore} (with the handle's options).
     *
     * @param semaphore the semaphore
     * @param permits how many permits each subscription holds, between 1 and the semaphore's permits
     * @param <T> the element type
     * @return the operator, for {@code transformDeferred}
     * @throws IllegalArgumentException for a null semaphore, or permits out of range
     */
    public static <T> PermitOperator<T> of(RedSemaphore semaphore, int permits) {
        if (semaphore == null) {
            throw new IllegalArgumentException("semaphore must not be null");
        }
        if (permits < 1 || permits > semaphore.permits()) {
            throw new IllegalArgumentException("permits must be between 1 and the semaphore's permits ("
                    + semaphore.permits() + "), got " + permits + " (semaphore '" + semaphore.name() + "')");
        }
        return new PermitOperator<>(semaphore, permits);
    }

    /**
     * Wraps a {@code Mono} into a {@code Mono} (its value comes once the permits are released), anything else into a
     * {@code Flux}: a lazy publisher that acquires on subscribe, runs {@code upstream}, and releases the permits when
     * it completes, errors or is cancelled. Errors are the upstream's and those of
     * {@link RedSemaphore#withPermits(int, Flux)}.
     *
     * @param upstream the publisher to run under the permits
     * @return the publisher that runs it under the permits
     */
    @Override
    public Publisher<T> apply(Publisher<T> upstream) {
        if (upstream instanceof Mono) {
            return semaphore.withPermits(permits, (Mono<T>) upstream);
        }
        return semaphore.withPermits(permits, Flux.from(upstream));
    }
}
