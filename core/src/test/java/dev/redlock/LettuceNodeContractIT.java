package dev.redlock;

import static org.awaitility.Awaitility.await;

import dev.redlock.internal.event.EventBus;
import dev.redlock.internal.node.HoldOutTime;
import dev.redlock.internal.node.LettuceNode;
import dev.redlock.internal.node.NodeChannel;
import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServer;
import dev.redlock.testkit.RedisServers;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import reactor.core.scheduler.Schedulers;

/** The node contract over a {@link LettuceNode} connected to a real redis-server. */
class LettuceNodeContractIT extends NodeContract {

    private static ClientResources resources;

    private RedisServer server;
    private LettuceNode node;

    @BeforeAll
    static void resources() {
        resources = DefaultClientResources.create();
    }

    @AfterAll
    static void shutdown() throws Exception {
        resources.shutdown(0, 1, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS);
    }

    /** The test kit flushed the node before this test. */
    @BeforeEach
    void connect(@RedisNodes(1) RedisServers servers) {
        server = servers.get(0);
        node = new LettuceNode(RedisNode.of(server.uri()), resources, Schedulers.parallel(), RestartGuard.OFF,
                new HoldOutTime(Duration.ofSeconds(1)), "lock:", Duration.ofSeconds(2), null,
                new EventBus(Schedulers.parallel(), Schedulers.boundedElastic()));
    }

    @AfterEach
    void close() throws Exception {
        node.closeAsync().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    @Override
    NodeChannel node() {
        return node;
    }

    @Override
    void setRaw(String key, String value) {
        server.admin().set(key, value);
    }

    @Override
    String getRaw(String key) {
        return server.admin().get(key);
    }

    @Override
    long pttlRaw(String key) {
        return server.admin().pttl(key);
    }

    /** Redis's {@code TIME} reads the same wall clock as this JVM. */
    @Override
    long clockMicros() {
        return ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
    }

    @Override
    void letExpire(String key, long leaseMs) {
        await().atMost(Duration.ofMillis(leaseMs).plusSeconds(5)).until(() -> server.admin().exists(key) == 0);
    }
}
