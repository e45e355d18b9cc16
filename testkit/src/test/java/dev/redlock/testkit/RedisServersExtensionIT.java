package dev.redlock.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/** The extension injects shared groups and brings them back to a clean state before each test. */
@ExtendWith(RedisServersExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RedisServersExtensionIT {

    private static RedisServers firstSeen;
    private static List<Integer> firstPorts;
    private static CompletableFuture<Void> pendingRestart;

    private final RedisServers fromConstructor;

    RedisServersExtensionIT(@RedisNodes(3) RedisServers servers) {
        this.fromConstructor = servers;
    }

    @Test
    @Order(1)
    void aTestMayBreakEveryNode(@RedisNodes(3) RedisServers servers) {
        assertThat(servers).isSameAs(fromConstructor);
        assertThat(servers.size()).isEqualTo(3);
        firstSeen = servers;
        firstPorts = servers.list().stream().map(RedisServer::port).toList();

        pendingRestart = servers.get(0).restartAfter(Duration.ofHours(1)); // killed, restart far away
        servers.get(1).pause();
        servers.get(2).admin().set("left", "over");
        servers.get(2).kill();

        assertThat(servers.get(0).isRunning()).isFalse();
        assertThat(servers.get(1).isPaused()).isTrue();
    }

    @Test
    @Order(2)
    void theNextTestSeesTheSameNodesHealthyAndEmpty(@RedisNodes(3) RedisServers servers) {
        assertThat(servers).isSameAs(firstSeen).isSameAs(fromConstructor);
        assertThat(servers.list().stream().map(RedisServer::port).toList()).isEqualTo(firstPorts);
        for (RedisServer server : servers) {
            assertThat(server.isRunning()).as("%s running", server).isTrue();
            assertThat(server.isPaused()).as("%s paused", server).isFalse();
            assertThat(server.dbSize()).as("%s keys", server).isZero();
            assertThat(server.admin().ping()).isEqualTo("PONG");
        }
        assertThat(pendingRestart).isCompletedExceptionally();
        org.assertj.core.api.Assertions.assertThatThrownBy(pendingRestart::join)
                .isInstanceOf(CancellationException.class);
        servers.get(0).admin().set("dirty", "1");
    }

    @Test
    @Order(3)
    void otherSettingsGetTheirOwnGroup(@RedisNodes(value = 2, persistence = true) RedisServers persistent,
                                       RedisServers unannotated) {
        assertThat(fromConstructor.get(0).dbSize()).isZero(); // flushed before this test too
        assertThat(persistent).isNotSameAs(fromConstructor);
        assertThat(persistent.size()).isEqualTo(2);
        assertThat(persistent.persistent()).isTrue();
        assertThat(unannotated.size()).isEqualTo(1);
        assertThat(unannotated.persistent()).isFalse();
        assertThat(unannotated).isNotSameAs(persistent).isNotSameAs(fromConstructor);
    }
}
