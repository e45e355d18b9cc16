package dev.redlock;

import dev.redlock.internal.node.LettuceNode;
import dev.redlock.testkit.RedisServer;
import dev.redlock.testkit.RedisServers;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.List;
import reactor.core.publisher.Mono;

/** Small helpers shared by the integration tests. */
final class RedisFixtures {

    private RedisFixtures() {}

    /**
     * A client over the servers. Its restart guard trusts the nodes on first contact ({@link RestartGuard#RUN_ID}):
     * the test kit started them moments ago, so no lease can exist that they could have forgotten, and the default
     * ({@link RestartGuard#STRICT}) would hold every node out until it is {@code maxLeaseTime} old. Tests of the
     * default set it themselves.
     */
    static RedLockBuilder builder(RedisServers servers) {
        return ReactiveRedLock.builder().nodes(servers.uris().toArray(String[]::new)).restartGuard(RestartGuard.RUN_ID);
    }

    static ReactiveRedLock client(RedisServers servers, LockOptions defaults) {
        return builder(servers).defaults(defaults).build();
    }

    /** Lock keys (not fencing counters) per node. */
    static long lockKeys(RedisServers servers) {
        return servers.keys("lock:{*").stream()
                .mapToLong(keys -> keys.stream().filter(k -> !k.endsWith(":fence")).count())
                .sum();
    }

    static List<List<String>> lockKeyList(RedisServers servers) {
        return servers.keys("lock:{*");
    }

    /**
     * How many times the node ran {@code command} (lower case, e.g. {@code del}) since it started or its statistics
     * were last reset ({@code CONFIG RESETSTAT}), calls made by scripts included ({@code INFO commandstats}). Shows that
     * a node has run commands that were waiting for it, where the absence of a key alone could be seen too early.
     */
    static long calls(RedisServer server, String command) {
        String stats = LettuceNode.infoField(server.admin().info("commandstats"), "cmdstat_" + command);
        if (stats != null) {
            for (String field : stats.split(",")) {
                if (field.startsWith("calls=")) {
                    return Long.parseLong(field.substring("calls=".length()));
                }
            }
        }
        return 0;
    }

    /** A non-atomic read-modify-write of a counter in Redis: GET, a pause, SET. Lost updates show overlap. */
    static final class Counter implements AutoCloseable {
        private final RedisClient client;
        private final StatefulRedisConnection<String, String> connection;
        private final String key;

        Counter(String uri, String key) {
            this.client = RedisClient.create(uri);
            this.connection = client.connect();
            this.key = key;
        }

        Mono<Void> increment(Duration gap) {
            return connection.reactive().get(key)
                    .map(Long::parseLong)
                    .defaultIfEmpty(0L)
                    .delayElement(gap)
                    .flatMap(v -> connection.reactive().set(key, Long.toString(v + 1)))
                    .then();
        }

        long value() {
            String v = connection.sync().get(key);
            return v == null ? 0 : Long.parseLong(v);
        }

        @Override
        public void close() {
            connection.close();
            client.shutdown();
        }
    }
}
