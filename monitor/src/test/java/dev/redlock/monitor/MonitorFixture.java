package dev.redlock.monitor;

import dev.redlock.LockOptions;
import dev.redlock.ReactiveRedLock;
import dev.redlock.RestartGuard;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import reactor.netty.http.client.HttpClient;

/** A client over the test nodes, its statistics and a monitor server on an ephemeral loopback port. */
final class MonitorFixture implements AutoCloseable {

    // generous: a loaded CI machine can be slow, and a request that fails says which one (see request)
    static final HttpClient HTTP = HttpClient.create().responseTimeout(Duration.ofSeconds(10));

    final ReactiveRedLock client;
    final LockStats stats;
    final MonitorServer server;

    /**
     * The client checks node health every 100 ms, so that a killed node shows within a few hundred milliseconds. Its
     * restart guard is off: tests restart nodes and expect them to count again at once (no lease outlives a test).
     */
    MonitorFixture(RedisServers servers, LockStats stats, Consumer<RedlockMonitor.Builder> monitor) {
        this.stats = stats;
        this.client = ReactiveRedLock.builder()
                .nodes(servers.uris().toArray(String[]::new))
                .restartGuard(RestartGuard.OFF)
                .healthCheckInterval(Duration.ofMillis(100))
                // the default 1 s is too short for a first connection on a busy CI machine
                .connectTimeout(Duration.ofSeconds(3))
                .metricsRecorder(stats)
                .defaults(LockOptions.builder().leaseTime(Duration.ofSeconds(10)).maxWait(Duration.ofSeconds(5)).build())
                .build();
        RedlockMonitor.Builder builder = RedlockMonitor.builder(client).stats(stats).port(0);
        monitor.accept(builder);
        MonitorServer started = null;
        try {
            client.connect().block(Duration.ofSeconds(10));
            started = builder.build().start().block(Duration.ofSeconds(10));
        } finally {
            if (started == null) {
                client.close();
            }
        }
        this.server = started;
    }

    MonitorFixture(RedisServers servers) {
        this(servers, LockStats.create(), b -> {});
    }

    /** A GET of {@code path} on the server, with optional request headers. */
    Reply get(String path, Map<String, String> headers) {
        return request("GET", path, headers);
    }

    Reply get(String path) {
        return get(path, Map.of());
    }

    Reply request(String method, String path, Map<String, String> headers) {
        return HTTP.headers(h -> headers.forEach(h::set))
                .request(io.netty.handler.codec.http.HttpMethod.valueOf(method))
                .uri(server.url() + path)
                .responseSingle((response, body) -> body.asString().defaultIfEmpty("")
                        .map(text -> new Reply(response.status().code(),
                                response.responseHeaders().get("Content-Type", ""),
                                response.responseHeaders().get("WWW-Authenticate", ""), text)))
                .onErrorMap(e -> new AssertionError(method + " " + path + " failed: " + e, e))
                .block(Duration.ofSeconds(15));
    }

    @Override
    public void close() {
        try {
            server.close();
        } finally {
            client.close();
        }
    }

    /** A response: status, content type, WWW-Authenticate header and body. */
    record Reply(int status, String contentType, String authenticate, String body) {
        Map<String, Object> json() {
            return MiniJson.object(body);
        }
    }
}
