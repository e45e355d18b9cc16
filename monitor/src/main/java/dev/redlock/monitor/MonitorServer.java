package dev.redlock.monitor;

import java.net.URI;
import java.time.Duration;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.DisposableServer;

/**
 * A running monitoring server, from {@link RedlockMonitor#start()}. Stop it with {@link #stop()} (or
 * {@link #close()}); stopping it leaves the client alone.
 *
 * @since 0.1.0
 */
public final class MonitorServer implements AutoCloseable {

    private final DisposableServer server;
    private final String host;
    private final Sinks.Empty<Void> stopped;

    MonitorServer(DisposableServer server, String host, Sinks.Empty<Void> stopped) {
        this.server = server;
        this.host = host;
        this.stopped = stopped;
    }

    /**
     * The port the server listens on: the one asked for, or the one picked for port 0.
     *
     * @return the port
     */
    public int port() {
        return server.port();
    }

    /**
     * The address the server listens on, as given to {@link RedlockMonitor.Builder#host(String)}.
     *
     * @return the host
     */
    public String host() {
        return host;
    }

    /**
     * The server's base URL, for example {@code http://127.0.0.1:9464}.
     *
     * @return the URL, without a trailing slash
     */
    public URI url() {
        String h = host.indexOf(':') >= 0 && !host.startsWith("[") ? '[' + host + ']' : host;
        return URI.create("http://" + h + ':' + port());
    }

    /**
     * The dashboard page's URL.
     *
     * @return {@link #url()} with {@code /dashboard}
     */
    public URI dashboardUrl() {
        return URI.create(url() + "/dashboard");
    }

    /**
     * Stops the server: ends every {@code /events} stream and stops listening. Idempotent.
     *
     * @return a lazy {@code Mono} that completes once the server no longer listens; cancelling it only stops the
     *     wait
     */
    public Mono<Void> stop() {
        return Mono.defer(() -> {
            stopped.tryEmitEmpty();
            server.dispose();
            return server.onDispose();
        });
    }

    /**
     * Blocking {@link #stop()}, for at most 10 s; call it from a thread that may block, never an event loop.
     */
    @Override
    public void close() {
        stop().block(Duration.ofSeconds(10));
    }

    @Override
    public String toString() {
        return "MonitorServer{" + url() + '}';
    }
}
