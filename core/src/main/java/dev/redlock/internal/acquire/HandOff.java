package dev.redlock.internal.acquire;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;

/**
 * A {@code Mono} of one value that a callback produces (an attempt's result, delivered from a node's reply), which
 * never loses that value: it reaches the subscriber, or, when the subscriber cancelled first, {@code undelivered}
 * gets it (to release the lease it may carry). Exactly one of the two, also when the value and the cancel race.
 *
 * <p>Not {@code Mono.create}: its sink, when {@code success} and {@code cancel} race (the cancel's state change
 * lands between the sink's check and its own), drops the value with {@code Hooks.onNextDropped}, where no discard
 * hook sees it, and the lease it carried would hold its keys until they expire.
 */
final class HandOff<T> extends Mono<T> {

    /** Starts the work that ends in one {@link Emitter#success} or {@link Emitter#error}. */
    interface Producer<T> {
        void start(Emitter<T> emitter);
    }

    private final Producer<T> producer;
    private final Consumer<? super T> undelivered;

    HandOff(Producer<T> producer, Consumer<? super T> undelivered) {
        this.producer = producer;
        this.undelivered = undelivered;
    }

    @Override
    public void subscribe(CoreSubscriber<? super T> actual) {
        Emitter<T> emitter = new Emitter<>(actual, undelivered);
        actual.onSubscribe(emitter);
        try {
            producer.start(emitter);
        } catch (Throwable t) {
            emitter.error(Operators.onOperatorError(t, actual.currentContext()));
        }
    }

    /** The producer's side of one subscription, and the subscriber's {@code Subscription}. */
    static final class Emitter<T> implements org.reactivestreams.Subscription {
        private static final int NO_REQUEST_NO_VALUE = 0;
        private static final int HAS_REQUEST_NO_VALUE = 1;
        private static final int NO_REQUEST_HAS_VALUE = 2;
        private static final int TERMINATED = 3;
        private static final int CANCELLED = 4;
        private static final Runnable CANCEL_RAN = () -> { };

        private final CoreSubscriber<? super T> actual;
        private final Consumer<? super T> undelivered;
        private final AtomicInteger state = new AtomicInteger(NO_REQUEST_NO_VALUE);
        private final AtomicReference<Runnable> onCancel = new AtomicReference<>();
        /** Written before the state moves to NO_REQUEST_HAS_VALUE, read after a move away from it. */
        private T value;

        Emitter(CoreSubscriber<? super T> actual, Consumer<? super T> undelivered) {
            this.actual = actual;
            this.undelivered = undelivered;
        }

        /**
         * Runs {@code action} once when the subscriber cancels before the value or an error was delivered; at once
         * if it already did.
         */
        void onCancel(Runnable action) {
            if (!onCancel.compareAndSet(null, action)) {
                action.run(); // only CANCEL_RAN is ever set by another: the cancel came first
            }
        }

        /** Delivers the value, or gives it to {@code undelivered} when the subscriber cancelled. Call at most once. */
        void success(T v) {
            Objects.requireNonNull(v, "value");
            value = v;
            while (true) {
                int s = state.get();
                if (s == HAS_REQUEST_NO_VALUE) {
                    if (state.compareAndSet(s, TERMINATED)) {
                        value = null;
                        actual.onNext(v);
                        actual.onComplete();
                        return;
                    }
                } else if (s == NO_REQUEST_NO_VALUE) {
                    if (state.compareAndSet(s, NO_REQUEST_HAS_VALUE)) {
                        return; // request() delivers it, or cancel() hands it to undelivered
                    }
                } else {
                    value = null;
                    undelivered.accept(v); // cancelled (or a second value, which is a bug: still not lost)
                    return;
                }
            }
        }

        /** Signals the error unless the subscriber cancelled (then it is dropped). */
        void error(Throwable e) {
            while (true) {
                int s = state.get();
                if (s == TERMINATED || s == CANCELLED || s == NO_REQUEST_HAS_VALUE) {
                    Operators.onErrorDropped(e, actual.currentContext());
                    return;
                }
                if (state.compareAndSet(s, TERMINATED)) {
                    actual.onError(e);
                    return;
                }
            }
        }

        @Override
        public void request(long n) {
            if (!Operators.validate(n)) {
                return;
            }
            while (true) {
                int s = state.get();
                if (s == NO_REQUEST_NO_VALUE) {
                    if (state.compareAndSet(s, HAS_REQUEST_NO_VALUE)) {
                        return;
                    }
                } else if (s == NO_REQUEST_HAS_VALUE) {
                    if (state.compareAndSet(s, TERMINATED)) {
                        T v = value;
                        value = null;
                        actual.onNext(v);
                        actual.onComplete();
                    }
                    return;
                } else {
                    return;
                }
            }
        }

        @Override
        public void cancel() {
            while (true) {
                int s = state.get();
                if (s == TERMINATED || s == CANCELLED) {
                    return;
                }
                if (state.compareAndSet(s, CANCELLED)) {
                    if (s == NO_REQUEST_HAS_VALUE) {
                        T v = value;
                        value = null;
                        undelivered.accept(v);
                        return; // the work is over: nothing to cancel
                    }
                    Runnable action = onCancel.getAndSet(CANCEL_RAN);
                    if (action != null) {
                        action.run();
                    }
                    return;
                }
            }
        }
    }
}
