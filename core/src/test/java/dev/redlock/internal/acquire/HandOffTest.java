package dev.redlock.internal.acquire;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.test.StepVerifier;
import reactor.test.util.RaceTestUtils;

/**
 * The attempt's hand-off never loses its value: delivered, or (cancelled first) given to {@code undelivered}, exactly
 * once, however the value, the request and the cancel interleave. {@code Mono.create}'s sink fails the race test below:
 * there the value that loses the race to a cancel is dropped where no discard hook sees it.
 */
class HandOffTest {

    private static final int ROUNDS = 10_000;

    /** One subscription: what reached the subscriber, what went to undelivered, the producer's emitter. */
    private static final class Round {
        final AtomicReference<HandOff.Emitter<Integer>> emitter = new AtomicReference<>();
        final AtomicInteger delivered = new AtomicInteger();
        final AtomicInteger undelivered = new AtomicInteger();
        final AtomicInteger cancelHooks = new AtomicInteger();
        final AtomicReference<Subscription> subscription = new AtomicReference<>();

        Round(boolean requestUpFront) {
            new HandOff<Integer>(e -> {
                emitter.set(e);
                e.onCancel(cancelHooks::incrementAndGet);
            }, v -> undelivered.incrementAndGet())
                    .subscribe(new BaseSubscriber<Integer>() {
                        @Override
                        protected void hookOnSubscribe(Subscription s) {
                            subscription.set(s);
                            if (requestUpFront) {
                                s.request(1);
                            }
                        }

                        @Override
                        protected void hookOnNext(Integer value) {
                            delivered.incrementAndGet();
                        }
                    });
        }

        void assertNotLost() {
            assertThat(delivered.get() + undelivered.get()).as("deliveries + undelivered hand-backs").isEqualTo(1);
            assertThat(cancelHooks.get()).as("cancel hooks run").isLessThanOrEqualTo(1);
        }
    }

    @Test
    void aValueRacingACancelIsDeliveredOrHandedBackExactlyOnce() {
        for (int i = 0; i < ROUNDS; i++) {
            Round round = new Round(true);
            RaceTestUtils.race(() -> round.emitter.get().success(1), () -> round.subscription.get().cancel());
            round.assertNotLost();
        }
    }

    @Test
    void aValueRacingTheRequestAndACancelIsDeliveredOrHandedBackExactlyOnce() {
        for (int i = 0; i < ROUNDS; i++) {
            Round round = new Round(false);
            RaceTestUtils.race(
                    () -> round.emitter.get().success(1),
                    () -> round.subscription.get().request(1),
                    () -> round.subscription.get().cancel());
            round.assertNotLost();
        }
    }

    @Test
    void aCancelBeforeTheValueRunsTheCancelHookOnceAndHandsTheValueBack() {
        Round round = new Round(true);
        round.subscription.get().cancel();
        assertThat(round.cancelHooks).hasValue(1);
        round.emitter.get().success(1);
        assertThat(round.delivered).hasValue(0);
        assertThat(round.undelivered).hasValue(1);
    }

    @Test
    void aCancelHookRegisteredAfterTheCancelRunsAtOnce() {
        AtomicReference<HandOff.Emitter<Integer>> emitter = new AtomicReference<>();
        StepVerifier.create(new HandOff<Integer>(emitter::set, v -> { }))
                .thenCancel()
                .verify();
        AtomicInteger ran = new AtomicInteger();
        emitter.get().onCancel(ran::incrementAndGet);
        assertThat(ran).hasValue(1);
    }

    @Test
    void aValueBeforeTheRequestWaitsForIt() {
        Round round = new Round(false);
        round.emitter.get().success(7);
        assertThat(round.delivered).hasValue(0);
        round.subscription.get().request(1);
        assertThat(round.delivered).hasValue(1);
        assertThat(round.undelivered).hasValue(0);
    }

    @Test
    void nothingStartsBeforeSubscribe() {
        AtomicInteger started = new AtomicInteger();
        HandOff<Integer> mono = new HandOff<>(e -> started.incrementAndGet(), v -> { });
        assertThat(started).hasValue(0);
        StepVerifier.create(mono).thenCancel().verify();
        assertThat(started).hasValue(1);
    }

    @Test
    void anErrorReachesTheSubscriber() {
        StepVerifier.create(new HandOff<Integer>(e -> e.error(new IllegalStateException("boom")), v -> { }))
                .expectErrorMessage("boom")
                .verify();
    }
}
