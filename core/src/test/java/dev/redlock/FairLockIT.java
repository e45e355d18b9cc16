package dev.redlock;

import static dev.redlock.RedisFixtures.client;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.redlock.fair.RedFairLock;
import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServer;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/** The fair lock against real redis-server processes: order across clients, priorities, queue hygiene, mismatches. */
class FairLockIT {

    private static final LockOptions WAITING = LockOptions.builder()
            .leaseTime(Duration.ofSeconds(10))
            .maxWait(Duration.ofSeconds(20))
            .build();

    /**
     * A client connected to every node: on a connection still opening, commands of different operations may go out
     * in another order than they were made (a later try before an earlier acquire), which these tests do not study.
     */
    private static ReactiveRedLock connected(RedisServers servers) {
        List<Long> before = servers.list().stream().map(node -> node.admin().clientList().lines().count()).toList();
        ReactiveRedLock redlock = client(servers, WAITING);
        redlock.connect().block(Duration.ofSeconds(5)); // completes at a quorum: wait for the others too
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            for (int i = 0; i < servers.size(); i++) {
                if (servers.get(i).admin().clientList().lines().count() <= before.get(i)) {
                    return false;
                }
            }
            return true;
        });
        return redlock;
    }

    /** Queue entries (waiters) per node. */
    private static long queued(RedisServers servers, String name) {
        return servers.list().stream().mapToLong(s -> s.admin().zcard("lock:{" + name + "}:queue")).sum();
    }

    /** Every key of the lock but its fencing counter, on all nodes. */
    private static long keysOf(RedisServers servers, String name) {
        return servers.keys("lock:{" + name + "}*").stream()
                .mapToLong(keys -> keys.stream().filter(k -> !k.endsWith(":fence")).count())
                .sum();
    }

    /**
     * A holder, then waiters from three clients arriving one after another, a high-priority one last: the high one
     * goes first, then the others in arrival order across the clients. Every key is gone afterwards.
     */
    private void servesByPriorityThenArrivalAcrossClients(RedisServers servers) {
        List<ReactiveRedLock> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                clients.add(connected(servers));
            }
            RedFairLock first = clients.get(0).fairLock("order");
            Lease holder = first.acquire().block(Duration.ofSeconds(5));
            List<String> order = new CopyOnWriteArrayList<>();
            List<Disposable> waiters = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                String label = "w" + i;
                RedFairLock lock = clients.get(i % 3).fairLock("order");
                waiters.add(lock.withLockMono(lease -> Mono.fromRunnable(() -> order.add(label))
                                .then(Mono.delay(Duration.ofMillis(20))))
                        .subscribe());
                int expected = i + 1;
                await().atMost(Duration.ofSeconds(5)).until(() -> queued(servers, "order") >= (long) expected * servers.size());
            }
            waiters.add(clients.get(1).fairLock("order").withPriority(5)
                    .withLockMono(lease -> Mono.fromRunnable(() -> order.add("high")))
                    .subscribe());
            await().atMost(Duration.ofSeconds(5)).until(() -> queued(servers, "order") >= 7L * servers.size());
            holder.release().block(Duration.ofSeconds(5));
            await().atMost(Duration.ofSeconds(10)).until(() -> order.size() == 7);
            assertThat(order).containsExactly("high", "w0", "w1", "w2", "w3", "w4", "w5");
            await().atMost(Duration.ofSeconds(3)).until(() -> keysOf(servers, "order") == 0);
        } finally {
            clients.forEach(ReactiveRedLock::close);
        }
    }

    @Test
    void servesByPriorityThenArrivalAcrossClientsOnOneNode(@RedisNodes(1) RedisServers servers) {
        servesByPriorityThenArrivalAcrossClients(servers);
    }

    @Test
    void servesByPriorityThenArrivalAcrossClientsOnFiveNodes(@RedisNodes(5) RedisServers servers) {
        servesByPriorityThenArrivalAcrossClients(servers);
    }

    @Test
    void aCancelledWaiterLeavesEveryQueueAtOnceAndTheNextOneIsWoken(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock redlock = connected(servers)) {
            RedFairLock lock = redlock.fairLock("leave");
            Lease holder = lock.acquire().block(Duration.ofSeconds(5));
            Disposable cancelled = lock.acquire().subscribe();
            await().atMost(Duration.ofSeconds(5)).until(() -> queued(servers, "leave") == 3);
            Sinks.One<Lease> next = Sinks.one();
            lock.acquire().subscribe(next::tryEmitValue);
            await().atMost(Duration.ofSeconds(5)).until(() -> queued(servers, "leave") == 6);
            cancelled.dispose();
            await().atMost(Duration.ofSeconds(1)).until(() -> queued(servers, "leave") == 3);
            long start = System.nanoTime();
            holder.release().block(Duration.ofSeconds(5));
            // woken by the release, long before its next heartbeat attempt (every 5 s / 3)
            Lease second = next.asMono().block(Duration.ofSeconds(5));
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(1000);
            second.release().block(Duration.ofSeconds(5));
            await().atMost(Duration.ofSeconds(3)).until(() -> keysOf(servers, "leave") == 0);
        }
    }

    /** Closing a client whose waiters sit between attempts takes them out of every queue before it completes. */
    @Test
    void closingAClientTakesItsWaitersOutOfEveryQueue(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock holderClient = connected(servers)) {
            Lease holder = holderClient.fairLock("closing").acquire().block(Duration.ofSeconds(5));
            ReactiveRedLock waiters = connected(servers);
            List<Disposable> queued = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                queued.add(waiters.fairLock("closing").acquire().subscribe(l -> { }, e -> { }));
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> queued(servers, "closing") == 9);
            waiters.closeAsync().block(Duration.ofSeconds(10));
            // no await: close() completing means every leave was answered (the heartbeats would keep them 5 s)
            assertThat(queued(servers, "closing")).isZero();
            holder.release().block(Duration.ofSeconds(5));
            await().atMost(Duration.ofSeconds(3)).until(() -> keysOf(servers, "closing") == 0);
        }
    }

    @Test
    void aReleaseWakesOnlyTheWaiterAtTheHead(@RedisNodes(1) RedisServers servers) {
        try (ReactiveRedLock redlock = connected(servers)) {
            RedFairLock lock = redlock.fairLock("wake");
            Lease holder = lock.acquire().block(Duration.ofSeconds(5));
            List<Disposable> waiters = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                waiters.add(lock.withLockMono(lease -> Mono.delay(Duration.ofSeconds(30))).subscribe());
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> queued(servers, "wake") == 5);
            RedisServer node = servers.get(0);
            node.admin().configResetstat();
            holder.release().block(Duration.ofSeconds(5));
            await().atMost(Duration.ofSeconds(5)).until(() -> queued(servers, "wake") == 4 || redlock.activeLeases() == 1);
            // one release, one publish: to the head's own channel, which only that waiter listens on
            assertThat(RedisFixtures.calls(node, "publish")).isEqualTo(1);
            waiters.forEach(Disposable::dispose);
            await().atMost(Duration.ofSeconds(3)).until(() -> keysOf(servers, "wake") == 0);
        }
    }

    @Test
    void aPlainLockAndAFairLockOnOneNameFailWithATypedError(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock redlock = connected(servers)) {
            Lease fair = redlock.fairLock("mixed").acquire().block(Duration.ofSeconds(5));
            StepVerifier.create(redlock.acquire("mixed"))
                    .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(LockKindMismatchException.class,
                            m -> {
                                assertThat(m.requested()).isEqualTo(LockKindMismatchException.Kind.LOCK);
                                assertThat(m.held()).isEqualTo(LockKindMismatchException.Kind.FAIR_LOCK);
                            }))
                    .verify(Duration.ofSeconds(5));
            fair.release().block(Duration.ofSeconds(5));
            Lease plain = redlock.acquire("mixed").block(Duration.ofSeconds(5));
            StepVerifier.create(redlock.fairLock("mixed").acquire())
                    .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(LockKindMismatchException.class,
                            m -> assertThat(m.held()).isEqualTo(LockKindMismatchException.Kind.LOCK)))
                    .verify(Duration.ofSeconds(5));
            plain.release().block(Duration.ofSeconds(5));
            // nested scopes of the other kind on the same name
            StepVerifier.create(redlock.fairLock("mixed").withLockMono(lease -> redlock.withLock("mixed", Mono.just(1))))
                    .expectError(LockKindMismatchException.class)
                    .verify(Duration.ofSeconds(5));
            await().atMost(Duration.ofSeconds(3)).until(() -> keysOf(servers, "mixed") == 0);
        }
    }

    @Test
    void aTryDoesNotJumpTheQueueNorJoinIt(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock redlock = connected(servers)) {
            RedFairLock lock = redlock.fairLock("try");
            Lease holder = lock.acquire().block(Duration.ofSeconds(5));
            StepVerifier.create(lock.tryAcquire()).verifyComplete();
            assertThat(queued(servers, "try")).isZero();
            Disposable waiter = lock.withLockMono(lease -> Mono.delay(Duration.ofSeconds(30))).subscribe();
            await().atMost(Duration.ofSeconds(5)).until(() -> queued(servers, "try") == 3);
            holder.release().block(Duration.ofSeconds(5));
            await().atMost(Duration.ofSeconds(5)).until(() -> lock.isLocked().block(Duration.ofSeconds(5)));
            // held by the waiter: the try finds it taken
            StepVerifier.create(lock.tryAcquire()).verifyComplete();
            waiter.dispose();
            await().atMost(Duration.ofSeconds(3)).until(() -> keysOf(servers, "try") == 0);
            Lease free = lock.tryAcquire().block(Duration.ofSeconds(5));
            assertThat(free).isNotNull();
            free.release().block(Duration.ofSeconds(5));
        }
    }

    /**
     * A waiter that vanishes without leaving (its entry written straight into the nodes' queues with a heartbeat that
     * is never renewed) blocks the queue until its heartbeat lapses, then is pruned, and the next waiter proceeds.
     */
    @Test
    void aWaiterWhoseHeartbeatLapsesIsPrunedAndTheNextProceeds(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock redlock = connected(servers)) {
            RedFairLock lock = redlock.fairLock("ghost").withHeartbeatTimeout(Duration.ofSeconds(1));
            servers.forEach(node -> {
                List<String> time = node.admin().time(); // seconds, then microseconds
                long nowMs = Long.parseLong(time.get(0)) * 1000 + Long.parseLong(time.get(1)) / 1000;
                node.admin().zadd("lock:{ghost}:queue", 0, "ghost"); // score 0: first whatever the priority
                node.admin().zadd("lock:{ghost}:heartbeats", nowMs + 1500, "ghost");
            });
            long start = System.nanoTime();
            Lease lease = lock.acquire().block(Duration.ofSeconds(10));
            long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(waitedMs).as("waited for the ghost's heartbeat to lapse (ms)").isBetween(900L, 3000L);
            lease.release().block(Duration.ofSeconds(5));
            await().atMost(Duration.ofSeconds(3)).until(() -> keysOf(servers, "ghost") == 0);
        }
    }

    @Test
    void queueKeysExpireWithTheLastHeartbeatAndGoWithTheLastWaiter(@RedisNodes(1) RedisServers servers) {
        try (ReactiveRedLock redlock = connected(servers)) {
            RedFairLock lock = redlock.fairLock("expiry").withHeartbeatTimeout(Duration.ofSeconds(2));
            Lease holder = lock.acquire().block(Duration.ofSeconds(5));
            AtomicBoolean got = new AtomicBoolean();
            Disposable waiter = lock.acquire().subscribe(l -> got.set(true));
            await().atMost(Duration.ofSeconds(5)).until(() -> queued(servers, "expiry") == 1);
            long pttl = servers.get(0).admin().pttl("lock:{expiry}:queue");
            assertThat(pttl).as("queue TTL (ms)").isBetween(1L, 2000L);
            waiter.dispose();
            holder.release().block(Duration.ofSeconds(5));
            await().atMost(Duration.ofSeconds(3)).until(() -> keysOf(servers, "expiry") == 0);
            assertThat(got).isFalse();
        }
    }

    @Test
    void badArgumentsFailAtCallTimeNamingTheValue(@RedisNodes(1) RedisServers servers) {
        try (ReactiveRedLock redlock = connected(servers)) {
            RedFairLock lock = redlock.fairLock("args");
            assertThatThrownBy(() -> lock.withPriority(1001)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("1001");
            assertThatThrownBy(() -> lock.withPriority(-1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("-1");
            assertThatThrownBy(() -> lock.withHeartbeatTimeout(Duration.ofMillis(100)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT0.1S");
            assertThatThrownBy(() -> redlock.fairLock(" ")).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> lock.withLock(null)).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
