package dev.redlock.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Cluster-mode nodes: each its own one-node Redis Cluster owning all slots, through starts, restarts and resets. */
class ClusterModeNodesIT {

    private static final NodeOptions CLUSTER = NodeOptions.defaults().withClusterMode(true);
    private static final String CROSSSLOT = "CROSSSLOT Keys in request don't hash to the same slot";
    private static final String TWO_KEYS = "redis.call('set', KEYS[1], ARGV[1]); redis.call('set', KEYS[2], ARGV[1]);"
            + " return #KEYS";

    @Test
    void everyNodeIsAnIndependentOneNodeClusterThatOwnsAllSlots() {
        long begin = System.nanoTime();
        try (RedisServers servers = RedisServers.start(3, CLUSTER)) {
            System.out.printf("started 3 cluster-mode nodes in %d ms%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin));
            assertThat(servers.clusterMode()).isTrue();
            assertThat(servers.persistent()).isFalse();
            assertThat(servers.toString()).endsWith(" in cluster mode");
            Set<String> nodeIds = new HashSet<>();
            for (RedisServer server : servers) {
                assertThat(server.clusterMode()).isTrue();
                // the cluster bus is on port + 10000, so the port comes from the lower part of the range
                assertThat(server.port()).isBetween(PortReservation.FIRST_PORT,
                        PortReservation.END_PORT - PortReservation.CLUSTER_BUS_OFFSET - 1);
                assertThat(info(server, "server", "redis_mode")).isEqualTo("cluster");
                assertThat(info(server, "cluster", "cluster_enabled")).isEqualTo("1");
                String clusterInfo = server.admin().clusterInfo();
                assertThat(clusterInfo).contains("cluster_state:ok", "cluster_slots_assigned:16384",
                        "cluster_known_nodes:1", "cluster_size:1");
                assertThat(ClusterSlots.ownSlots(server.admin().clusterNodes()).cardinality()).isEqualTo(16384);
                nodeIds.add(server.admin().clusterMyId());
                assertThat(server.admin().configGet("appendonly")).containsEntry("appendonly", "no");
            }
            assertThat(nodeIds).hasSize(3);
            // independent: a key written on one node is on that node only
            servers.get(0).admin().set("lock:{a}", "t");
            assertThat(servers.keys("lock:*")).containsExactly(List.of("lock:{a}"), List.of(), List.of());
        }
    }

    @Test
    void keysOfAScriptOrCommandMustShareASlot() throws Exception {
        try (RedisServers servers = RedisServers.start(1, CLUSTER)) {
            RedisCommands<String, String> admin = servers.get(0).admin();

            assertThatThrownBy(() -> admin.eval(TWO_KEYS, ScriptOutputType.INTEGER,
                    new String[] {"lock:{a}", "lock:{b}"}, "t"))
                    .isInstanceOf(RedisCommandExecutionException.class)
                    .hasMessage(CROSSSLOT);
            assertThat(admin.dbsize()).isZero(); // rejected before it ran
            Long within = admin.eval(TWO_KEYS, ScriptOutputType.INTEGER,
                    new String[] {"lock:{a}", "lock:{a}:fence"}, "t");
            assertThat(within).isEqualTo(2);

            // EVALSHA after SCRIPT LOAD follows the same rule; a script without keys runs as usual
            String sha = admin.scriptLoad(TWO_KEYS);
            assertThatThrownBy(() -> admin.evalsha(sha, ScriptOutputType.INTEGER,
                    new String[] {"lock:{a}", "lock:{b}"}, "t"))
                    .isInstanceOf(RedisCommandExecutionException.class)
                    .hasMessage(CROSSSLOT);
            assertThat((Long) admin.evalsha(sha, ScriptOutputType.INTEGER,
                    new String[] {"lock:{b}", "lock:{b}:fence"}, "t")).isEqualTo(2);
            assertThat((Long) admin.eval("return 1", ScriptOutputType.INTEGER)).isEqualTo(1);
            assertThatThrownBy(() -> admin.mget("lock:{a}", "lock:{b}"))
                    .isInstanceOf(RedisCommandExecutionException.class)
                    .hasMessage(CROSSSLOT);

            // PUBLISH, also from a script, reaches a SUBSCRIBE on the node as on a standalone one
            RedisClient client = RedisClient.create(servers.get(0).uri());
            try (StatefulRedisPubSubConnection<String, String> pubSub = client.connectPubSub()) {
                BlockingQueue<String> received = new LinkedBlockingQueue<>();
                pubSub.addListener(new RedisPubSubAdapter<>() {
                    @Override
                    public void message(String channel, String message) {
                        received.add(channel + "=" + message);
                    }
                });
                pubSub.sync().subscribe("lock:{a}:released");
                assertThat(admin.publish("lock:{a}:released", "1")).isEqualTo(1);
                admin.eval("return redis.call('publish', ARGV[1], '2')", ScriptOutputType.INTEGER, new String[0],
                        "lock:{a}:released");
                assertThat(received.poll(5, TimeUnit.SECONDS)).isEqualTo("lock:{a}:released=1");
                assertThat(received.poll(5, TimeUnit.SECONDS)).isEqualTo("lock:{a}:released=2");
            } finally {
                client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            }
        }
    }

    @Test
    void restartsHandTheNodeBackOwningAllSlotsWithOrWithoutItsClusterConfigFile() throws Exception {
        try (RedisServers servers = RedisServers.start(1, CLUSTER)) {
            RedisServer server = servers.get(0);
            Path config = ((LocalRedisProcess) server.process()).directory()
                    .resolve(LocalRedisProcess.CLUSTER_CONFIG_FILE);
            assertThat(config).isRegularFile();
            String nodeId = server.admin().clusterMyId();
            server.admin().set("lock:{a}", "t");
            long pid = server.pid();

            // with the config file written before the kill: the node reloads it (same id, its slots)
            server.kill();
            assertThat(server.isRunning()).isFalse();
            long begin = System.nanoTime();
            server.restart();
            System.out.printf("restart with the cluster config file took %d ms%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin));
            assertThat(server.pid()).isNotEqualTo(pid);
            assertThat(server.admin().clusterMyId()).isEqualTo(nodeId);
            assertUsable(server);
            assertThat(server.admin().get("lock:{a}")).isNull(); // no persistence: empty

            // without it (as if the node died before writing it): a new node id, slots added again
            server.kill();
            Files.delete(config);
            server.restart();
            assertThat(server.admin().clusterMyId()).isNotEqualTo(nodeId);
            assertUsable(server);

            // a delayed restart completes only once the node is usable
            CompletableFuture<Void> up = server.restartAfter(Duration.ofMillis(200));
            up.get(30, TimeUnit.SECONDS);
            assertUsable(server);
        }
    }

    @Test
    void aPersistentClusterModeNodeKeepsItsDataAcrossARestart() {
        try (RedisServers servers = RedisServers.start(1, CLUSTER.withPersistence(true))) {
            RedisServer server = servers.get(0);
            assertThat(server.persistent()).isTrue();
            assertThat(server.clusterMode()).isTrue();
            assertThat(server.admin().configGet("appendonly")).containsEntry("appendonly", "yes");
            server.admin().set("lock:{a}", "t");

            server.restart();

            assertThat(server.admin().get("lock:{a}")).isEqualTo("t");
            assertUsable(server);
        }
    }

    @Test
    void resetRestartsKilledNodesAndGivesBackLostSlots() {
        try (RedisServers servers = RedisServers.start(2, CLUSTER)) {
            servers.get(0).admin().set("lock:{a}", "t");
            servers.get(0).kill();
            RedisCommands<String, String> admin = servers.get(1).admin();
            admin.set("lock:{b}", "t");
            admin.clusterDelSlots(0, 1, 2, 16383);
            assertThat(admin.clusterInfo()).contains("cluster_state:fail", "cluster_slots_assigned:16380");

            servers.reset();

            for (RedisServer server : servers) {
                assertThat(server.isRunning()).isTrue();
                assertThat(server.dbSize()).isZero();
                assertUsable(server);
            }
        }
    }

    @Test
    void theExtensionGivesClusterModeNodesTheirOwnGroup(@RedisNodes(value = 2, clusterMode = true) RedisServers cluster,
                                                        @RedisNodes(2) RedisServers standalone) {
        assertThat(cluster).isNotSameAs(standalone);
        assertThat(cluster.clusterMode()).isTrue();
        assertThat(standalone.clusterMode()).isFalse();
        assertThat(info(standalone.get(0), "cluster", "cluster_enabled")).isEqualTo("0");
        assertThat(info(standalone.get(0), "server", "redis_mode")).isEqualTo("standalone");
        for (RedisServer server : cluster) {
            assertUsable(server);
        }
    }

    @Test
    void invalidArgumentsAreRejectedWithTheirValues() {
        assertThatThrownBy(() -> RedisServers.start(0, CLUSTER))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("count must be at least 1 but was 0");
        assertThatThrownBy(() -> RedisServers.start(1, (NodeOptions) null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("options");
        assertThat(CLUSTER.withPersistence(true)).isEqualTo(NodeOptions.defaults().withPersistence(true)
                .withClusterMode(true)).hasToString("NodeOptions[persistence=true, clusterMode=true]");
        assertThat(NodeOptions.defaults().clusterMode()).isFalse();
        assertThat(NodeOptions.defaults().persistence()).isFalse();
    }

    /** Owns all slots, says cluster_state:ok, and keyed commands on several slots work at once (no CLUSTERDOWN). */
    private static void assertUsable(RedisServer server) {
        RedisCommands<String, String> admin = server.admin();
        assertThat(admin.clusterInfo()).contains("cluster_state:ok", "cluster_slots_assigned:16384",
                "cluster_slots_ok:16384", "cluster_known_nodes:1");
        assertThat(ClusterSlots.ownSlots(admin.clusterNodes()).cardinality()).isEqualTo(ClusterSlots.SLOTS);
        for (String key : List.of("probe:{a}", "probe:{b}", "probe:{c}")) {
            assertThat(admin.set(key, "1")).isEqualTo("OK");
            assertThat(admin.del(key)).isEqualTo(1);
        }
    }

    private static String info(RedisServer server, String section, String field) {
        return ClusterSlots.infoField(server.admin().info(section), field);
    }
}
