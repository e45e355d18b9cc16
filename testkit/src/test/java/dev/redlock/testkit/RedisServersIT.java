package dev.redlock.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RedisServersIT {

    private static final Duration SHORT = Duration.ofMillis(300);

    @Test
    void startsIndependentRealRedisServersReachableThroughAdmin() throws IOException {
        // what the OS reports as a node's executable: links resolved (Debian's redis-server is a link to
        // redis-check-rdb, one binary for both)
        Path launched = RedisBinary.resolve(RedisSource.fromEnvironment()).toRealPath();
        long begin = System.nanoTime();
        try (RedisServers servers = RedisServers.start(3)) {
            System.out.printf("started 3 nodes in %d ms%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin));
            assertThat(servers.size()).isEqualTo(3);
            assertThat(servers.persistent()).isFalse();
            assertThat(servers.uris()).hasSize(3).allMatch(uri -> uri.matches("redis://127\\.0\\.0\\.1:\\d+"));
            Set<Integer> ports = new HashSet<>();
            Set<String> runIds = new HashSet<>();
            for (RedisServer server : servers) {
                assertThat(server.host()).isEqualTo("127.0.0.1");
                assertThat(server.uri()).isEqualTo("redis://127.0.0.1:" + server.port());
                assertThat(server.port()).isBetween(PortReservation.FIRST_PORT, PortReservation.END_PORT - 1);
                assertThat(server.isRunning()).isTrue();
                assertThat(server.isPaused()).isFalse();
                ports.add(server.port());
                runIds.add(server.runId());
                // pid() is redis-server itself, not the sh wrapper
                assertThat(ProcessHandle.of(server.pid()).flatMap(p -> p.info().command()).map(Path::of))
                        .hasValue(launched);
                assertThat(server.admin().configGet("save")).containsEntry("save", "");
                assertThat(server.admin().configGet("appendonly")).containsEntry("appendonly", "no");
            }
            assertThat(ports).hasSize(3);
            assertThat(runIds).hasSize(3);

            for (int i = 0; i < 3; i++) {
                servers.get(i).admin().set("key", "value-" + i);
            }
            for (int i = 0; i < 3; i++) {
                assertThat(servers.get(i).admin().get("key")).isEqualTo("value-" + i);
                assertThat(servers.get(i).dbSize()).isEqualTo(1);
            }
            servers.flushAll();
            assertThat(servers.keys("*")).containsExactly(List.of(), List.of(), List.of());
        }
    }

    @Test
    void killRefusesConnectionsAndRestartWithoutPersistenceComesBackEmpty() throws Exception {
        try (RedisServers servers = RedisServers.start(1)) {
            RedisServer server = servers.get(0);
            server.admin().set("a", "1");
            String runId = server.runId();
            long pid = server.pid();
            int port = server.port();

            server.kill();

            assertThat(server.isRunning()).isFalse();
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).isNotEqualTo(java.util.Optional.of(true));
            assertThatThrownBy(() -> connect(port)).isInstanceOf(ConnectException.class);
            assertThatThrownBy(() -> server.keys("*"))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("killed")
                    .hasMessageContaining(String.valueOf(port));
            assertThatThrownBy(() -> server.admin().ping()).isInstanceOf(RedisException.class);
            assertThatThrownBy(server::pause).isInstanceOf(IllegalStateException.class);
            assertThat(servers.keys("*")).containsExactly(List.of()); // a killed node contributes nothing
            server.kill(); // no-op

            server.restart();

            assertThat(server.isRunning()).isTrue();
            assertThat(server.port()).isEqualTo(port);
            assertThat(server.pid()).isNotEqualTo(pid);
            assertThat(server.dbSize()).isZero();
            assertThat(server.admin().get("a")).isNull(); // the admin connection reconnected by itself
            assertThat(server.runId()).isNotEqualTo(runId);
        }
    }

    @Test
    void persistentNodeKeepsAcknowledgedWritesAcrossRestart() {
        try (RedisServers servers = RedisServers.start(1, true)) {
            RedisServer server = servers.get(0);
            assertThat(servers.persistent()).isTrue();
            assertThat(server.persistent()).isTrue();
            assertThat(server.admin().configGet("appendonly")).containsEntry("appendonly", "yes");
            assertThat(server.admin().configGet("appendfsync")).containsEntry("appendfsync", "always");
            server.admin().set("lock:a", "token-1");
            server.admin().pexpire("lock:a", 600_000);
            String runId = server.runId();

            server.restart();

            assertThat(server.admin().get("lock:a")).isEqualTo("token-1");
            assertThat(server.admin().pttl("lock:a")).isPositive();
            assertThat(server.runId()).isNotEqualTo(runId);

            // killed (not restarted) and then reset: the data comes back from the AOF and is flushed
            server.kill();
            servers.reset();
            assertThat(server.dbSize()).isZero();
        }
    }

    @Test
    void pauseFreezesTheNodeAndResumeThawsIt() throws Exception {
        try (RedisServers servers = RedisServers.start(1)) {
            RedisServer server = servers.get(0);

            server.pause();

            assertThat(server.isPaused()).isTrue();
            assertThat(server.isRunning()).isTrue();
            assertThatThrownBy(() -> Resp.ping(server.host(), server.port(), SHORT))
                    .isInstanceOf(SocketTimeoutException.class);
            assertThatThrownBy(() -> server.keys("*"))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("paused")
                    .hasMessageContaining("resume()");
            assertThat(servers.keys("*")).containsExactly(List.of());
            server.pause(); // no-op

            server.resume();

            assertThat(server.isPaused()).isFalse();
            assertThat(Resp.ping(server.host(), server.port(), Duration.ofSeconds(2))).isEqualTo("+PONG");
            assertThat(server.admin().ping()).isEqualTo("PONG");
            server.resume(); // no-op

            // a paused node can be killed and restarted
            server.pause();
            server.restart();
            assertThat(server.isPaused()).isFalse();
            assertThat(server.admin().ping()).isEqualTo("PONG");
        }
    }

    @Test
    void restartAfterReturnsAtOnceAndCompletesWhenTheNodeIsBackAfterTheDelay() throws Exception {
        try (RedisServers servers = RedisServers.start(1)) {
            RedisServer server = servers.get(0);
            long pid = server.pid();
            Duration delay = Duration.ofMillis(700);

            long begin = System.nanoTime();
            CompletableFuture<Void> up = server.restartAfter(delay);
            boolean runningRightAfter = server.isRunning();
            long sinceCall = System.nanoTime() - begin;
            if (runningRightAfter) {
                // only possible if this thread was descheduled for longer than the delay
                assertThat(sinceCall).isGreaterThanOrEqualTo(delay.toNanos());
            }

            up.get(30, TimeUnit.SECONDS);

            assertThat(System.nanoTime() - begin).isGreaterThanOrEqualTo(delay.toNanos());
            assertThat(server.isRunning()).isTrue();
            assertThat(server.pid()).isNotEqualTo(pid);
            assertThat(Resp.ping(server.host(), server.port(), Duration.ofSeconds(2))).isEqualTo("+PONG");
            assertThat(server.admin().ping()).isEqualTo("PONG");
        }
    }

    @Test
    void aPendingDelayedRestartIsSupersededByALaterFault() {
        try (RedisServers servers = RedisServers.start(1)) {
            RedisServer server = servers.get(0);
            CompletableFuture<Void> never = server.restartAfter(Duration.ofHours(1));
            assertThat(server.isRunning()).isFalse();

            server.restart();

            assertThat(server.isRunning()).isTrue();
            assertThat(never).isCompletedExceptionally();
            assertThatThrownBy(never::get).isInstanceOf(CancellationException.class)
                    .hasMessageContaining("superseded by restart()");

            assertThatThrownBy(() -> server.restartAfter(Duration.ofMillis(-1)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("PT-0.001S");
        }
    }

    @Test
    void keysUsesScanAndNeverKeys() {
        try (RedisServers servers = RedisServers.start(2)) {
            RedisServer server = servers.get(0);
            Map<String, String> values = new HashMap<>();
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 2500; i++) {
                values.put("k:" + i, "v");
                expected.add("k:" + i);
            }
            for (int i = 0; i < 10; i++) {
                values.put("other:" + i, "v");
            }
            server.admin().mset(values);
            server.admin().configResetstat();

            List<String> keys = server.keys("k:*");

            assertThat(keys).hasSize(2500).containsExactlyInAnyOrderElementsOf(expected).isSorted();
            String stats = server.admin().info("commandstats");
            assertThat(stats).contains("cmdstat_scan:").doesNotContain("cmdstat_keys:");
            assertThat(servers.keys("other:*")).hasSize(2);
            assertThat(servers.keys("other:*").get(0)).hasSize(10);
            assertThat(servers.keys("other:*").get(1)).isEmpty();
        }
    }

    @Test
    void groupsStartedConcurrentlyNeverShareAPort() throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<RedisServers>> groups = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            groups.add(CompletableFuture.supplyAsync(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return RedisServers.start(3);
            }, RedisServer.WORKERS));
        }
        go.countDown();
        try (RedisServers a = groups.get(0).get(60, TimeUnit.SECONDS);
             RedisServers b = groups.get(1).get(60, TimeUnit.SECONDS)) {
            Set<Integer> ports = new HashSet<>();
            for (RedisServers group : List.of(a, b)) {
                for (RedisServer server : group) {
                    ports.add(server.port());
                    assertThat(server.admin().ping()).isEqualTo("PONG");
                }
            }
            assertThat(ports).hasSize(6);
        }
    }

    @Test
    void closeKillsEveryProcessAndDeletesDirectories() throws Exception {
        long begin = System.nanoTime();
        RedisServers servers = RedisServers.start(5);
        System.out.printf("started 5 nodes in %d ms%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin));
        servers.get(1).pause();
        servers.get(2).kill();
        List<Long> pids = new ArrayList<>();
        List<Path> dirs = new ArrayList<>();
        for (RedisServer server : servers) {
            LocalRedisProcess process = (LocalRedisProcess) server.process();
            pids.add(server.pid());
            pids.add(process.wrapperPid());
            dirs.add(process.directory());
            assertThat(process.directory()).isDirectory();
            assertThat(process.directory().resolve(LocalRedisProcess.LOG_FILE)).exists();
        }

        servers.close();

        for (long pid : pids) {
            assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).as("process %s", pid).isEmpty();
        }
        for (Path dir : dirs) {
            assertThat(Files.exists(dir)).as("directory %s", dir).isFalse();
        }
        servers.close(); // idempotent
        assertThatThrownBy(() -> servers.get(0).restart())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        assertThatThrownBy(servers::reset).isInstanceOf(IllegalStateException.class);
        assertThat(servers.get(0).isRunning()).isFalse();
    }

    @Test
    void invalidArgumentsAreRejectedWithTheirValues() {
        assertThatThrownBy(() -> RedisServers.start(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("count must be at least 1 but was 0");
        try (RedisServers servers = RedisServers.start(1)) {
            assertThatThrownBy(() -> servers.get(3))
                    .isInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessageContaining("node index 3 is out of range [0, 1)");
            assertThat(servers.list()).containsExactly(servers.get(0));
            assertThatThrownBy(() -> servers.list().clear()).isInstanceOf(UnsupportedOperationException.class);
        }
    }

    @Test
    void anAdminCommandOnAPausedNodeTimesOutAndTheConnectionRecovers() throws ExecutionException {
        try (RedisServers servers = RedisServers.start(1)) {
            RedisServer server = servers.get(0);
            server.pause();
            assertThatThrownBy(() -> server.admin().ping()).isInstanceOf(RedisException.class)
                    .hasMessageContaining("timed out");
            server.resume();
            assertThat(server.admin().ping()).isEqualTo("PONG");
            server.admin().set("x", "1");
            assertThat(server.admin().get("x")).isEqualTo("1");
        }
    }

    private static void connect(int port) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        }
    }
}
