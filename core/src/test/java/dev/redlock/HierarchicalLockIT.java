package dev.redlock;

import static dev.redlock.RedisFixtures.client;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.redlock.hierarchy.LockPaths;
import dev.redlock.hierarchy.RedHierarchicalLock;
import dev.redlock.rw.LockMode;
import dev.redlock.rw.LockUpgradeException;
import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * Hierarchical (intention) locks against real redis-server processes: the compatibility matrix, exhaustively, on a
 * shared node and for every pair of requested modes on related paths; the intention modes on the nodes; bad paths.
 */
class HierarchicalLockIT {

    private static final LockOptions OPTIONS = LockOptions.builder()
            .leaseTime(Duration.ofSeconds(10))
            .maxWait(Duration.ZERO)
            .nodeTimeout(Duration.ofSeconds(1))
            .build();

    /** The standard matrix, written out in the tests (not taken from {@link LockMode}). */
    private static final boolean[][] COMPATIBLE = LockModeTest.STANDARD;

    private static final String[] NAMES = {"IS", "IX", "S", "SIX", "X"};

    /** A request that holds {@code mode} (by its index in {@link #NAMES}) on node {@code t}: an intention via a child. */
    private static RedLock holding(ReactiveRedLock redlock, int mode, String child) {
        return switch (mode) {
            case 0 -> redlock.hierarchicalLock("t/" + child).shared();
            case 1 -> redlock.hierarchicalLock("t/" + child).exclusive();
            case 2 -> redlock.hierarchicalLock("t").shared();
            case 3 -> redlock.hierarchicalLock("t").lock(LockMode.SHARED_INTENTION_EXCLUSIVE);
            default -> redlock.hierarchicalLock("t").exclusive();
        };
    }

    /** Whether {@code second} is granted while {@code first} holds; both released afterwards. */
    private static boolean grantedBeside(RedLock first, RedLock second) {
        Lease held = first.tryAcquire().block(Duration.ofSeconds(5));
        assertThat(held).as("%s on a free tree", first).isNotNull();
        Lease other = second.tryAcquire().block(Duration.ofSeconds(5));
        held.release().block(Duration.ofSeconds(5));
        if (other != null) {
            other.release().block(Duration.ofSeconds(5));
        }
        return other != null;
    }

    /** Every pair of the five modes meeting on one node (intentions through different children): the matrix. */
    private void everyPairOfModesOnASharedNode(RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers, OPTIONS)) {
            List<String> wrong = new ArrayList<>();
            for (int a = 0; a < 5; a++) {
                for (int b = 0; b < 5; b++) {
                    boolean granted = grantedBeside(holding(redlock, a, "a"), holding(redlock, b, "b"));
                    if (granted != COMPATIBLE[a][b]) {
                        wrong.add(NAMES[a] + " then " + NAMES[b] + ": granted=" + granted);
                    }
                }
            }
            assertThat(wrong).isEmpty();
            await().atMost(Duration.ofSeconds(3)).until(() -> treeKeys(servers) == 0);
        }
    }

    @Test
    void everyPairOfModesOnASharedNodeOnOneNode(@RedisNodes(1) RedisServers servers) {
        everyPairOfModesOnASharedNode(servers);
    }

    @Test
    void everyPairOfModesOnASharedNodeOnFiveNodes(@RedisNodes(5) RedisServers servers) {
        everyPairOfModesOnASharedNode(servers);
    }

    /** Pairs of paths in every relation, the first path then the second. */
    private static final Map<String, String[]> RELATIONS = Map.of(
            "same", new String[] {"t/a", "t/a"},
            "ancestor", new String[] {"t", "t/a/1"},
            "descendant", new String[] {"t/a/1", "t"},
            "parent", new String[] {"t/a", "t/a/1"},
            "siblings", new String[] {"t/a", "t/b"},
            "cousins", new String[] {"t/a/1", "t/b/1"},
            "other roots", new String[] {"t/a", "u/a"});

    private static final LockMode[] REQUESTED = {LockMode.SHARED, LockMode.SHARED_INTENTION_EXCLUSIVE, LockMode.EXCLUSIVE};

    /** The index of the mode a request in {@code mode} on {@code path} takes on its node {@code node} (a prefix). */
    private static int modeOn(String path, LockMode mode, String node) {
        int requested = mode == LockMode.SHARED ? 2 : mode == LockMode.EXCLUSIVE ? 4 : 3;
        if (node.equals(path)) {
            return requested;
        }
        return mode == LockMode.SHARED ? 0 : 1;
    }

    /** Whether the two requests are compatible: on every node both paths pass through, the matrix allows the pair. */
    private static boolean expected(String p1, LockMode m1, String p2, LockMode m2) {
        String[] s1 = p1.split("/");
        String[] s2 = p2.split("/");
        StringBuilder node = new StringBuilder();
        for (int i = 0; i < Math.min(s1.length, s2.length) && s1[i].equals(s2[i]); i++) {
            node.append(i == 0 ? "" : "/").append(s1[i]);
            if (!COMPATIBLE[modeOn(p1, m1, node.toString())][modeOn(p2, m2, node.toString())]) {
                return false;
            }
        }
        return true;
    }

    /** Every pair of requested modes (S, SIX, X) on paths in every relation: granted exactly when the matrix says. */
    @Test
    void everyPairOfRequestedModesOnRelatedPaths(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers, OPTIONS)) {
            List<String> wrong = new ArrayList<>();
            int conflicts = 0;
            for (Map.Entry<String, String[]> relation : RELATIONS.entrySet()) {
                String p1 = relation.getValue()[0];
                String p2 = relation.getValue()[1];
                for (LockMode m1 : REQUESTED) {
                    for (LockMode m2 : REQUESTED) {
                        boolean expected = expected(p1, m1, p2, m2);
                        conflicts += expected ? 0 : 1;
                        boolean granted = grantedBeside(redlock.hierarchicalLock(p1).lock(m1),
                                redlock.hierarchicalLock(p2).lock(m2));
                        if (granted != expected) {
                            wrong.add(relation.getKey() + ": " + m1.abbreviation() + " " + p1 + " then "
                                    + m2.abbreviation() + " " + p2 + ": granted=" + granted);
                        }
                    }
                }
            }
            assertThat(wrong).isEmpty();
            // both outcomes are covered: on one path only S beside S is granted (8 conflicts); an ancestor in S or SIX
            // admits a descendant's S only (7 conflicts each for ancestor, descendant, parent); the rest never conflict
            assertThat(conflicts).isEqualTo(8 + 7 + 7 + 7);
            await().atMost(Duration.ofSeconds(3)).until(() -> treeKeys(servers) == 0);
        }
    }

    /** X on a path writes X on its node and IX on each ancestor, on every node, with one token; released in one go. */
    @Test
    void anExclusivePathTakesIntentionExclusiveOnEachAncestor(@RedisNodes(3) RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers, OPTIONS)) {
            Lease lease = redlock.hierarchicalLock("acme/orders/42").exclusive().tryAcquire()
                    .block(Duration.ofSeconds(5));
            await().atMost(Duration.ofSeconds(3)).until(() -> treeKeys(servers) == 9);
            for (var server : servers.list()) {
                assertThat(server.admin().hget("lock:{acme}:tree:acme", lease.token())).startsWith("2");
                assertThat(server.admin().hget("lock:{acme}:tree:acme/orders", lease.token())).startsWith("2");
                assertThat(server.admin().hget("lock:{acme}:tree:acme/orders/42", lease.token())).startsWith("5");
            }
            assertThat(redlock.hierarchicalLock("acme/orders/42").exclusive().isLocked().block(Duration.ofSeconds(5)))
                    .isTrue();
            assertThat(redlock.hierarchicalLock("acme/orders").exclusive().isLocked().block(Duration.ofSeconds(5)))
                    .isFalse();
            lease.release().block(Duration.ofSeconds(5));
            await().atMost(Duration.ofSeconds(3)).until(() -> treeKeys(servers) == 0);
        }
    }

    /**
     * Nested scopes below a held path: under X (and under S for a read) they run under the enclosing lease; under SIX
     * a write takes only the nodes below it (a new lease, granted at once instead of waiting for its own SIX); under
     * S a write fails with the typed error.
     */
    @Test
    void nestedScopesBelowAHeldPathReuseNarrowOrRefuse(@RedisNodes(3) RedisServers servers) {
        LockOptions waiting = OPTIONS.mutate().maxWait(Duration.ofSeconds(10)).build();
        try (ReactiveRedLock redlock = client(servers, waiting);
                ReactiveRedLock other = client(servers, OPTIONS)) {
            String[] underX = redlock.hierarchicalLock("acme").exclusive().withLockMono(outer ->
                            redlock.hierarchicalLock("acme/orders/42").exclusive().withLockMono(inner ->
                                    Mono.just(new String[] {outer.token(), inner.token()})))
                    .block(Duration.ofSeconds(5));
            assertThat(underX[1]).isEqualTo(underX[0]);
            String[] readUnderS = redlock.hierarchicalLock("acme").shared().withLockMono(outer ->
                            redlock.hierarchicalLock("acme/orders").shared().withLockMono(inner ->
                                    Mono.just(new String[] {outer.token(), inner.token()})))
                    .block(Duration.ofSeconds(5));
            assertThat(readUnderS[1]).isEqualTo(readUnderS[0]);
            StepVerifier.create(redlock.hierarchicalLock("acme").shared().withLockMono(outer ->
                            redlock.hierarchicalLock("acme/orders/42").exclusive().withLockMono(inner -> Mono.just(1))))
                    .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(LockUpgradeException.class)
                            .hasMessageContaining("'acme' is held in mode S")
                            .hasMessageContaining("mode X on 'acme/orders/42' below it"))
                    .verify(Duration.ofSeconds(5));
            long start = System.nanoTime();
            Boolean othersReadRefused = redlock.hierarchicalLock("acme").lock(LockMode.SHARED_INTENTION_EXCLUSIVE)
                    .withLockMono(outer -> redlock.hierarchicalLock("acme/orders/42").exclusive()
                            .withLockMono(inner -> {
                                assertThat(inner.token()).isNotEqualTo(outer.token());
                                return other.hierarchicalLock("acme/orders/42").shared().tryAcquire().hasElement()
                                        .map(granted -> !granted);
                            })
                            .flatMap(refused -> other.hierarchicalLock("acme/orders/43").exclusive().tryAcquire()
                                    .hasElement().map(granted -> refused && !granted)))
                    .block(Duration.ofSeconds(10));
            assertThat(othersReadRefused).as("the nested write excluded a reader; the SIX excluded another writer")
                    .isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
            await().atMost(Duration.ofSeconds(3)).until(() -> treeKeys(servers) == 0);
        }
    }

    private static long treeKeys(RedisServers servers) {
        return servers.keys("lock:{*}:tree:*").stream().mapToLong(List::size).sum();
    }

    @Test
    void badPathsAndModesAreRefusedAtCallTime(@RedisNodes(1) RedisServers servers) {
        try (ReactiveRedLock redlock = client(servers, OPTIONS)) {
            assertThatThrownBy(() -> redlock.hierarchicalLock("acme//42"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty segment (number 2)");
            assertThatThrownBy(() -> redlock.hierarchicalLock("/acme"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty segment (number 1)");
            assertThatThrownBy(() -> redlock.hierarchicalLock("acme/"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty segment (number 2)");
            String deep = String.join("/", java.util.Collections.nCopies(RedHierarchicalLock.MAX_DEPTH + 1, "x"));
            assertThatThrownBy(() -> redlock.hierarchicalLock(deep))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("deeper than 16");
            assertThat(redlock.hierarchicalLock(deep.substring(2)).segments()).hasSize(RedHierarchicalLock.MAX_DEPTH);
            assertThatThrownBy(() -> redlock.hierarchicalLock("acme").lock(LockMode.INTENTION_EXCLUSIVE))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("intention mode");
            assertThatThrownBy(() -> redlock.hierarchicalLock("acme").child("a/b"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'a/b'");
            assertThatThrownBy(() -> LockPaths.entity("acme", "", "42"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("resource");
            assertThat(redlock.hierarchicalLock(LockPaths.entity("acme", "orders", "42")).path())
                    .isEqualTo("global/acme/orders/42");
            assertThat(redlock.hierarchicalLock("acme").child("orders").segments()).containsExactly("acme", "orders");
        }
    }
}
