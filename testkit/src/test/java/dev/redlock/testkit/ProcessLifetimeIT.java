package dev.redlock.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** No redis-server outlives its JVM, and port reservations hold across JVMs. Uses child JVMs. */
class ProcessLifetimeIT {

    private final List<Process> children = new ArrayList<>();

    @AfterEach
    void killChildren() {
        children.forEach(Process::destroyForcibly);
    }

    @Test
    void redisServerDiesSoonAfterItsJvmIsKilledWithSigkill() throws Exception {
        Process child = startChild("serve", "hang");
        String[] ready = readLine(child).split(" ");
        long redisPid = Long.parseLong(ready[1]);
        int port = Integer.parseInt(ready[2]);
        Path dir = Path.of(ready[3]);
        assertThat(ProcessHandle.of(redisPid).map(ProcessHandle::isAlive)).hasValue(true);

        child.destroyForcibly(); // SIGKILL: no shutdown hook runs
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();

        // the watcher in the sh wrapper polls the JVM pid every second
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                .until(() -> ProcessHandle.of(redisPid).filter(ProcessHandle::isAlive).isEmpty());

        // nobody deleted the node's directory; the next sweep does, as its port lock died with the JVM
        assertThat(dir).isDirectory();
        LocalRedisProcess.sweepAbandonedDirectories();
        if (Files.exists(dir)) {
            // legitimate only if another node took the port in the meantime
            try (PortReservation lock = PortReservation.lockIfFree(PortReservation.defaultLockDir(), port)) {
                assertThat(lock).as("lock of port %s is free, yet %s was not swept", port, dir).isNull();
            }
        }
    }

    @Test
    void theShutdownHookKillsRedisServerWhenTheJvmExitsWithoutClosing() throws Exception {
        Process child = startChild("serve", "exit");
        String[] ready = readLine(child).split(" ");
        long redisPid = Long.parseLong(ready[1]);
        Path dir = Path.of(ready[3]);

        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();

        // the hook (not the watcher, which deletes nothing) removed the node's directory before the JVM ended
        assertThat(Files.exists(dir)).as("directory %s", dir).isFalse();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                .until(() -> ProcessHandle.of(redisPid).filter(ProcessHandle::isAlive).isEmpty());
    }

    @Test
    void aReservedPortIsLockedForOtherJvmsUntilReleased() throws Exception {
        PortReservation reservation = PortReservation.reserve();
        Path lockFile = Path.of(System.getProperty("java.io.tmpdir"), PortReservation.LOCK_DIR,
                reservation.port() + ".lock");
        try {
            assertThat(runChild("lock", lockFile.toString())).isEqualTo("BUSY");
        } finally {
            reservation.close();
        }
        assertThat(runChild("lock", lockFile.toString())).isEqualTo("LOCKED");
    }

    private Process startChild(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"),
                "-cp", System.getProperty("java.class.path"),
                ChildJvm.class.getName()));
        command.addAll(List.of(args));
        Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        children.add(child);
        return child;
    }

    private String runChild(String... args) throws Exception {
        Process child = startChild(args);
        String line = readLine(child);
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return line;
    }

    private static String readLine(Process child) throws Exception {
        BufferedReader reader = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8));
        String line = CompletableFuture.supplyAsync(() -> {
            try {
                return reader.readLine();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, RedisServer.WORKERS).get(60, TimeUnit.SECONDS);
        assertThat(line).as("first line printed by the child JVM").isNotNull();
        return line;
    }
}
