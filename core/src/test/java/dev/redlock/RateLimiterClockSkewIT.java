package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.redlock.internal.lock.LockClient;
import dev.redlock.internal.node.NodeChannel;
import dev.redlock.ratelimit.RateLimit;
import dev.redlock.ratelimit.RateLimitDecision;
import dev.redlock.ratelimit.RedRateLimiter;
import dev.redlock.testkit.RedisServers;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;

/**
 * Nodes whose clocks are ten minutes off, one ahead and one behind, change nothing: the script reads each node's own
 * {@code TIME} and only ever compares it with times it stored itself. The skew is real, on the clock the script
 * reads: the two nodes run under libfaketime ({@code LD_PRELOAD}, Debian package {@code faketime}, which
 * {@code .ci/run} installs), not a mocked client clock. They run the embedded Redis 6.2 binary (it links the C
 * library's malloc; the distribution's redis-server links jemalloc, which libfaketime cannot start under).
 */
class RateLimiterClockSkewIT {

    private static final String EMBEDDED = "redis-server-6.2.6-v5-linux-amd64";
    private static final List<Path> LIBFAKETIME = List.of(
            Path.of("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"),
            Path.of("/usr/lib/faketime/libfaketime.so.1"));

    @TempDir
    Path dir;

    @Test
    void nodesWhoseClocksAreMinutesOffChangeNothing() throws Exception {
        Path lib = LIBFAKETIME.stream().filter(Files::exists).findFirst().orElse(null);
        assumeTrue(lib != null, "libfaketime is not installed (Debian package 'faketime'; .ci/run installs it)");
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch");
        assumeTrue(os.contains("linux") && (arch.equals("amd64") || arch.equals("x86_64")),
                "the embedded binary this test runs under libfaketime is the linux-amd64 one");
        Path binary = extractEmbedded();
        List<Process> skewed = new ArrayList<>();
        try (RedisServers normal = RedisServers.start(1)) {
            List<String> all = new ArrayList<>(normal.uris());
            long normalMicros = RateLimiterLoadIT.serverMicros(normal.get(0));
            for (String offset : List.of("+10m", "-10m")) {
                int port = freePort();
                skewed.add(skewedNode(binary, lib, offset, port));
                String uri = "redis://127.0.0.1:" + port;
                long skew = awaitTime(uri) - normalMicros;
                assertThat(Math.abs(skew)).as("node %s runs %s off", uri, offset)
                        .isGreaterThan(TimeUnit.MINUTES.toMicros(9));
                all.add(uri);
            }

            try (ReactiveRedLock client = ReactiveRedLock.builder()
                    .nodes(all.toArray(String[]::new))
                    .restartGuard(RestartGuard.RUN_ID)
                    .defaults(LockOptions.builder().nodeTimeout(Duration.ofSeconds(1)).build())
                    .build()) {
                client.connect().block(Duration.ofSeconds(10));
                // quorum: all three nodes decide alike, one on time, one ahead, one behind
                assertExact(client.rateLimiter("skewed", RateLimit.perMinute(6).burst(5)));
                // strict, on each node in turn: the skewed node alone holds the limit exactly
                for (int i = 0; i < 3; i++) {
                    String name = strictNameFor(client, i);
                    assertExact(client.rateLimiter(name, RateLimit.perMinute(6).burst(5).strict()));
                }
                // the rate itself: 10 permits at 20/s without burst take 9 intervals of 50 ms
                RedRateLimiter paced = client.rateLimiter("paced", RateLimit.perSecond(20).burst(1));
                long start = System.nanoTime();
                Flux.range(0, 10).concatMap(i -> paced.acquire(1, Duration.ofSeconds(5))).blockLast(Duration.ofSeconds(10));
                long tookMs = (System.nanoTime() - start) / 1_000_000;
                assertThat(tookMs).as("10 permits at 20/s").isBetween(440L, 2_000L);
            }
        } finally {
            for (Process p : skewed) {
                p.destroy();
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            }
        }
    }

    /** Burst of 5 with the remaining count exact, then refusals with a retry-after of one interval (10 s). */
    private static void assertExact(RedRateLimiter limiter) {
        for (int left = 4; left >= 0; left--) {
            assertThat(limiter.tryAcquire(1).block(Duration.ofSeconds(5)))
                    .as("%s %s", limiter.name(), limiter.limit().mode())
                    .isEqualTo(new RateLimitDecision(true, left, Duration.ZERO));
        }
        RateLimitDecision refused = limiter.tryAcquire(1).block(Duration.ofSeconds(5));
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.retryAfter()).isBetween(Duration.ofSeconds(8), Duration.ofSeconds(10));
    }

    /**
     * A limiter name whose strict node is node {@code index} of the client, by the documented rule: index
     * {@code floorMod(name.hashCode(), N)} of the nodes sorted by {@code host:port}.
     */
    private static String strictNameFor(ReactiveRedLock client, int index) {
        List<String> names = new ArrayList<>();
        for (NodeChannel c : ((LockClient) client).engine().channels()) {
            names.add(c.name());
        }
        List<String> sorted = new ArrayList<>(names);
        sorted.sort(null);
        for (int i = 0; ; i++) {
            String name = "strict-" + i;
            if (sorted.get(Math.floorMod(name.hashCode(), sorted.size())).equals(names.get(index))) {
                return name;
            }
        }
    }

    private Process skewedNode(Path binary, Path lib, String offset, int port) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(binary.toString(), "--port", Integer.toString(port), "--bind",
                "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis-" + port + ".log").toFile());
        builder.environment().put("LD_PRELOAD", lib.toString());
        builder.environment().put("FAKETIME", offset);
        return builder.start();
    }

    /** The node's {@code TIME} in µs, once it answers (it was just started). */
    private static long awaitTime(String uri) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            RedisClient redis = RedisClient.create(uri);
            try (StatefulRedisConnection<String, String> c = redis.connect()) {
                List<String> t = c.sync().time();
                return Long.parseLong(t.get(0)) * 1_000_000L + Long.parseLong(t.get(1));
            } catch (RuntimeException notYet) {
                if (System.nanoTime() > deadline) {
                    throw notYet;
                }
                Thread.sleep(50);
            } finally {
                redis.shutdown();
            }
        }
    }

    private Path extractEmbedded() throws IOException {
        Path target = dir.resolve(EMBEDDED);
        try (InputStream in = RedisServers.class.getClassLoader().getResourceAsStream(EMBEDDED)) {
            assumeTrue(in != null, "the embedded-redis jar with " + EMBEDDED + " is not on the class path");
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
        assertThat(target.toFile().setExecutable(true)).isTrue();
        return target;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
