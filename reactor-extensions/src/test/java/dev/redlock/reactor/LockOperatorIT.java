package dev.redlock.reactor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.redlock.Lease;
import dev.redlock.LockOptions;
import dev.redlock.ReactiveRedLock;
import dev.redlock.RestartGuard;
import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.reactivestreams.Publisher;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class LockOperatorIT {

    private static ReactiveRedLock lock(RedisServers servers) {
        return ReactiveRedLock.builder()
                .nodes(servers.uris().toArray(String[]::new))
                // the test kit started the nodes moments ago: no lease can exist that they could have forgotten
                .restartGuard(RestartGuard.RUN_ID)
                .defaults(LockOptions.builder().maxWait(Duration.ofSeconds(30)).build())
                .build();
    }

    @Test
    void holdsTheLockWhileTheUpstreamRunsAndReleasesAfter(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock lock = lock(servers)) {
            Flux<Boolean> lockedDuring = Flux.range(0, 3)
                    .concatMap(i -> lock.isLocked("k"))
                    .transformDeferred(LockOperator.of(lock, "k"));
            StepVerifier.create(lockedDuring).expectNext(true, true, true).verifyComplete();
            assertThat(lock.isLocked("k").block(Duration.ofSeconds(5))).isFalse();
        }
    }

    @Test
    void serializesConcurrentSubscribers(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock lock = lock(servers)) {
            AtomicInteger inside = new AtomicInteger();
            AtomicInteger maxInside = new AtomicInteger();
            Mono<Integer> section = Mono.fromCallable(() -> {
                        int now = inside.incrementAndGet();
                        maxInside.accumulateAndGet(now, Math::max);
                        return now;
                    })
                    .delayElement(Duration.ofMillis(5))
                    .doOnNext(x -> inside.decrementAndGet())
                    .transformDeferred(LockOperator.of(lock, "k"));
            List<Integer> results = Flux.range(0, 20).flatMap(i -> section).collectList().block(Duration.ofSeconds(30));
            assertThat(results).hasSize(20);
            assertThat(maxInside.get()).isEqualTo(1);
        }
    }

    /**
     * The Mono form: the upstream runs under the lock, and its one value reaches the subscriber only once the release
     * was decided (the lease's {@code lost()} completed empty), not merely started.
     */
    @Test
    void aMonoUpstreamStaysAMonoWhoseValueComesAfterTheRelease(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock lock = lock(servers)) {
            AtomicReference<Lease> lease = new AtomicReference<>();
            Publisher<Boolean> locked = LockOperator.<Boolean>of(lock, "k")
                    .apply(lock.heldLease("k").doOnNext(lease::set).then(lock.isLocked("k")));
            assertThat(locked).isInstanceOf(Mono.class);
            Mono<List<Object>> seen = ((Mono<Boolean>) locked)
                    // taken synchronously as the value arrives
                    .map(during -> List.<Object>of(during, releaseDecided(lease.get()), lock.activeLeases()))
                    .flatMap(seenAtValue -> lock.isLocked("k").map(after -> List.of(seenAtValue, after)));
            StepVerifier.create(seen)
                    // held while running; released (decided, not just sent) before the value; free after
                    .expectNext(List.of(List.of(true, true, 0), false))
                    .verifyComplete();
            // a quorum decides the release; the last node's may still be on its way
            await().atMost(Duration.ofSeconds(5)).until(() -> lockKeys(servers) == 0);
        }
    }

    /** A Mono upstream that completes empty or errors: that signal, too, comes once the release was decided. */
    @ParameterizedTest(name = "a Mono that {0}")
    @ValueSource(strings = {"completes empty", "errors"})
    void aMonoUpstreamThatHasNoValueEndsAfterTheRelease(String ending, @RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock lock = lock(servers)) {
            AtomicReference<Lease> lease = new AtomicReference<>();
            IllegalStateException boom = new IllegalStateException("boom");
            Mono<Integer> body = lock.heldLease("k").doOnNext(lease::set)
                    .then(ending.equals("errors") ? Mono.<Integer>error(boom) : Mono.<Integer>empty());
            Mono<Integer> locked = (Mono<Integer>) LockOperator.<Integer>of(lock, "k").apply(body);
            List<Boolean> decidedAtEnd = new CopyOnWriteArrayList<>();
            StepVerifier.FirstStep<Integer> steps =
                    StepVerifier.create(locked.doOnEach(signal -> decidedAtEnd.add(releaseDecided(lease.get()))));
            if (ending.equals("errors")) {
                steps.expectErrorSatisfies(e -> assertThat(e).isSameAs(boom)).verify(Duration.ofSeconds(10));
            } else {
                steps.expectComplete().verify(Duration.ofSeconds(10));
            }
            assertThat(lease.get()).as("the body ran under a lease").isNotNull();
            assertThat(decidedAtEnd).as("release decided at each signal").containsExactly(true); // one signal, after
            assertThat(lock.activeLeases()).isZero();
            await().atMost(Duration.ofSeconds(5)).until(() -> lockKeys(servers) == 0);
        }
    }

    /** The Flux form: elements flow while the lock is held; the release comes with the upstream's completion. */
    @Test
    void aFluxUpstreamStaysAFluxWhoseElementsComeWhileTheLockIsHeld(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock lock = lock(servers)) {
            Publisher<Integer> elements = LockOperator.<Integer>of(lock, "k").apply(Flux.range(0, 3));
            assertThat(elements).isInstanceOf(Flux.class);
            // taken synchronously as each element arrives, before the upstream goes on
            StepVerifier.create(Flux.from(elements).map(i -> lock.activeLeases()))
                    .expectNext(1, 1, 1)
                    .verifyComplete();
            assertThat(lock.activeLeases()).isZero();
            assertThat(lock.isLocked("k").block(Duration.ofSeconds(5))).isFalse();
        }
    }

    /** Nothing is taken when the operator is applied; subscribing takes the lock, cancelling releases it. */
    @ParameterizedTest(name = "{0} upstream")
    @ValueSource(strings = {"Mono", "Flux"})
    void theLockIsTakenOnSubscribeAndReleasedOnCancel(String shape, @RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock lock = lock(servers)) {
            AtomicInteger upstreamSubscribed = new AtomicInteger();
            Publisher<Object> upstream = shape.equals("Mono")
                    ? Mono.never().doOnSubscribe(s -> upstreamSubscribed.incrementAndGet())
                    : Flux.never().doOnSubscribe(s -> upstreamSubscribed.incrementAndGet());
            Publisher<Object> held = LockOperator.of(lock, "k").apply(upstream);
            assertThat(lockKeys(servers)).as("keys before subscription").isZero();
            assertThat(upstreamSubscribed).hasValue(0);

            Disposable subscription = Flux.from(held).subscribe();
            try {
                // the upstream is subscribed only once the lease is held
                await().atMost(Duration.ofSeconds(5)).until(() -> upstreamSubscribed.get() == 1);
                assertThat(lock.activeLeases()).isEqualTo(1);
                assertThat(lock.isLocked("k").block(Duration.ofSeconds(5))).isTrue();
            } finally {
                subscription.dispose();
            }
            // released: the keys go at once, long before the lease time (30 s) could remove them
            await().atMost(Duration.ofSeconds(5)).until(() -> lockKeys(servers) == 0 && lock.activeLeases() == 0);
        }
    }

    /**
     * Whether the lease's release was decided: {@code lost()} completes empty then (at once, when subscribed after).
     * False without a lease (a body that did not run in a scope).
     */
    private static boolean releaseDecided(Lease lease) {
        if (lease == null) {
            return false;
        }
        AtomicBoolean completed = new AtomicBoolean();
        lease.lost().subscribe(lost -> {}, error -> {}, () -> completed.set(true));
        return completed.get();
    }

    /** Lock keys (not fencing counters) on all nodes. */
    private static long lockKeys(RedisServers servers) {
        return servers.keys("lock:{*").stream()
                .mapToLong(keys -> keys.stream().filter(k -> !k.endsWith(":fence")).count())
                .sum();
    }
}
