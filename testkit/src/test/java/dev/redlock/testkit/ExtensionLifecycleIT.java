package dev.redlock.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * Runs a test class through JUnit to check what can only be seen from outside it: the groups are closed when the
 * class is done, and {@code @RedisNodes} alone registers the extension.
 */
class ExtensionLifecycleIT {

    static final List<Long> PIDS = new ArrayList<>();
    static final List<Path> DIRS = new ArrayList<>();

    @Test
    void serversAreClosedAfterTheClassAndTheAnnotationAloneRegistersTheExtension() {
        PIDS.clear();
        DIRS.clear();

        long begin = System.nanoTime();
        EngineTestKit.engine("junit-jupiter")
                .selectors(selectClass(AnnotationOnly.class))
                .execute()
                .testEvents()
                .assertStatistics(stats -> stats.started(2).succeeded(2).failed(0));

        System.out.printf("ran %s in %d ms%n", AnnotationOnly.class.getSimpleName(),
                (System.nanoTime() - begin) / 1_000_000);
        assertThat(PIDS).hasSize(4); // 2 nodes, 2 tests (one pid per start)
        for (long pid : PIDS) {
            assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).as("redis-server pid %s", pid).isEmpty();
        }
        for (Path dir : DIRS) {
            assertThat(Files.exists(dir)).as("directory %s", dir).isFalse();
        }
    }

    /** No @ExtendWith: the @RedisNodes parameter registers the extension. Run only through EngineTestKit. */
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    static class AnnotationOnly {

        @Test
        @Order(1)
        void killsANode(@RedisNodes(2) RedisServers servers) {
            record(servers);
            servers.get(0).kill();
            servers.get(1).admin().set("k", "v");
        }

        @Test
        @Order(2)
        void seesItRestartedAndEmpty(@RedisNodes(2) RedisServers servers) {
            record(servers);
            assertThat(servers.get(0).isRunning()).isTrue();
            assertThat(servers.get(1).dbSize()).isZero();
        }

        private static void record(RedisServers servers) {
            for (RedisServer server : servers) {
                PIDS.add(server.pid());
                DIRS.add(((LocalRedisProcess) server.process()).directory());
            }
            // node 1 is never restarted: its pid is recorded twice
            if (PIDS.size() == 4) {
                assertThat(PIDS.get(3)).isEqualTo(PIDS.get(1));
                assertThat(PIDS.get(2)).isNotEqualTo(PIDS.get(0));
            }
        }
    }
}
