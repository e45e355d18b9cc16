package dev.redlock;

import static dev.redlock.RedisFixtures.calls;
import static dev.redlock.RedisFixtures.client;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServer;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/** The multi-key lock against real redis-server processes: all or nothing, no deadlock, one script per node. */
class MultiLockIT {

    private static final LockOptions WAITING = LockOptions.builder()
            .leaseTime(Duration.ofSeconds(10))
            .maxWait(Duration.ofSeconds(20))
            .nodeTimeout(Duration.ofSeconds(1))
            .build();

    private static long keysOf(RedisServers servers, String... names) {
        long n = 0;
        for (String name : names) {
            n += servers.keys("lock:{" + name + "}").stream().mapToLong(List::size).sum();
        }
        return n;
    }

    /**
     * A plain lock on one of the keys: the multi-key try gets nothing and leaves no key on the others; the waiting
     * acquire is woken by that lock's release and then holds every key with one token, excluding a plain lock.
     */
    private void allOrNothingOverThePlainLocksKeys(RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers, WAITING)) {
            RedLock multi = redlock.multiLock("a", "b", "c");
            assertThat(multi.name()).isEqualTo("a,b,c");
            Lease plain = redlock.acquire("b").block(Duration.ofSeconds(5));
            assertThat(multi.tryAcquire().blockOptional(Duration.ofSeconds(5))).isEmpty();
            await().atMost(Duration.ofSeconds(3)).until(() -> keysOf(servers, "a", "c") == 0);
            AtomicBoolean got = new AtomicBoolean();
            multi.withLockMono(lease -> Mono.fromRunnable(() -> got.set(true))
                            .then(Mono.delay(Duration.ofSeconds(30))))
                    .subscribe();
            // a backoff much longer than the test: only the release notification can wake the waiter this soon
            Mono.delay(Duration.ofMillis(300)).block();
            plain.release().block(Duration.ofSeconds(5));
            await().atMost(Duration.ofSeconds(2)).untilTrue(got);
            await().atMost(Duration.ofSeconds(3)).until(() -> keysOf(servers, "a", "b", "c") == 3L * servers.size());
            for (RedisServer server : servers.list()) {
                String token = server.admin().get("lock:{a}");
                assertThat(server.admin().get("lock:{b}")).isEqualTo(token);
                assertThat(server.admin().get("lock:{c}")).isEqualTo(token);
            }
            assertThat(redlock.tryAcquire("c").blockOptional(Duration.ofSeconds(5))).isEmpty();
            assertThat(multi.isLocked().block(Duration.ofSeconds(5))).isTrue();
            assertThat(redlock.multiLock("a", "z").isLocked().block(Duration.ofSeconds(5))).isFalse();
        }
        await().atMost(Duration.ofSeconds(3)).until(() -> keysOf(servers, "a", "b", "c") == 0);
    }

    @Test
    void allOrNothingOverThePlainLocksKeysOnOneNode(@RedisNodes(1) RedisServers servers) {
        allOrNothingOverThePlainLocksKeys(servers);
    }

    @Test
    void allOrNothingOverThePlainLocksKeysOnFiveNodes(@RedisNodes(5) RedisServers servers) {
        allOrNothingOverThePlainLocksKeys(servers);
    }

    /**
     * Two clients loop over overlapping key sets given in opposite orders ({a, b, c} and {c, b, d}), each scope
     * incrementing a non-atomic counter per key: no deadlock, no lost update.
     */
    @Test
    void overlappingSetsInOppositeOrdersNeitherDeadlockNorOverlap(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock one = client(servers, WAITING);
                ReactiveRedLock two = client(servers, WAITING);
                RedisFixtures.Counter counter = new RedisFixtures.Counter(servers.get(0).uri(), "counter:b")) {
            int rounds = 25;
            Flux<Void> first = Flux.range(0, rounds).concatMap(i -> one.multiLock("a", "b", "c")
                    .withLockMono(lease -> counter.increment(Duration.ofMillis(2))));
            Flux<Void> second = Flux.range(0, rounds).concatMap(i -> two.multiLock("d", "b", "c")
                    .withLockMono(lease -> counter.increment(Duration.ofMillis(2))));
            StepVerifier.create(Flux.merge(first, second, first, second)).verifyComplete();
            assertThat(counter.value()).isEqualTo(4L * rounds);
        }
    }

    /**
     * Nested scopes never wait for their own enclosing scope: a lock on a key of an enclosing multi-key scope runs
     * under its lease; a multi-key scope inside scopes that hold some of its keys requests only the others.
     */
    @Test
    void nestedScopesRunUnderTheKeysTheirEnclosingScopesHold(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers, WAITING)) {
            long start = System.nanoTime();
            String[] tokens = redlock.multiLock("a", "b").withLockMono(outer -> redlock.lock("b").withLockMono(inner ->
                    redlock.multiLock("a", "b", "c").withLockMono(wider -> Mono.fromCallable(() -> new String[] {
                                outer.token(), inner.token(), wider.token(),
                                servers.get(0).admin().get("lock:{a}"), servers.get(0).admin().get("lock:{c}")})
                            .subscribeOn(Schedulers.boundedElastic()))))
                    .block(Duration.ofSeconds(5));
            assertThat(tokens[1]).as("lock(b) under the multi-key scope").isEqualTo(tokens[0]);
            assertThat(tokens[2]).as("a new lease for c only").isNotEqualTo(tokens[0]);
            assertThat(tokens[3]).isEqualTo(tokens[0]);
            assertThat(tokens[4]).isEqualTo(tokens[2]);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
            await().atMost(Duration.ofSeconds(3)).until(() -> keysOf(servers, "a", "b", "c") == 0);
        }
    }

    /** An uncontended acquire and release: one script per node each (Redisson's MultiLock goes key by key). */
    @Test
    void oneScriptPerNodeForTheAcquireAndOneForTheRelease(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers, WAITING)) {
            redlock.connect().block(Duration.ofSeconds(5));
            RedLock multi = redlock.multiLock(List.of("k1", "k2", "k3", "k4", "k5"));
            multi.tryAcquire().flatMap(Lease::release).block(Duration.ofSeconds(5));
            await().atMost(Duration.ofSeconds(3)).until(() -> keysOf(servers, "k1", "k2", "k3", "k4", "k5") == 0);
            servers.list().forEach(s -> s.admin().configResetstat());
            for (int i = 0; i < 10; i++) {
                multi.tryAcquire().flatMap(Lease::release).block(Duration.ofSeconds(5));
            }
            await().atMost(Duration.ofSeconds(3)).until(() -> servers.list().stream()
                    .mapToLong(s -> calls(s, "evalsha")).sum() >= 20L * servers.size());
            for (RedisServer server : servers.list()) {
                assertThat(calls(server, "evalsha")).isEqualTo(20);
            }
            // every key set on at least a quorum of nodes per cycle (a node may still be releasing the previous one)
            assertThat(servers.list().stream().mapToLong(s -> calls(s, "set")).sum()).isBetween(10L * 5 * 2, 10L * 5 * 3);
        }
    }

    /**
     * On cluster-mode endpoints, keys in different hash slots are refused with the keys by slot; a common hash tag
     * puts them in one slot, and the lock works.
     */
    @Test
    void crossSlotKeysAreNamedOnClusterModeNodes(@RedisNodes(value = 3, clusterMode = true) RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers, WAITING)) {
            redlock.connect().block(Duration.ofSeconds(5));
            StepVerifier.create(redlock.multiLock("orders:1", "orders:2").tryAcquire())
                    .expectErrorSatisfies(e -> {
                        assertThat(e).isInstanceOf(CrossSlotKeysException.class).hasMessageContaining("orders:1")
                                .hasMessageContaining("orders:2");
                        assertThat(((CrossSlotKeysException) e).keysBySlot()).hasSize(2);
                    })
                    .verify(Duration.ofSeconds(5));
            Lease lease = redlock.multiLock("{orders}:1", "{orders}:2").tryAcquire().block(Duration.ofSeconds(5));
            assertThat(lease).isNotNull();
            lease.release().block(Duration.ofSeconds(5));
        }
    }

    @Test
    void badKeysAreRefusedAtCallTime(@RedisNodes(1) RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers, WAITING)) {
            assertThatThrownBy(() -> redlock.multiLock(List.of()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got 0");
            List<String> many = new ArrayList<>();
            for (int i = 0; i < 65; i++) {
                many.add("k" + i);
            }
            assertThatThrownBy(() -> redlock.multiLock(many))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got 65");
            assertThat(redlock.multiLock(Collections.nCopies(100, "same")).name()).isEqualTo("same");
            assertThatThrownBy(() -> redlock.multiLock("a", " "))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("each key");
            assertThatThrownBy(() -> redlock.multiLock((String[]) null))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keys");
            assertThatThrownBy(() -> redlock.multiLock("a", "b").withOptions(WAITING.mutate().fencing(true).build()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fencing");
        }
    }
}
