package dev.redlock;

import static dev.redlock.RedisFixtures.client;
import static dev.redlock.RedisFixtures.lockKeys;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.redlock.internal.lock.LockClient;
import dev.redlock.testkit.FaultProxies;
import dev.redlock.testkit.FaultProxy;
import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServer;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/** withLock, the watchdog and lost leases against real redis-server processes. */
class ScopedLockIT {

    private static final LockOptions SHORT_LEASE = LockOptions.builder()
            .leaseTime(Duration.ofMillis(1000))
            .nodeTimeout(Duration.ofMillis(100))
            .maxWait(Duration.ofSeconds(2))
            .build();

    @Test
    void pausingAMajorityDuringAHoldCancelsTheBodyAndSignalsTheLossByTheDeadline(@RedisNodes(5) RedisServers servers) {
        try (ReactiveRedLock lock = client(servers, SHORT_LEASE)) {
            lock.acquire("warm-up").flatMap(Lease::release).block(Duration.ofSeconds(5));
            AtomicLong deadlineNanos = new AtomicLong();
            AtomicBoolean bodyCancelled = new AtomicBoolean();
            AtomicLong errorNanos = new AtomicLong();
            Flux<Long> held = lock.withLock("k", lease -> {
                        deadlineNanos.set(System.nanoTime() + lease.remaining().toNanos());
                        return Flux.<Long>never().doOnCancel(() -> bodyCancelled.set(true));
                    })
                    .doOnError(e -> errorNanos.set(System.nanoTime()));
            try {
                StepVerifier.create(held)
                        .expectSubscription()
                        .then(() -> {
                            await().until(() -> deadlineNanos.get() != 0);
                            servers.get(0).pause();
                            servers.get(2).pause();
                            servers.get(4).pause();
                        })
                        .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(LeaseLostException.class))
                        .verify(Duration.ofSeconds(5));
            } finally {
                servers.get(0).resume();
                servers.get(2).resume();
                servers.get(4).resume();
            }
            assertThat(bodyCancelled).isTrue();
            assertThat(TimeUnit.NANOSECONDS.toMillis(errorNanos.get() - deadlineNanos.get()))
                    .as("loss signalled relative to the deadline (ms)")
                    .isLessThanOrEqualTo(50);
            assertThat(((LockClient) lock).runningWatchdogs()).isZero();
        }
    }

    @Test
    void pausingAMinorityDuringAHoldChangesNothing(@RedisNodes(5) RedisServers servers) {
        try (ReactiveRedLock lock = client(servers, SHORT_LEASE)) {
            lock.acquire("warm-up").flatMap(Lease::release).block(Duration.ofSeconds(5));
            Mono<String> held = lock.withLock("k", Mono.delay(Duration.ofMillis(3000)).thenReturn("done"));
            AtomicBoolean paused = new AtomicBoolean();
            try {
                StepVerifier.create(held.doOnSubscribe(s -> Schedulers.boundedElastic().schedule(() -> {
                            servers.get(1).pause();
                            servers.get(3).pause();
                            paused.set(true);
                        }, 200, TimeUnit.MILLISECONDS)))
                        .expectNext("done")
                        .verifyComplete();
            } finally {
                await().untilTrue(paused);
                servers.get(1).resume();
                servers.get(3).resume();
            }
            await().atMost(Duration.ofSeconds(2)).until(() -> lockKeys(servers) == 0);
        }
    }

    @Test
    void renewalsSlowerThanTheNodeTimeoutKeepTheLeaseWhileTheyLandInsideTheValidity(@RedisNodes(5) RedisServers servers) {
        try (FaultProxies proxies = FaultProxies.inFrontOf(servers);
                ReactiveRedLock lock = ReactiveRedLock.builder()
                        .nodes(proxies.uris().toArray(String[]::new))
                        .restartGuard(RestartGuard.RUN_ID) // nodes the test kit just started (RedisFixtures.builder)
                        .defaults(SHORT_LEASE)
                        .build()) {
            lock.acquire("warm-up").flatMap(Lease::release).block(Duration.ofSeconds(5));
            List<LockEvent> events = new CopyOnWriteArrayList<>();
            Disposable subscription = lock.events().subscribe(events::add);
            // lease 1 s, renewed every 333 ms; once held, every request takes 200 ms to reach its node: twice the
            // node timeout, but well inside the validity a renewal has left
            Mono<String> held = lock.withLock("k", lease -> {
                proxies.forEach(p -> p.latency(Duration.ofMillis(200), Duration.ZERO, FaultProxy.Direction.UPSTREAM));
                return Mono.delay(Duration.ofMillis(3000)).thenReturn("done");
            }).single();
            try {
                StepVerifier.create(held).expectNext("done").expectComplete().verify(Duration.ofSeconds(10));
            } finally {
                proxies.healAll();
            }
            // events reach subscribers on their own scheduler, a moment after the operation
            await().atMost(Duration.ofSeconds(2)).untilAsserted(() -> assertThat(events)
                    .filteredOn(e -> e.type() == LockEvent.Type.RENEWED).hasSizeGreaterThanOrEqualTo(6));
            subscription.dispose();
            assertThat(events).noneMatch(e -> e.type() == LockEvent.Type.LOST);
            await().atMost(Duration.ofSeconds(2)).until(() -> lockKeys(servers) == 0);
        }
    }

    @Test
    void watchdogRenewalsOfManyLeasesGoOutInBatches(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock lock = client(servers, SHORT_LEASE)) { // lease 1 s, renewed every 333 ms
            // Warm the paths the test measures (a burst of acquires, batched renewals, releases): run first in a cold
            // JVM, the burst spreads over hundreds of ms (so its renewals fall due apart) and the first renewal
            // batches can outlast the 100 ms node timeout.
            Flux.range(0, 300)
                    .flatMap(i -> lock.withLock("warm-up-" + i, Mono.delay(Duration.ofMillis(400)))
                            .onErrorResume(LeaseLostException.class, cold -> Mono.empty()), 300)
                    .blockLast(Duration.ofSeconds(30));
            List<LockEvent> events = new CopyOnWriteArrayList<>();
            Disposable subscription = lock.events().subscribe(events::add);
            long before = evalshaCalls(servers.get(0));

            Flux.range(0, 300)
                    .flatMap(i -> lock.withLock("k" + i, Mono.delay(Duration.ofSeconds(3)).thenReturn(i)), 300)
                    .blockLast(Duration.ofSeconds(30));

            long scripts = evalshaCalls(servers.get(0)) - before;
            // events reach subscribers on their own scheduler, a moment after the operation
            await().atMost(Duration.ofSeconds(2)).until(
                    () -> events.stream().filter(e -> e.type() == LockEvent.Type.RENEWED).count() >= 300 * 6);
            subscription.dispose();
            long renewals = events.stream().filter(e -> e.type() == LockEvent.Type.RENEWED).count();
            assertThat(events).noneMatch(e -> e.type() == LockEvent.Type.LOST);
            assertThat(renewals).isGreaterThanOrEqualTo(300 * 6);
            // 300 acquires and 300 releases reached this node one script each; the renewals shared scripts
            assertThat(scripts - 600).as("renewal scripts on node 0 for %d renewals", renewals)
                    .isLessThan(renewals / 4);
            await().atMost(Duration.ofSeconds(2)).until(() -> lockKeys(servers) == 0);
        }
    }

    private static long evalshaCalls(RedisServer server) {
        for (String line : server.admin().info("commandstats").split("\r?\n")) {
            if (line.startsWith("cmdstat_evalsha:calls=")) {
                return Long.parseLong(line.substring("cmdstat_evalsha:calls=".length(), line.indexOf(',')));
            }
        }
        return 0;
    }

    @Test
    void cancellingWithLockMidBodyReleasesOnEveryNodeWithinASecond(@RedisNodes(5) RedisServers servers) {
        try (ReactiveRedLock lock = client(servers, LockOptions.defaults())) {
            Disposable running = lock.withLock("k", Flux.never()).subscribe();
            await().atMost(Duration.ofSeconds(2)).until(() -> lockKeys(servers) == 5);
            running.dispose();
            await().atMost(Duration.ofSeconds(1)).until(() -> lockKeys(servers) == 0);
            await().atMost(Duration.ofSeconds(1)).until(() -> ((LockClient) lock).runningWatchdogs() == 0);
        }
    }

    @Test
    void thousandRandomCancelsOfWithLockLeaveNoKeyAndNoWatchdog(@RedisNodes(5) RedisServers servers) {
        LockOptions opts = LockOptions.builder().leaseTime(Duration.ofSeconds(30)).maxWait(Duration.ofSeconds(5)).build();
        try (ReactiveRedLock lock = client(servers, opts)) {
            lock.acquire("warm-up").flatMap(Lease::release).block(Duration.ofSeconds(5));
            List<Disposable> scopes = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                Disposable d = lock.withLock("key-" + (i % 20), Mono.delay(Duration.ofMillis(2))).subscribe();
                scopes.add(d);
                Schedulers.parallel().schedule(d::dispose, ThreadLocalRandom.current().nextLong(0, 4000), TimeUnit.MICROSECONDS);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> scopes.stream().allMatch(Disposable::isDisposed));
            await().atMost(Duration.ofSeconds(3)).until(() -> lockKeys(servers) == 0);
            LockClient engine = (LockClient) lock;
            await().atMost(Duration.ofSeconds(3)).until(() -> engine.runningWatchdogs() == 0 && engine.activeLeases() == 0);
        }
    }

    @Test
    void nestedWithLockOnOneKeyCompletesAndTwoKeysLockIndependently(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock lock = client(servers, LockOptions.builder().maxWait(Duration.ofSeconds(2)).build())) {
            String result = lock.withLockMono("k", outer -> lock.withLockMono("k", inner ->
                            lock.withLockMono("other", other -> Mono.fromCallable(() -> lockKeys(servers))
                                    .subscribeOn(Schedulers.boundedElastic()) // the admin client blocks
                                    .map(keys -> outer.token().equals(inner.token())
                                            && !other.token().equals(outer.token())
                                            && keys >= 4 ? "ok" : "wrong"))))
                    .block(Duration.ofSeconds(10));
            assertThat(result).isEqualTo("ok");
            // each release is decided at the quorum; the last node's release follows right after
            await().atMost(Duration.ofSeconds(2)).until(() -> lockKeys(servers) == 0);
        }
    }

    @Test
    void eventsReportTheLifeOfALease(@RedisNodes(3) RedisServers servers) {
        LockOptions opts = LockOptions.builder().leaseTime(Duration.ofMillis(300)).nodeTimeout(Duration.ofMillis(50)).build();
        try (ReactiveRedLock lock = client(servers, opts)) {
            List<LockEvent.Type> types = new java.util.concurrent.CopyOnWriteArrayList<>();
            Disposable events = lock.events().subscribe(e -> types.add(e.type()));
            lock.withLock("k", Mono.delay(Duration.ofMillis(500))).block(Duration.ofSeconds(5));
            // events reach subscribers on their own scheduler, a moment after the operation
            await().atMost(Duration.ofSeconds(2)).until(() -> types.contains(LockEvent.Type.RELEASED));
            events.dispose();
            assertThat(types).startsWith(LockEvent.Type.ACQUIRED).endsWith(LockEvent.Type.RELEASED).contains(LockEvent.Type.RENEWED);
        }
    }
}
