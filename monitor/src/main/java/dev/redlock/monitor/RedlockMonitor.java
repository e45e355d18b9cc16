package dev.redlock.monitor;

import dev.redlock.ReactiveRedLock;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.netty.http.server.HttpServer;

/**
 * A monitoring server for one client, configured by {@link #builder(ReactiveRedLock)} and started by
 * {@link #start()}. It answers, over HTTP/1.1:
 *
 * <ul>
 *   <li>{@code GET /health}: JSON, one entry per node ({@code host:port}, never a URI or credentials; up, counts
 *       toward a quorum, ping latency, memory, breaker, restart-guard hold-out); 200 while at least a quorum of
 *       nodes counts, 503 below;
 *   <li>{@code GET /stats} and {@code GET /stats/{group}}: JSON statistics of the {@link LockStats} given to
 *       {@link Builder#stats}, all groups or one (404 for an unknown group, 400 for a name that no group can have);
 *   <li>{@code GET /events}: server-sent events, one JSON {@code data:} line per lease or node event of
 *       {@link ReactiveRedLock#events()}, and a comment line as heartbeat; each stream buffers at most 256 events
 *       for a slow reader and then drops the oldest, so no client slows the locks or grows memory; at most 64
 *       streams at once, more get 503;
 *   <li>{@code GET /metrics}: the Prometheus scrape of the registry given to {@link Builder#prometheus} (404
 *       without one);
 *   <li>{@code GET /dashboard}: a live page over the above, served from the jar.
 * </ul>
 *
 * <p>Anything else answers 404, another method than GET 405, always with a short text. With a
 * {@linkplain Builder#bearerToken bearer token}, every path answers 401 without it.
 *
 * <p>Immutable; one instance may start several servers.
 *
 * @since 0.1.0
 */
public final class RedlockMonitor {

    /** The default address: loopback, so that nothing outside the machine sees the server unless asked to. */
    public static final String DEFAULT_HOST = "127.0.0.1";

    /** The default port (the port Prometheus exporters commonly use); 0 asks for any free port. */
    public static final int DEFAULT_PORT = 9464;

    static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(15);
    private static final Duration IDLE_TIMEOUT = Duration.ofMinutes(1);
    private static final String DASHBOARD = "dashboard.html";

    private final ReactiveRedLock client;
    private final @Nullable LockStats stats;
    private final @Nullable PrometheusMeterRegistry registry;
    private final String host;
    private final int port;
    private final @Nullable String bearerToken;
    private final Duration heartbeat;

    private RedlockMonitor(Builder builder) {
        this.client = builder.client;
        this.stats = builder.stats;
        this.registry = builder.registry;
        this.host = builder.host;
        this.port = builder.port;
        this.bearerToken = builder.bearerToken;
        this.heartbeat = builder.heartbeat;
    }

    /**
     * Starts configuring a monitor of {@code client}.
     *
     * @param client the client whose nodes, leases and events the server shows
     * @return a new builder with the defaults: {@value #DEFAULT_HOST}, port {@value #DEFAULT_PORT}, no statistics,
     *     no Prometheus registry, no token
     * @throws IllegalArgumentException for a null client
     */
    public static Builder builder(ReactiveRedLock client) {
        if (client == null) {
            throw new IllegalArgumentException("client must not be null");
        }
        return new Builder(client);
    }

    /**
     * Starts a server. Lazy: each subscription binds a new server.
     *
     * <ul>
     *   <li>success: emits the running server once it listens;
     *   <li>error: the address cannot be bound (port in use, unknown host, no permission), or the page cannot be
     *       read from the jar;
     *   <li>cancel before it emitted: a server bound meanwhile is stopped.
     * </ul>
     *
     * @return a lazy {@code Mono} of the running server
     */
    public Mono<MonitorServer> start() {
        return Mono.fromCallable(RedlockMonitor::dashboardPage)
                // reading a resource from the jar is file I/O: not on the caller's (perhaps event-loop) thread
                .subscribeOn(Schedulers.boundedElastic())
                .flatMap(page -> {
                    Sinks.Empty<Void> stopped = Sinks.empty();
                    MonitorHandler handler = new MonitorHandler(client, stats, registry, bearerToken, page,
                            heartbeat, stopped.asMono());
                    return HttpServer.create()
                            .host(host)
                            .port(port)
                            // a kept-alive connection that sends no next request is closed after a minute, so
                            // idle clients cannot hold connections open for good
                            .idleTimeout(IDLE_TIMEOUT)
                            .handle(handler)
                            .bind()
                            .map(server -> new MonitorServer(server, host, stopped));
                });
    }

    private static byte[] dashboardPage() {
        try (InputStream in = RedlockMonitor.class.getResourceAsStream(DASHBOARD)) {
            if (in == null) {
                throw new IllegalStateException("the jar has no " + DASHBOARD + " next to " + RedlockMonitor.class);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String toString() {
        return "RedlockMonitor{" + host + ':' + port + (stats == null ? "" : ", stats")
                + (registry == null ? "" : ", prometheus") + (bearerToken == null ? "" : ", bearer token") + '}';
    }

    /**
     * Configures a {@link RedlockMonitor}. Each setter checks its value at once. Not thread-safe; {@link #build()}
     * copies what it holds, so the builder may be changed and built again.
     *
     * @since 0.1.0
     */
    public static final class Builder {

        private final ReactiveRedLock client;
        private @Nullable LockStats stats;
        private @Nullable PrometheusMeterRegistry registry;
        private String host = DEFAULT_HOST;
        private int port = DEFAULT_PORT;
        private @Nullable String bearerToken;
        private Duration heartbeat = DEFAULT_HEARTBEAT;

        private Builder(ReactiveRedLock client) {
            this.client = client;
        }

        /**
         * The statistics {@code /stats} and the dashboard show: the same instance the client records into
         * ({@code RedLockBuilder.metricsRecorder}). Without it, {@code /stats} answers 404.
         *
         * @param stats the statistics
         * @return this builder
         * @throws IllegalArgumentException for null
         */
        public Builder stats(LockStats stats) {
            if (stats == null) {
                throw new IllegalArgumentException("stats must not be null");
            }
            this.stats = stats;
            return this;
        }

        /**
         * The registry {@code /metrics} scrapes. Without it, {@code /metrics} answers 404.
         *
         * @param registry the Prometheus registry
         * @return this builder
         * @throws IllegalArgumentException for null
         */
        public Builder prometheus(PrometheusMeterRegistry registry) {
            if (registry == null) {
                throw new IllegalArgumentException("prometheus registry must not be null");
            }
            this.registry = registry;
            return this;
        }

        /**
         * The address to listen on (default {@value #DEFAULT_HOST}, loopback only). Another address, such as
         * {@code 0.0.0.0}, shows the server to the network: set a {@linkplain #bearerToken bearer token} then. The
         * name is resolved when the server starts.
         *
         * @param host an IP address or a host name
         * @return this builder
         * @throws IllegalArgumentException for null, blank, or a value with whitespace
         */
        public Builder host(String host) {
            if (host == null || host.isBlank() || host.chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException("host must be an address or a host name without whitespace: '"
                        + host + "'");
            }
            this.host = host;
            return this;
        }

        /**
         * The port to listen on (default {@value #DEFAULT_PORT}); 0 takes any free port, which
         * {@link MonitorServer#port()} tells.
         *
         * @param port 0 to 65535
         * @return this builder
         * @throws IllegalArgumentException for a value out of range
         */
        public Builder port(int port) {
            if (port < 0 || port > 65_535) {
                throw new IllegalArgumentException("port must be between 0 and 65535: " + port);
            }
            this.port = port;
            return this;
        }

        /**
         * Requires this token on every request: an {@code Authorization: Bearer <token>} header, or (for the
         * dashboard's event stream, since browsers' {@code EventSource} cannot send headers) a {@code token} query
         * parameter; other requests get 401. Compared in constant time. Send it only over loopback or a TLS
         * terminating proxy: the server speaks plain HTTP.
         *
         * @param token the token: printable ASCII without spaces, at least 16 characters
         * @return this builder
         * @throws IllegalArgumentException for null, a shorter token, or other characters (the message does not
         *     repeat the token)
         */
        public Builder bearerToken(String token) {
            if (token == null || token.length() < 16 || !token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                throw new IllegalArgumentException("bearerToken must be at least 16 printable ASCII characters "
                        + "without spaces (" + (token == null ? "null" : token.length() + " characters given") + ")");
            }
            this.bearerToken = token;
            return this;
        }

        /** How often {@code /events} sends a heartbeat comment (tests shorten it). */
        Builder heartbeat(Duration heartbeat) {
            if (heartbeat == null || heartbeat.isNegative() || heartbeat.isZero()) {
                throw new IllegalArgumentException("heartbeat must be positive: " + heartbeat);
            }
            this.heartbeat = heartbeat;
            return this;
        }

        /**
         * The monitor, configured as this builder is now.
         *
         * @return a new monitor; nothing runs until {@link RedlockMonitor#start()} is subscribed
         */
        public RedlockMonitor build() {
            return new RedlockMonitor(this);
        }
    }
}
