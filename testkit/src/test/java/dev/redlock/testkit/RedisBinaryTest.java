package dev.redlock.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RedisBinaryTest {

    @Test
    void picksTheEmbeddedBinaryForOsAndArchitecture() {
        assertThat(RedisBinary.embeddedResourceName("Linux", "amd64")).isEqualTo("redis-server-6.2.6-v5-linux-amd64");
        assertThat(RedisBinary.embeddedResourceName("Linux", "x86_64")).isEqualTo("redis-server-6.2.6-v5-linux-amd64");
        assertThat(RedisBinary.embeddedResourceName("Linux", "aarch64")).isEqualTo("redis-server-6.2.7-linux-arm64");
        assertThat(RedisBinary.embeddedResourceName("Linux", "i386")).isEqualTo("redis-server-6.2.7-linux-386");
        assertThat(RedisBinary.embeddedResourceName("Mac OS X", "aarch64"))
                .isEqualTo("redis-server-6.2.6-v5-darwin-arm64");
        assertThat(RedisBinary.embeddedResourceName("Mac OS X", "x86_64"))
                .isEqualTo("redis-server-6.2.6-v5-darwin-amd64");
    }

    @Test
    void unsupportedPlatformNamesOsAndArchitecture() {
        assertThatThrownBy(() -> RedisBinary.embeddedResourceName("Windows 11", "amd64"))
                .isInstanceOf(RedisTestkitException.class)
                .hasMessageContaining("os.name=Windows 11")
                .hasMessageContaining("os.arch=amd64")
                .hasMessageContaining("redlock.test.redis=path");
        assertThatThrownBy(() -> RedisBinary.embeddedResourceName("Linux", "riscv64"))
                .hasMessageContaining("os.arch=riscv64");
    }

    @Test
    void everyResourceNameExistsInTheEmbeddedRedisJar() {
        for (String name : List.of("redis-server-6.2.6-v5-linux-amd64", "redis-server-6.2.7-linux-arm64",
                "redis-server-6.2.7-linux-386", "redis-server-6.2.6-v5-darwin-arm64",
                "redis-server-6.2.6-v5-darwin-amd64")) {
            assertThat(getClass().getClassLoader().getResource(name)).as(name).isNotNull();
        }
    }

    @Test
    void concurrentExtractionsYieldOneCompleteExecutable(@TempDir Path base) throws Exception {
        String resource = RedisBinary.embeddedResourceName(System.getProperty("os.name"),
                System.getProperty("os.arch"));
        long size;
        try (var in = getClass().getClassLoader().getResourceAsStream(resource)) {
            size = in.readAllBytes().length;
        }
        int threads = 8;
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<Path>> results = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            results.add(CompletableFuture.supplyAsync(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return RedisBinary.extract(resource, base);
            }, RedisServer.WORKERS));
        }
        go.countDown();
        Path first = results.get(0).get(60, TimeUnit.SECONDS);
        for (CompletableFuture<Path> result : results) {
            assertThat(result.get(60, TimeUnit.SECONDS)).isEqualTo(first);
        }
        assertThat(first.getFileName().toString()).isEqualTo("redis-server");
        assertThat(first.getParent().getFileName().toString()).startsWith("redlock-testkit-");
        assertThat(Files.size(first)).isEqualTo(size);
        assertThat(Files.isExecutable(first)).isTrue();
        try (Stream<Path> files = Files.list(first.getParent())) {
            assertThat(files).containsExactly(first); // no .part leftovers
        }
        Process version = new ProcessBuilder(first.toString(), "--version").redirectErrorStream(true).start();
        String output = new String(version.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(version.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(output).startsWith("Redis server v=6.2.");
        // reused, not rewritten
        long modified = Files.getLastModifiedTime(first).toMillis();
        assertThat(RedisBinary.extract(resource, base)).isEqualTo(first);
        assertThat(Files.getLastModifiedTime(first).toMillis()).isEqualTo(modified);
    }

    @Test
    void findsRedisServerOnPathOrSaysWhereItLooked(@TempDir Path dir) throws Exception {
        Path empty = Files.createDirectory(dir.resolve("empty"));
        Path bin = Files.createDirectory(dir.resolve("bin"));
        RedisSource source = RedisSource.parse("path", null);
        String pathValue = empty + File.pathSeparator + bin;

        assertThatThrownBy(() -> RedisBinary.findOnPath(pathValue, source))
                .isInstanceOf(RedisTestkitException.class)
                .hasMessageContaining("redlock.test.redis=path")
                .hasMessageContaining("no executable redis-server")
                .hasMessageContaining(pathValue);

        Path fake = Files.createFile(bin.resolve("redis-server"));
        assertThatThrownBy(() -> RedisBinary.findOnPath(pathValue, source)).isInstanceOf(RedisTestkitException.class);
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertThat(RedisBinary.findOnPath(pathValue, source)).isEqualTo(fake);
    }

    @Test
    void explicitBinaryMustExistAndBeExecutable(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("missing/redis-server");
        assertThatThrownBy(() -> RedisBinary.resolve(RedisSource.parse(missing.toString(), null)))
                .isInstanceOf(RedisTestkitException.class)
                .hasMessageContaining(missing.toString())
                .hasMessageContaining("does not exist");
        Path plain = Files.createFile(dir.resolve("redis-server"));
        assertThatThrownBy(() -> RedisBinary.resolve(RedisSource.parse(plain.toString(), null)))
                .hasMessageContaining("not an executable");
    }
}
