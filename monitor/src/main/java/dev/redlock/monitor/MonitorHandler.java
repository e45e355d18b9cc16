package dev.redlock.monitor;

import dev.redlock.LeaseLostException;
import dev.redlock.LockEvent;
import dev.redlock.NodeStatus;
import dev.redlock.ReactiveRedLock;
import dev.redlock.metrics.LockMetricsRecorder.AcquireOutcome;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.BufferOverflowStrategy;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * Answers the monitor's requests. Runs on Reactor Netty's event loops: what may take a while or wait (reading the
 * statistics, which swaps recorder buffers; a Prometheus scrape) moves to {@link Schedulers#boundedElastic()}.
 * Errors never show a stack trace: a failure after routing answers 500 with a short text, and is logged.
 */
final class MonitorHandler implements BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> {

    private static final Logger LOG = LoggerFactory.getLogger(MonitorHandler.class);

    static final String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final String JSON = "application/json; charset=utf-8";
    private static final String TEXT = "text/plain; charset=utf-8";
    private static final String HTML = "text/html; charset=utf-8";
    // the page's script and style are inline; it talks only to this server and embeds nothing from elsewhere
    private static final String DASHBOARD_POLICY = "default-src 'none'; script-src 'unsafe-inline'; "
            + "style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
            + "form-action 'none'; frame-ancestors 'none'";
    private static final String STATS_PREFIX = "/stats/";

    /** Events waiting for one slow {@code /events} client: beyond this, the oldest are dropped. */
    static final int EVENT_BUFFER = 256;
    /** Open {@code /events} streams at most: each holds a buffer, so their number is bounded too. */
    static final int MAX_EVENT_STREAMS = 64;

    private final ReactiveRedLock client;
    private final @Nullable LockStats stats;
    private final @Nullable PrometheusMeterRegistry registry;
    private final byte @Nullable [] tokenDigest;
    private final byte[] dashboard;
    private final Duration heartbeat;
    private final Mono<Void> stopped;
    private final AtomicInteger eventStreams = new AtomicInteger();

    MonitorHandler(ReactiveRedLock client, @Nullable LockStats stats, @Nullable PrometheusMeterRegistry registry,
            @Nullable String bearerToken, byte[] dashboard, Duration heartbeat, Mono<Void> stopped) {
        this.client = client;
        this.stats = stats;
        this.registry = registry;
        this.tokenDigest = bearerToken == null ? null : sha256(bearerToken);
        this.dashboard = dashboard;
        this.heartbeat = heartbeat;
        this.stopped = stopped;
    }

    @Override
    public Publisher<Void> apply(HttpServerRequest request, HttpServerResponse response) {
        // Answers once the request has been read to its end (a GET has no body; anything sent is discarded). A
        // response that completed while the request was still being read could leave the next request of a
        // kept-alive connection unanswered.
        return request.receive().then().then(Mono.defer(() -> Mono.from(answer(request, response))));
    }

    private Publisher<Void> answer(HttpServerRequest request, HttpServerResponse response) {
        response.header("X-Content-Type-Options", "nosniff").header(HttpHeaderNames.CACHE_CONTROL, "no-store");
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        if (!authorized(request, uri)) {
            response.header(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"redlock-monitor\"");
            return text(response, HttpResponseStatus.UNAUTHORIZED, "unauthorized: a bearer token is required");
        }
        String path = uri.rawPath();
        Supplier<Publisher<Void>> route = route(path, request, response, uri);
        if (route == null) {
            return text(response, HttpResponseStatus.NOT_FOUND, "not found");
        }
        if (!HttpMethod.GET.equals(request.method())) {
            response.header(HttpHeaderNames.ALLOW, "GET");
            return text(response, HttpResponseStatus.METHOD_NOT_ALLOWED, "method not allowed: use GET");
        }
        return Mono.defer(() -> Mono.from(route.get())).onErrorResume(e -> {
            LOG.warn("redlock-monitor: {} failed", path, e);
            // a short text, never the stack trace (too late when the response has begun: then the connection closes)
            return response.hasSentHeaders() ? Mono.error(e)
                    : Mono.from(text(response, HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error"));
        });
    }

    private @Nullable Supplier<Publisher<Void>> route(String path, HttpServerRequest request,
            HttpServerResponse response, QueryStringDecoder uri) {
        switch (path) {
            case "/":
                // to the page, with the query (a token) as it came
                return () -> response.status(HttpResponseStatus.FOUND)
                        .header(HttpHeaderNames.LOCATION, "/dashboard" + query(request.uri())).send();
            case "/health":
                return () -> health(response);
            case "/metrics":
                return () -> metrics(response);
            case "/stats":
                return () -> allStats(response);
            case "/events":
                return () -> events(response);
            case "/dashboard":
                return () -> response.header(HttpHeaderNames.CONTENT_TYPE, HTML)
                        .header("Content-Security-Policy", DASHBOARD_POLICY)
                        .header("Referrer-Policy", "no-referrer")
                        .sendByteArray(Mono.just(dashboard)).then();
            default:
                if (path.startsWith(STATS_PREFIX)) {
                    String group = path.substring(STATS_PREFIX.length());
                    return () -> groupStats(response, group);
                }
                return null;
        }
    }

    // == /health ==

    private Publisher<Void> health(HttpServerResponse response) {
        List<NodeStatus> nodes = client.nodeStatus();
        int counting = (int) nodes.stream().filter(NodeStatus::counts).count();
        boolean healthy = counting >= client.quorum();
        Json json = new Json().beginObject()
                .field("status", healthy ? "UP" : "DOWN")
                .field("quorum", client.quorum())
                .field("nodeCount", nodes.size())
                .field("counting", counting)
                .field("activeLeases", client.activeLeases())
                .name("nodes").beginArray();
        for (NodeStatus node : nodes) {
            json.beginObject()
                    // host:port only: NodeStatus never holds the URI, so never a password
                    .field("node", node.node())
                    .field("state", state(node))
                    .field("up", node.up())
                    .field("counts", node.counts())
                    .name("pingLatencyMs");
            Optional<Duration> ping = node.pingLatency();
            if (ping.isPresent()) {
                json.value(ping.get().toNanos() / 1e6);
            } else {
                json.value((String) null);
            }
            json.name("usedMemoryBytes");
            memory(json, node.usedMemory().isPresent() ? node.usedMemory().getAsLong() : -1);
            json.name("maxMemoryBytes");
            memory(json, node.maxMemory().isPresent() ? node.maxMemory().getAsLong() : -1);
            json.field("breaker", node.circuitBreaker().name())
                    .field("heldOutForMs", node.heldOutFor().toMillis())
                    .field("lastError", Json.safeMessage(node.lastError().orElse(null)))
                    .endObject();
        }
        json.endArray().endObject();
        return json(response, healthy ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, json);
    }

    /** The dashboard's word for a node: {@code up}, {@code down}, {@code held-out} or {@code breaker-open}. */
    static String state(NodeStatus node) {
        if (!node.up()) {
            return "down";
        }
        if (!node.heldOutFor().isZero()) {
            return "held-out";
        }
        return node.circuitBreaker() == NodeStatus.BreakerState.OPEN ? "breaker-open" : "up";
    }

    private static void memory(Json json, long bytes) {
        if (bytes < 0) {
            json.value((String) null);
        } else {
            json.value(bytes);
        }
    }

    // == /metrics ==

    private Publisher<Void> metrics(HttpServerResponse response) {
        PrometheusMeterRegistry prometheus = registry;
        if (prometheus == null) {
            return text(response, HttpResponseStatus.NOT_FOUND,
                    "no Prometheus registry: RedlockMonitor.Builder.prometheus(registry) was not set");
        }
        Mono<String> scrape = Mono.fromCallable(prometheus::scrape).subscribeOn(Schedulers.boundedElastic());
        return response.header(HttpHeaderNames.CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE)
                .sendString(scrape, StandardCharsets.UTF_8).then();
    }

    // == /stats ==

    private Publisher<Void> allStats(HttpServerResponse response) {
        LockStats lockStats = stats;
        if (lockStats == null) {
            return noStats(response);
        }
        return sendJson(response, () -> {
            Json json = new Json().beginObject()
                    .field("windowSeconds", LockStats.WINDOW.toSeconds())
                    .field("uptimeSeconds", lockStats.uptimeSeconds())
                    .field("activeLeases", client.activeLeases())
                    .name("groups").beginArray();
            List<String> names = lockStats.groupNames();
            names.sort(null);
            for (String name : names) {
                Optional<GroupStats.Snapshot> snapshot = lockStats.snapshot(name);
                if (snapshot.isPresent()) {
                    group(json, name, snapshot.get());
                }
            }
            return json.endArray().endObject();
        });
    }

    private Publisher<Void> groupStats(HttpServerResponse response, String group) {
        if (!validGroupName(group)) {
            return text(response, HttpResponseStatus.BAD_REQUEST, "bad group name: 1 to "
                    + LockStats.MAX_GROUP_NAME_LENGTH + " letters, digits or . _ : - (not only dots)");
        }
        LockStats lockStats = stats;
        if (lockStats == null) {
            return noStats(response);
        }
        if (!lockStats.hasGroup(group)) {
            return text(response, HttpResponseStatus.NOT_FOUND, "no such group");
        }
        // groups are never removed: the snapshot finds it
        return sendJson(response, () -> group(new Json(), group, lockStats.snapshot(group).orElseThrow()));
    }

    /** Whether {@code group}, as it came in the raw path, can name a group of {@link LockStats}. */
    static boolean validGroupName(String group) {
        if (group.isEmpty() || group.length() > LockStats.MAX_GROUP_NAME_LENGTH) {
            return false;
        }
        boolean onlyDots = true;
        for (int i = 0; i < group.length(); i++) {
            char c = group.charAt(i);
            // '%' (any encoded character, %2f included) and '/' are outside the set: no decoding, no traversal
            if (!LockStats.isSafe(c)) {
                return false;
            }
            onlyDots &= c == '.';
        }
        return !onlyDots;
    }

    private static Json group(Json json, String name, GroupStats.Snapshot s) {
        json.beginObject().field("group", name).field("windowSeconds", s.windowSeconds());
        json.name("acquisitions").beginObject();
        for (AcquireOutcome outcome : AcquireOutcome.values()) {
            json.field(outcome.name(), s.outcomes()[outcome.ordinal()]);
        }
        json.endObject().name("acquisitionsPerSecond").beginObject();
        for (AcquireOutcome outcome : AcquireOutcome.values()) {
            json.field(outcome.name(), s.ratesPerSecond()[outcome.ordinal()]);
        }
        json.endObject();
        json.name("waitMs").beginObject();
        distribution(json.name("window"), s.waitWindow());
        distribution(json.name("total"), s.waitTotal());
        json.endObject().name("holdMs").beginObject();
        distribution(json.name("window"), s.holdWindow());
        distribution(json.name("total"), s.holdTotal());
        json.endObject().name("leasesLost").beginObject();
        for (LeaseLostException.Reason reason : LeaseLostException.Reason.values()) {
            json.field(reason.name(), s.lost()[reason.ordinal()]);
        }
        json.endObject()
                .name("renewals").beginObject().field("ok", s.renewed()).field("failed", s.renewalsFailed()).endObject()
                .field("permitsHeld", s.permitsHeld())
                .name("rateLimiter").beginObject().field("allowed", s.allowed()).field("rejected", s.rejected())
                .endObject();
        return json.endObject();
    }

    private static void distribution(Json json, GroupStats.Distribution d) {
        json.beginObject().field("count", d.count()).field("p50", d.p50()).field("p75", d.p75())
                .field("p90", d.p90()).field("p95", d.p95()).field("p99", d.p99()).field("max", d.max())
                .endObject();
    }

    private static Publisher<Void> noStats(HttpServerResponse response) {
        return text(response, HttpResponseStatus.NOT_FOUND,
                "no statistics: RedlockMonitor.Builder.stats(lockStats) was not set");
    }

    // == /events ==

    private Publisher<Void> events(HttpServerResponse response) {
        if (eventStreams.incrementAndGet() > MAX_EVENT_STREAMS) {
            eventStreams.decrementAndGet();
            return text(response, HttpResponseStatus.SERVICE_UNAVAILABLE, "too many event streams");
        }
        // Each stream has its own bounded buffer: when this client reads slower than events come (Netty stops
        // asking for more once the socket does not take them), the oldest wait no longer and are dropped. The
        // client's events() is best effort itself, delivered on its own scheduler: lock traffic never waits here.
        Flux<String> events = client.events()
                .onBackpressureBuffer(EVENT_BUFFER, dropped -> {}, BufferOverflowStrategy.DROP_OLDEST)
                .map(MonitorHandler::frame);
        // a comment line now and then: proxies and browsers keep an idle stream open, and a dead client shows
        Flux<String> heartbeats = Flux.interval(heartbeat).onBackpressureDrop().map(tick -> ": heartbeat\n\n");
        Flux<String> frames = Flux.merge(Flux.just("retry: 2000\n: connected\n\n"), events, heartbeats)
                .takeUntilOther(stopped)
                .doFinally(signal -> eventStreams.decrementAndGet());
        return response.sse().sendString(frames, StandardCharsets.UTF_8).then();
    }

    static String frame(LockEvent event) {
        Json json = new Json().beginObject()
                .field("type", event.type().name())
                .field("key", event.key().orElse(null))
                .field("node", event.node().orElse(null))
                .field("tokenHash", event.tokenHash().orElse(null))
                .field("timestamp", event.timestamp().toString())
                .field("timestampMs", event.timestamp().toEpochMilli())
                .field("durationMs", event.duration().toNanos() / 1e6)
                .field("error", event.error().map(e -> Json.safeMessage(e.getMessage() == null
                        ? e.getClass().getSimpleName() : e.getMessage())).orElse(null))
                .endObject();
        return "data: " + json + "\n\n";
    }

    // == Helpers ==

    private boolean authorized(HttpServerRequest request, QueryStringDecoder uri) {
        byte[] expected = tokenDigest;
        if (expected == null) {
            return true;
        }
        String given = null;
        String header = request.requestHeaders().get(HttpHeaderNames.AUTHORIZATION);
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            given = header.substring(7).trim();
        } else {
            // EventSource cannot send headers: the page passes its token in the query instead
            List<String> tokens = uri.parameters().get("token");
            if (tokens != null && !tokens.isEmpty()) {
                given = tokens.get(0);
            }
        }
        // digests of equal length compared in constant time: neither the token's content nor length leaks
        return given != null && MessageDigest.isEqual(expected, sha256(given));
    }

    static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            // every Java platform has SHA-256
            throw new IllegalStateException(e);
        }
    }

    private static String query(String uri) {
        int q = uri.indexOf('?');
        return q < 0 ? "" : uri.substring(q);
    }

    /**
     * Sends 200 and a document built on {@link Schedulers#boundedElastic()}. The send itself is subscribed here, on
     * the event loop, with the body arriving later: a response sent from another thread could leave the next
     * request of a kept-alive connection unanswered.
     */
    private static Publisher<Void> sendJson(HttpServerResponse response, Supplier<Json> json) {
        Mono<String> body = Mono.fromSupplier(() -> json.get().toString()).subscribeOn(Schedulers.boundedElastic());
        return response.status(HttpResponseStatus.OK).header(HttpHeaderNames.CONTENT_TYPE, JSON)
                .sendString(body, StandardCharsets.UTF_8).then();
    }

    private static Publisher<Void> json(HttpServerResponse response, HttpResponseStatus status, Json json) {
        return response.status(status).header(HttpHeaderNames.CONTENT_TYPE, JSON)
                .sendString(Mono.just(json.toString()), StandardCharsets.UTF_8).then();
    }

    private static Publisher<Void> text(HttpServerResponse response, HttpResponseStatus status, String message) {
        return response.status(status).header(HttpHeaderNames.CONTENT_TYPE, TEXT)
                .sendString(Mono.just(message + "\n"), StandardCharsets.UTF_8).then();
    }
}
