package dev.redlock.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.RedLock;
import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServers;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** The monitoring server over real nodes, through real HTTP. */
class MonitorServerIT {

    private static final String TOKEN = "s3cret-monitor-token-0123456789";

    @Test
    void healthIsServiceUnavailableBelowAQuorumAndRecovers(@RedisNodes(3) RedisServers servers) {
        try (MonitorFixture f = new MonitorFixture(servers)) {
            Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                MonitorFixture.Reply health = f.get("/health");
                assertThat(health.status()).isEqualTo(200);
                assertThat(health.contentType()).startsWith("application/json");
                Map<String, Object> json = health.json();
                assertThat(json).containsEntry("status", "UP").containsEntry("quorum", 2.0)
                        .containsEntry("nodeCount", 3.0).containsEntry("counting", 3.0);
                @SuppressWarnings("unchecked")
                List<Map<String, Object>> nodes = (List<Map<String, Object>>) json.get("nodes");
                assertThat(nodes).hasSize(3);
                for (int i = 0; i < 3; i++) {
                    Map<String, Object> node = nodes.get(i);
                    assertThat(node).containsEntry("node", "127.0.0.1:" + servers.get(i).port())
                            .containsEntry("up", true).containsEntry("counts", true).containsEntry("state", "up")
                            .containsEntry("breaker", "CLOSED").containsEntry("heldOutForMs", 0.0);
                    assertThat((Double) node.get("pingLatencyMs")).isNotNull().isGreaterThanOrEqualTo(0.0);
                    assertThat((Double) node.get("usedMemoryBytes")).isNotNull().isPositive();
                    assertThat(node).containsKey("maxMemoryBytes");
                }
                // host:port only, never a URI (which could carry a password)
                assertThat(health.body()).doesNotContain("redis://");
            });

            servers.get(0).kill();
            servers.get(1).kill();
            Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                MonitorFixture.Reply health = f.get("/health");
                assertThat(health.status()).isEqualTo(503);
                assertThat(health.json()).containsEntry("status", "DOWN").containsEntry("counting", 1.0);
                assertThat(health.body()).contains("\"state\":\"down\"").doesNotContain("redis://");
            });

            servers.get(0).restart();
            servers.get(1).restart();
            Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                MonitorFixture.Reply health = f.get("/health");
                assertThat(health.status()).isEqualTo(200);
                assertThat(health.json()).containsEntry("counting", 3.0);
            });
        }
    }

    @Test
    void statsCountAKnownWorkloadExactly(@RedisNodes(3) RedisServers servers) {
        try (MonitorFixture f = new MonitorFixture(servers)) {
            RedLock lock = f.client.lock("stats:k");
            StepVerifier.create(Flux.range(0, 20)
                            .concatMap(i -> lock.withLockMono(lease -> Mono.delay(Duration.ofMillis(20)).thenReturn(i))))
                    .expectNextCount(20)
                    .expectComplete()
                    .verify(Duration.ofSeconds(20));

            Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                MonitorFixture.Reply reply = f.get("/stats/all");
                assertThat(reply.status()).isEqualTo(200);
                Map<String, Object> group = reply.json();
                assertThat(group).containsEntry("group", "all");
                assertThat(MiniJson.number(group, "acquisitions.ACQUIRED")).isEqualTo(20);
                assertThat(MiniJson.number(group, "acquisitions.TIMED_OUT")).isZero();
                assertThat(MiniJson.number(group, "waitMs.total.count")).isEqualTo(20);
                assertThat(MiniJson.number(group, "holdMs.total.count")).isEqualTo(20);
                assertThat(MiniJson.number(group, "holdMs.window.count")).isEqualTo(20);
                assertThat(MiniJson.number(group, "holdMs.total.p50")).isGreaterThanOrEqualTo(19.8).isLessThan(2_000);
                assertThat(MiniJson.number(group, "holdMs.total.max"))
                        .isGreaterThanOrEqualTo(MiniJson.number(group, "holdMs.total.p99"));
                assertThat(MiniJson.number(group, "holdMs.total.p99"))
                        .isGreaterThanOrEqualTo(MiniJson.number(group, "holdMs.total.p50"));
                assertThat(MiniJson.number(group, "waitMs.total.p50")).isGreaterThan(0).isLessThan(2_000);
                assertThat(MiniJson.number(group, "acquisitionsPerSecond.ACQUIRED")).isPositive();
            });

            MonitorFixture.Reply all = f.get("/stats");
            assertThat(all.status()).isEqualTo(200);
            assertThat(all.json()).containsEntry("windowSeconds", 10.0);
            assertThat(all.body()).contains("\"group\":\"all\"");
            assertThat(f.get("/stats/no-such-group").status()).isEqualTo(404);
        }
    }

    @Test
    void metricsScrapeThePrometheusRegistry(@RedisNodes(3) RedisServers servers) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.counter("monitor.test.hits").increment(3);
        try (MonitorFixture f = new MonitorFixture(servers, LockStats.create(), b -> b.prometheus(registry))) {
            MonitorFixture.Reply scrape = f.get("/metrics");
            assertThat(scrape.status()).isEqualTo(200);
            assertThat(scrape.contentType()).isEqualTo("text/plain; version=0.0.4; charset=utf-8");
            assertThat(scrape.body()).contains("monitor_test_hits_total 3.0");
        } finally {
            registry.close();
        }
        try (MonitorFixture f = new MonitorFixture(servers)) {
            MonitorFixture.Reply none = f.get("/metrics");
            assertThat(none.status()).isEqualTo(404);
            assertThat(none.body()).contains("no Prometheus registry");
        }
    }

    @Test
    void eventsStreamTheLeaseEventsOfALockTakenWhileSubscribed(@RedisNodes(3) RedisServers servers) {
        try (MonitorFixture f = new MonitorFixture(servers, LockStats.create(),
                b -> b.heartbeat(Duration.ofMillis(200)))) {
            List<String> received = new CopyOnWriteArrayList<>();
            AtomicReference<String> contentType = new AtomicReference<>();
            Disposable stream = MonitorFixture.HTTP.get().uri(f.server.url() + "/events")
                    .response((response, body) -> {
                        contentType.set(response.responseHeaders().get("Content-Type"));
                        return body.asString();
                    })
                    .subscribe(received::add);
            try {
                Awaitility.await().atMost(Duration.ofSeconds(5))
                        .until(() -> String.join("", received).contains(": connected"));
                assertThat(contentType.get()).startsWith("text/event-stream");

                f.client.lock("events:k").withLockMono(lease -> Mono.just(1)).block(Duration.ofSeconds(5));

                Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                    String all = String.join("", received);
                    assertThat(all).containsPattern("data: \\{\"type\":\"ACQUIRED\",\"key\":\"events:k\",\"node\":null,"
                            + "\"tokenHash\":\"[0-9a-f]{8}\"");
                    assertThat(all).contains("\"type\":\"RELEASED\",\"key\":\"events:k\"");
                    assertThat(all).contains(": heartbeat");
                });
            } finally {
                stream.dispose();
            }
        }
    }

    @Test
    void badRequestsGetShortClientErrors(@RedisNodes(3) RedisServers servers) throws Exception {
        try (MonitorFixture f = new MonitorFixture(servers)) {
            f.client.lock("bad:k").withLockMono(lease -> Mono.just(1)).block(Duration.ofSeconds(5));
            assertThat(f.get("/stats/all").status()).isEqualTo(200);

            assertClientError(f.get("/nope"), 404);
            assertClientError(f.get("/health/extra"), 404);
            assertClientError(f.get("/stats/..%2f..%2fetc%2fpasswd"), 400);
            assertClientError(f.get("/stats/%2e%2e"), 400);
            assertClientError(f.get("/stats/.."), 400);
            assertClientError(f.get("/stats/all/../../etc/passwd"), 400);
            assertClientError(f.get("/stats/" + "a".repeat(200)), 400);
            assertClientError(f.get("/stats/a%20b"), 400);
            // HTTP clients refuse to send a raw space: a socket does
            String raw = raw(f, "GET /stats/a b HTTP/1.1");
            assertThat(raw).startsWith("HTTP/1.1 4").doesNotContain("Exception").doesNotContain("at ");
            assertClientError(f.get("/stats/%00"), 400);
            assertClientError(f.get("/stats/"), 400);
            assertClientError(f.get("/stats/unknown"), 404);
            assertClientError(f.request("POST", "/health", Map.of()), 405);
            assertClientError(f.request("DELETE", "/stats/all", Map.of()), 405);
            MonitorFixture.Reply root = f.get("/");
            assertThat(root.status()).as("/ leads to the page").isEqualTo(302);
            // the server still answers after all of that
            assertThat(f.get("/health").status()).isEqualTo(200);
        }
    }

    @Test
    void aBearerTokenGuardsEveryPath(@RedisNodes(3) RedisServers servers) {
        try (MonitorFixture f = new MonitorFixture(servers, LockStats.create(), b -> b.bearerToken(TOKEN))) {
            for (String path : List.of("/health", "/stats", "/dashboard", "/events", "/metrics", "/nope")) {
                MonitorFixture.Reply denied = f.get(path);
                assertThat(denied.status()).as(path).isEqualTo(401);
                assertThat(denied.authenticate()).as(path).startsWith("Bearer");
                assertThat(denied.body()).doesNotContain(TOKEN);
                assertThat(f.get(path, Map.of("Authorization", "Bearer wrong-token-0123456789abc")).status())
                        .as(path).isEqualTo(401);
            }
            assertThat(f.get("/health", Map.of("Authorization", "Bearer " + TOKEN)).status()).isEqualTo(200);
            assertThat(f.get("/stats", Map.of("Authorization", "bearer " + TOKEN)).status()).isEqualTo(200);
            MonitorFixture.Reply page = f.get("/dashboard?token=" + TOKEN);
            assertThat(page.status()).isEqualTo(200);
            assertThat(page.contentType()).startsWith("text/html");
            assertThat(page.body()).contains("id=\"nodes\"").contains("id=\"chart-rate\"");
        }
    }

    /**
     * An {@code /events} client that asks for one chunk and then reads nothing more does not slow the locks: 200
     * lock cycles finish promptly while it stalls, and the server keeps answering.
     */
    @Test
    void aStalledEventStreamDoesNotSlowTheLocks(@RedisNodes(3) RedisServers servers) {
        try (MonitorFixture f = new MonitorFixture(servers, LockStats.create(),
                b -> b.heartbeat(Duration.ofMillis(50)))) {
            AtomicReference<Throwable> streamError = new AtomicReference<>();
            BaseSubscriber<String> stalled = new BaseSubscriber<>() {
                @Override
                protected void hookOnSubscribe(Subscription subscription) {
                    subscription.request(1);
                }

                @Override
                protected void hookOnError(Throwable throwable) {
                    streamError.set(throwable);
                }
            };
            List<BaseSubscriber<String>> idle = new CopyOnWriteArrayList<>();
            MonitorFixture.HTTP.get().uri(f.server.url() + "/events")
                    .responseContent().asString().subscribe(stalled);
            for (int i = 0; i < 5; i++) {
                // more streams that never ask for anything at all
                BaseSubscriber<String> none = new BaseSubscriber<>() {
                    @Override
                    protected void hookOnSubscribe(Subscription subscription) {}
                };
                idle.add(none);
                MonitorFixture.HTTP.get().uri(f.server.url() + "/events").responseContent().asString().subscribe(none);
            }
            try {
                RedLock lock = f.client.lock("stalled:k");
                long start = System.nanoTime();
                StepVerifier.create(Flux.range(0, 200).concatMap(i -> lock.withLockMono(lease -> Mono.just(i))))
                        .expectNextCount(200)
                        .expectComplete()
                        .verify(Duration.ofSeconds(20));
                Duration took = Duration.ofNanos(System.nanoTime() - start);
                assertThat(took).as("200 lock cycles with stalled event streams").isLessThan(Duration.ofSeconds(10));
                Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                        assertThat(MiniJson.number(f.get("/stats/all").json(), "acquisitions.ACQUIRED")).isEqualTo(200));
                assertThat(f.get("/health").status()).isEqualTo(200);
                assertThat(streamError.get()).isNull();
            } finally {
                stalled.dispose();
                idle.forEach(BaseSubscriber::dispose);
            }
        }
    }

    /**
     * One kept-alive connection gets an answer to every request, whatever the previous answer was (sent at once or
     * from another thread, 200 or 4xx).
     */
    @Test
    void aKeptAliveConnectionGetsEveryAnswer(@RedisNodes(3) RedisServers servers) throws Exception {
        try (MonitorFixture f = new MonitorFixture(servers)) {
            f.client.lock("alive:k").withLockMono(lease -> Mono.just(1)).block(Duration.ofSeconds(5));
            // the JDK client keeps one connection for requests made one after another
            java.net.http.HttpClient jdk = java.net.http.HttpClient.newBuilder()
                    .version(java.net.http.HttpClient.Version.HTTP_1_1).build();
            for (int i = 0; i < 100; i++) {
                for (String path : List.of("/stats/all", "/nope", "/health/extra", "/stats/..%2f", "/health")) {
                    java.net.http.HttpResponse<String> response = jdk.send(java.net.http.HttpRequest
                                    .newBuilder(java.net.URI.create(f.server.url() + path))
                                    .timeout(Duration.ofSeconds(5)).build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString());
                    assertThat(response.statusCode()).as(i + " " + path).isIn(200, 400, 404);
                }
            }
        }
    }

    /** Sends one request line (and a Host header) over a plain socket and returns the whole response. */
    private static String raw(MonitorFixture f, String requestLine) throws IOException {
        try (Socket socket = new Socket(f.server.host(), f.server.port())) {
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write((requestLine + "\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static void assertClientError(MonitorFixture.Reply reply, int status) {
        assertThat(reply.status()).as(reply.toString()).isEqualTo(status);
        assertThat(reply.body()).as(reply.toString()).doesNotContain("Exception").doesNotContain("at dev.")
                .doesNotContain("at io.").doesNotContain("at reactor.").doesNotContain("at java.");
        assertThat(reply.body().length()).as(reply.toString()).isLessThan(300);
    }
}
