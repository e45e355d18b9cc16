package dev.redlock;

import static dev.redlock.RedisFixtures.client;
import static dev.redlock.RedisFixtures.lockKeys;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServer;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/** withLockIf / withLockMonoIf against real redis-server processes: the condition before and under the lease. */
class ConditionalLockIT {

    private static final LockOptions OPTIONS = LockOptions.builder()
            .leaseTime(Duration.ofSeconds(5))
            .maxWait(Duration.ofSeconds(2))
            .build();

    /** A condition that answers {@code answers[i]} on its i-th subscription (the last answer after that). */
    private static Mono<Boolean> answering(AtomicInteger asked, boolean... answers) {
        return Mono.fromSupplier(() -> answers[Math.min(asked.getAndIncrement(), answers.length - 1)]);
    }

    /** Scripts the nodes ran (acquires, releases, queries): what a lock operation sends. */
    private static long scriptCalls(RedisServers servers) {
        long calls = 0;
        for (RedisServer server : servers) {
            calls += RedisFixtures.calls(server, "evalsha") + RedisFixtures.calls(server, "eval");
        }
        return calls;
    }

    @Test
    void aConditionFalseBeforeTheAcquireFailsTypedWithoutAnyScriptOnTheNodes(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers, OPTIONS)) {
            redlock.acquire("warm-up").flatMap(Lease::release).block(Duration.ofSeconds(5));
            // the warm-up's release reaches the last node after the quorum: count from when every node ran it
            await().atMost(Duration.ofSeconds(2)).until(() -> lockKeys(servers) == 0);
            long scriptsBefore = scriptCalls(servers);
            AtomicBoolean bodyCalled = new AtomicBoolean();
            AtomicInteger asked = new AtomicInteger();

            StepVerifier.create(redlock.lock("jobs:nightly").withLockIf(answering(asked, false), lease -> {
                        bodyCalled.set(true);
                        return Flux.just("ran");
                    }))
                    .expectErrorSatisfies(e -> {
                        assertThat(e).isInstanceOf(ConditionNotMetException.class);
                        assertThat(((ConditionNotMetException) e).stage())
                                .isEqualTo(ConditionNotMetException.Stage.BEFORE_ACQUIRE);
                        assertThat(((ConditionNotMetException) e).key()).isEqualTo("jobs:nightly");
                    })
                    .verify(Duration.ofSeconds(5));

            assertThat(asked).as("condition subscriptions").hasValue(1);
            assertThat(bodyCalled).isFalse();
            // nothing goes out later either (a scope that acquired in the background would show here)
            await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(1)).until(() -> true);
            assertThat(scriptCalls(servers)).as("scripts run by the nodes").isEqualTo(scriptsBefore);
            assertThat(lockKeys(servers)).isZero();
        }
    }

    @Test
    void anEmptyConditionCountsAsFalse(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers, OPTIONS)) {
            StepVerifier.create(redlock.lock("jobs:empty").withLockMonoIf(Mono.empty(), lease -> Mono.just("ran")))
                    .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(ConditionNotMetException.class,
                            c -> assertThat(c.stage()).isEqualTo(ConditionNotMetException.Stage.BEFORE_ACQUIRE)))
                    .verify(Duration.ofSeconds(5));
            assertThat(lockKeys(servers)).isZero();
        }
    }

    @Test
    void aConditionThatNoLongerHoldsUnderTheLeaseReleasesBeforeTheTypedError(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers, OPTIONS)) {
            RedLock lock = redlock.lock("jobs:hourly");
            List<LockEvent> events = new CopyOnWriteArrayList<>();
            Disposable subscription = redlock.events().subscribe(events::add);
            AtomicBoolean bodyCalled = new AtomicBoolean();
            AtomicInteger asked = new AtomicInteger();

            StepVerifier.create(lock.withLockIf(answering(asked, true, false), lease -> {
                        bodyCalled.set(true);
                        return Flux.just("ran");
                    }))
                    .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(ConditionNotMetException.class,
                            c -> assertThat(c.stage()).isEqualTo(ConditionNotMetException.Stage.AFTER_ACQUIRE)))
                    .verify(Duration.ofSeconds(5));

            // released on a quorum before the error was signalled: nobody holds it the moment the error is seen
            assertThat(lock.isLocked().block(Duration.ofSeconds(5))).isFalse();
            assertThat(asked).as("condition subscriptions").hasValue(2);
            assertThat(bodyCalled).isFalse();
            await().atMost(Duration.ofSeconds(2)).until(() -> lockKeys(servers) == 0);
            // the lock was taken (and given back) between the two answers
            await().atMost(Duration.ofSeconds(2)).untilAsserted(() -> assertThat(events)
                    .extracting(LockEvent::type)
                    .containsSubsequence(LockEvent.Type.ACQUIRED, LockEvent.Type.RELEASED));
            subscription.dispose();
        }
    }

    @Test
    void aConditionThatHoldsBothTimesRunsTheBodyUnderTheLease(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers, OPTIONS)) {
            RedLock lock = redlock.lock("jobs:daily");
            AtomicInteger asked = new AtomicInteger();
            AtomicInteger keysWhileRunning = new AtomicInteger(-1);

            StepVerifier.create(lock.withLockMonoIf(answering(asked, true, true),
                            lease -> Mono.fromCallable(() -> {
                                keysWhileRunning.set((int) lockKeys(servers));
                                return "ran:" + lease.key();
                            }).subscribeOn(Schedulers.boundedElastic())))
                    .expectNext("ran:jobs:daily")
                    .verifyComplete();

            assertThat(asked).as("condition subscriptions").hasValue(2);
            // a quorum held the key while the body ran (the lease comes at the quorum; the third grant may follow)
            assertThat(keysWhileRunning.get()).as("lock keys while the body ran").isBetween(redlock.quorum(), 3);
            await().atMost(Duration.ofSeconds(2)).until(() -> lockKeys(servers) == 0);

            StepVerifier.create(lock.withLockIf(Mono.just(true), lease -> Flux.just(1, 2, 3)))
                    .expectNext(1, 2, 3)
                    .verifyComplete();
        }
    }

    @Test
    void aConditionErrorPropagatesBeforeAndUnderTheLease(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers, OPTIONS)) {
            RedLock lock = redlock.lock("jobs:flaky");
            IllegalStateException calendarDown = new IllegalStateException("calendar service down");

            StepVerifier.create(lock.withLockIf(Mono.error(calendarDown), lease -> Flux.just("ran")))
                    .expectErrorMatches(e -> e == calendarDown)
                    .verify(Duration.ofSeconds(5));
            assertThat(lockKeys(servers)).isZero();

            AtomicInteger asked = new AtomicInteger();
            AtomicBoolean bodyCalled = new AtomicBoolean();
            Mono<Boolean> failsSecondTime = Mono.defer(() -> asked.getAndIncrement() == 0
                    ? Mono.just(true)
                    : Mono.error(calendarDown));
            StepVerifier.create(lock.withLockMonoIf(failsSecondTime, lease -> {
                        bodyCalled.set(true);
                        return Mono.just("ran");
                    }))
                    .expectErrorMatches(e -> e == calendarDown)
                    .verify(Duration.ofSeconds(5));
            assertThat(lock.isLocked().block(Duration.ofSeconds(5))).isFalse();
            assertThat(asked).hasValue(2);
            assertThat(bodyCalled).isFalse();
            await().atMost(Duration.ofSeconds(2)).until(() -> lockKeys(servers) == 0);
        }
    }

    @Test
    void cancellingWhileTheConditionUnderTheLeaseIsPendingLeavesNoKey(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers, OPTIONS)) {
            RedLock lock = redlock.lock("jobs:slow-check");
            AtomicInteger asked = new AtomicInteger();
            AtomicBoolean pending = new AtomicBoolean();
            AtomicBoolean conditionCancelled = new AtomicBoolean();
            AtomicBoolean bodyCalled = new AtomicBoolean();
            Mono<Boolean> slowSecondTime = Mono.defer(() -> asked.getAndIncrement() == 0
                    ? Mono.just(true)
                    : Mono.<Boolean>never()
                            .doOnSubscribe(s -> pending.set(true))
                            .doOnCancel(() -> conditionCancelled.set(true)));

            Disposable running = lock.withLockIf(slowSecondTime, lease -> {
                bodyCalled.set(true);
                return Flux.just("ran");
            }).subscribe();
            await().atMost(Duration.ofSeconds(5)).untilTrue(pending);
            // held while the condition is pending (granted at the quorum; the third grant follows)
            await().atMost(Duration.ofSeconds(2)).until(() -> lockKeys(servers) == 3);

            running.dispose();

            await().atMost(Duration.ofSeconds(2)).until(() -> lockKeys(servers) == 0);
            assertThat(conditionCancelled).isTrue();
            assertThat(bodyCalled).isFalse();
        }
    }
}
