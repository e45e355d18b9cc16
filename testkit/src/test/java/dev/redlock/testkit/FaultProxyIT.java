package dev.redlock.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.redlock.testkit.FaultProxy.Direction;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.event.connection.DisconnectedEvent;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.Disposable;

/** A Lettuce client through {@link FaultProxy} to a real redis-server, with every fault switched while in use. */
@ExtendWith(RedisServersExtension.class)
class FaultProxyIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    /** Generous bound for anything that should happen "soon" on a loaded 2-core machine. */
    private static final Duration SOON = Duration.ofSeconds(15);

    private static ClientResources resources;

    private final Deque<AutoCloseable> cleanUp = new ArrayDeque<>();

    @BeforeAll
    static void startResources() {
        resources = DefaultClientResources.builder()
                .ioThreadPoolSize(2)
                .computationThreadPoolSize(1)
                .reconnectDelay(Delay.constant(Duration.ofMillis(20)))
                .build();
    }

    @AfterAll
    static void stopResources() throws Exception {
        resources.shutdown(0, 2, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void closeInReverseOrder() throws Exception {
        while (!cleanUp.isEmpty()) {
            cleanUp.pop().close();
        }
    }

    @Test
    void forwardsTrafficWithoutFaults(@RedisNodes RedisServers servers) {
        RedisServer node = servers.get(0);
        FaultProxy proxy = proxy(node);
        assertThat(proxy.uri()).isEqualTo("redis://127.0.0.1:" + proxy.port());
        assertThat(proxy.host()).isEqualTo("127.0.0.1");
        assertThat(proxy.port()).isNotEqualTo(node.port());
        assertThat(proxy.bytesForwarded()).isZero();

        StatefulRedisConnection<String, String> connection = connect(proxy);

        assertThat(connection.sync().ping()).isEqualTo("PONG");
        connection.sync().set("k", "through the proxy");
        assertThat(node.admin().get("k")).isEqualTo("through the proxy");
        assertThat(proxy.activeConnections()).isEqualTo(1);
        assertThat(proxy.bytesForwarded()).isPositive();
        assertThat(proxy.bufferedBytes()).isZero();
        assertThat(proxy.toString()).contains(":" + proxy.port() + " -> 127.0.0.1:" + node.port());
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void latencyDelaysEachRoundTripByAtLeastTheDelay(Direction direction, @RedisNodes RedisServers servers) {
        FaultProxy proxy = proxy(servers.get(0));
        StatefulRedisConnection<String, String> connection = connect(proxy);
        connection.sync().ping(); // connected and warm

        proxy.latency(Duration.ofMillis(200), Duration.ZERO, direction);
        long millis = timeMillis(() -> assertThat(connection.sync().ping()).isEqualTo("PONG"));

        assertThat(millis).isGreaterThanOrEqualTo(direction == Direction.BOTH ? 400 : 200);
        assertThat(proxy.toString()).contains("latency");

        proxy.latency(Duration.ZERO, Duration.ZERO, Direction.BOTH);
        assertThat(connection.sync().ping()).isEqualTo("PONG");
        assertThat(proxy.toString()).doesNotContain("latency");
    }

    @Test
    void latencyAppliesToTheChosenDirectionOnly(@RedisNodes RedisServers servers) throws Exception {
        RedisServer node = servers.get(0);
        FaultProxy proxy = proxy(node);
        StatefulRedisConnection<String, String> connection = connect(proxy);
        connection.setTimeout(Duration.ofSeconds(10));
        RedisAsyncCommands<String, String> async = connection.async();
        async.ping().get(10, TimeUnit.SECONDS);

        // upstream: the request itself reaches the node late
        proxy.latency(Duration.ofMillis(2000), Duration.ZERO, Direction.UPSTREAM);
        long start = System.nanoTime();
        RedisFuture<String> up = async.set("k", "up");
        assertThat(node.admin().get("k")).isNull();
        assertThat(up.get(10, TimeUnit.SECONDS)).isEqualTo("OK");
        assertThat(elapsedMillis(start)).isGreaterThanOrEqualTo(2000);

        // downstream: the node has executed the request long before the reply arrives
        proxy.latency(Duration.ZERO, Duration.ZERO, Direction.UPSTREAM)
                .latency(Duration.ofMillis(2000), Duration.ZERO, Direction.DOWNSTREAM);
        start = System.nanoTime();
        RedisFuture<String> down = async.set("k", "down");
        await().atMost(SOON).until(() -> "down".equals(node.admin().get("k")));
        assertThat(down.isDone()).isFalse();
        assertThat(down.get(10, TimeUnit.SECONDS)).isEqualTo("OK");
        assertThat(elapsedMillis(start)).isGreaterThanOrEqualTo(2000);
    }

    @Test
    void jitteredLatencyNeverReordersPipelinedCommands(@RedisNodes RedisServers servers) throws Exception {
        FaultProxy proxy = proxy(servers.get(0));
        StatefulRedisConnection<String, String> connection = connect(proxy);
        connection.setTimeout(Duration.ofSeconds(30));
        connection.sync().ping();
        proxy.latency(Duration.ZERO, Duration.ofMillis(3), Direction.BOTH);

        RedisAsyncCommands<String, String> async = connection.async();
        List<RedisFuture<Long>> replies = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            replies.add(async.incr("counter")); // one write (and one chunk, mostly) per command
        }
        List<Long> values = new ArrayList<>();
        for (RedisFuture<Long> reply : replies) {
            values.add(reply.get(30, TimeUnit.SECONDS));
        }

        assertThat(values).containsExactlyElementsOf(LongStream.rangeClosed(1, 1000).boxed().toList());
        assertThat(servers.get(0).admin().get("counter")).isEqualTo("1000");
    }

    @Test
    void blackholeTimesOutCommandsButKeepsConnectionsOpenUntilHealed(@RedisNodes RedisServers servers)
            throws Exception {
        FaultProxy proxy = proxy(servers.get(0));
        StatefulRedisConnection<String, String> connection = connect(proxy);
        AtomicInteger disconnects = countDisconnects(proxy);
        assertThat(connection.sync().ping()).isEqualTo("PONG");
        connection.setTimeout(Duration.ofMillis(500));
        long forwarded = proxy.bytesForwarded();

        proxy.blackhole(true);

        assertThatThrownBy(() -> connection.sync().ping()).isInstanceOf(RedisCommandTimeoutException.class);
        assertThat(connection.isOpen()).isTrue();
        assertThat(proxy.activeConnections()).isEqualTo(1);
        assertThat(disconnects).hasValue(0);
        assertThat(proxy.bytesForwarded()).isEqualTo(forwarded);
        // a new connection is accepted, but nothing comes back
        try (Socket raw = rawConnect(proxy)) {
            raw.setSoTimeout(300);
            raw.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThatThrownBy(() -> raw.getInputStream().read()).isInstanceOf(SocketTimeoutException.class);
        }

        proxy.heal();

        connection.setTimeout(TIMEOUT);
        await().atMost(SOON).ignoreExceptions().until(() -> "PONG".equals(connection.sync().ping()));
        // the PING lost in the blackhole left a hole in the stream, so the connection was reset and Lettuce
        // reconnected by itself
        assertThat(disconnects.get()).isPositive();
        assertThat(connection.sync().set("after", "heal")).isEqualTo("OK");
        assertThat(servers.get(0).admin().get("after")).isEqualTo("heal");
    }

    @Test
    void liftingADownstreamBlackholeResetsConnectionsThatLostRepliesSoRepliesStayMatched(
            @RedisNodes RedisServers servers) {
        RedisServer node = servers.get(0);
        FaultProxy proxy = proxy(node);
        StatefulRedisConnection<String, String> lost = connect(proxy);
        StatefulRedisConnection<String, String> idle = connect(proxy);
        assertThat(lost.sync().ping()).isEqualTo("PONG");
        assertThat(idle.sync().ping()).isEqualTo("PONG");
        AtomicInteger disconnects = countDisconnects(proxy);
        lost.setTimeout(Duration.ofMillis(500));

        proxy.blackhole(true, Direction.DOWNSTREAM);
        assertThatThrownBy(() -> lost.sync().set("k", "v")).isInstanceOf(RedisCommandTimeoutException.class);
        assertThat(node.admin().get("k")).isEqualTo("v"); // the request went through, only its reply was lost
        proxy.blackhole(false, Direction.DOWNSTREAM);

        lost.setTimeout(TIMEOUT);
        // without the reset, the reply to this GET would be taken for the reply to the timed-out SET, and every
        // later command would time out, one reply behind (tried: all commands then time out)
        await().atMost(SOON).ignoreExceptions().until(() -> "v".equals(lost.sync().get("k")));
        await().atMost(SOON).until(() -> disconnects.get() >= 1);
        assertThat(disconnects).hasValue(1); // only the connection that lost bytes
        assertThat(idle.sync().get("k")).isEqualTo("v");
    }

    @Test
    void resetConnectionsClosesThemWithRstAndClientsReconnect(@RedisNodes RedisServers servers) throws Exception {
        FaultProxy proxy = proxy(servers.get(0));
        StatefulRedisConnection<String, String> connection = connect(proxy);
        assertThat(connection.sync().ping()).isEqualTo("PONG");
        AtomicInteger disconnects = countDisconnects(proxy);
        try (Socket raw = rawConnect(proxy)) {
            assertThat(rawPing(raw)).isEqualTo("+PONG");
            assertThat(proxy.activeConnections()).isEqualTo(2);

            proxy.resetConnections();

            assertThatThrownBy(() -> raw.getInputStream().read())
                    .isInstanceOf(SocketException.class)
                    .hasMessageContaining("reset");
        }
        await().atMost(SOON).until(() -> disconnects.get() >= 1);
        await().atMost(SOON).ignoreExceptions().until(() -> "PONG".equals(connection.sync().ping()));
        await().atMost(SOON).until(() -> proxy.activeConnections() == 1); // Lettuce's new connection
    }

    @Test
    void refusedConnectionsFailToConnectWhileCurrentOnesCarryOn(@RedisNodes RedisServers servers) {
        FaultProxy proxy = proxy(servers.get(0));
        StatefulRedisConnection<String, String> current = connect(proxy);
        assertThat(current.sync().ping()).isEqualTo("PONG");

        proxy.refuseConnections(true);

        RedisClient client = client(proxy);
        assertThatThrownBy(client::connect).isInstanceOf(RedisConnectionException.class);
        assertThat(current.sync().ping()).isEqualTo("PONG");
        assertThat(proxy.activeConnections()).isEqualTo(1);

        proxy.refuseConnections(false);

        StatefulRedisConnection<String, String> fresh = client.connect();
        cleanUp.push(fresh);
        assertThat(fresh.sync().ping()).isEqualTo("PONG");
        assertThat(proxy.activeConnections()).isEqualTo(2);
    }

    @Test
    void pauseBuffersAndDeliversInOrderOnResume(@RedisNodes RedisServers servers) throws Exception {
        RedisServer node = servers.get(0);
        FaultProxy proxy = proxy(node);
        StatefulRedisConnection<String, String> connection = connect(proxy);
        connection.setTimeout(Duration.ofSeconds(30));
        RedisAsyncCommands<String, String> async = connection.async();
        async.ping().get(10, TimeUnit.SECONDS);

        proxy.pause(true);
        List<RedisFuture<?>> replies = List.of(async.set("k", "a"), async.get("k"), async.append("k", "b"),
                async.get("k"), async.set("k", "c"), async.get("k"));
        // every byte of the six commands has reached the proxy and is held there
        long sent = resp("SET", "k", "a") + resp("GET", "k") + resp("APPEND", "k", "b") + resp("GET", "k")
                + resp("SET", "k", "c") + resp("GET", "k");
        await().atMost(SOON).until(() -> proxy.bufferedBytes() == sent);

        assertThat(replies).noneMatch(RedisFuture::isDone);
        assertThat(node.admin().get("k")).isNull(); // held in the proxy, not at the node
        assertThat(proxy.bufferedBytes()).isPositive();

        proxy.pause(false);

        List<Object> values = new ArrayList<>();
        for (RedisFuture<?> reply : replies) {
            values.add(reply.get(10, TimeUnit.SECONDS));
        }
        assertThat(values).containsExactly("OK", "a", 2L, "ab", "OK", "c");
        assertThat(proxy.bufferedBytes()).isZero();
    }

    @Test
    void bytesHeldByAPauseAreDeliveredOnResumeEvenAfterTheClientResetItsConnection(
            @RedisNodes RedisServers servers) throws Exception {
        RedisServer node = servers.get(0);
        FaultProxy proxy = proxy(node);
        long before = clients(node);
        Socket raw = rawConnect(proxy);
        assertThat(rawPing(raw)).isEqualTo("+PONG");
        assertThat(clients(node)).isEqualTo(before + 1);

        proxy.pause(true);
        byte[] late = "SET k late\r\n".getBytes(StandardCharsets.US_ASCII);
        raw.getOutputStream().write(late);
        await().atMost(SOON).until(() -> proxy.bufferedBytes() == late.length); // held by the proxy
        raw.setSoLinger(true, 0);
        raw.close(); // RST, as a client that gives up on a stale connection closes it
        await().atMost(SOON).until(() -> proxy.activeConnections() == 0);
        assertThat(node.admin().get("k")).isNull(); // held in the proxy, not at the node

        proxy.pause(false);

        // like packets a stalled path still carries: delivered after the client's reset, then the node side closes
        await().atMost(SOON).until(() -> "late".equals(node.admin().get("k")));
        await().atMost(SOON).until(() -> clients(node) == before);
        assertThat(proxy.bufferedBytes()).isZero();
    }

    /** The size of a command as a client sends it: a RESP array of bulk strings. */
    private static long resp(String... args) {
        long size = ("*" + args.length + "\r\n").length();
        for (String arg : args) {
            int bytes = arg.getBytes(StandardCharsets.UTF_8).length;
            size += ("$" + bytes + "\r\n").length() + bytes + 2;
        }
        return size;
    }

    /** Connections the node counts ({@code CLIENT LIST}, the admin connection included). */
    private static long clients(RedisServer node) {
        return node.admin().clientList().lines().filter(l -> !l.isBlank()).count();
    }

    @Test
    void pausedConnectionBuffersAtMostAboutOneMebibyteThenPushesBack(@RedisNodes RedisServers servers)
            throws Exception {
        RedisServer node = servers.get(0);
        FaultProxy proxy = proxy(node);
        int size = 8 << 20;
        byte[] value = new byte[size];
        Arrays.fill(value, (byte) 'x');
        byte[] header = ("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$" + size + "\r\n").getBytes(StandardCharsets.US_ASCII);

        try (Socket raw = rawConnect(proxy)) {
            proxy.pause(true);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = raw.getOutputStream();
                    out.write(header);
                    out.write(value);
                    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });

            await().atMost(SOON).until(() -> proxy.bufferedBytes() >= FaultProxy.MAX_PENDING_BYTES / 2);
            // the bound must hold while the writer keeps pushing: watched for half a second (the window is the test)
            AtomicLong max = new AtomicLong();
            await().during(Duration.ofMillis(500)).atMost(SOON).until(() ->
                    max.accumulateAndGet(proxy.bufferedBytes(), Math::max) <= 2L * FaultProxy.MAX_PENDING_BYTES);
            System.out.printf("paused proxy held at most %d bytes of an 8 MiB request%n", max.get());
            assertThat(node.admin().exists("big")).isZero();

            proxy.pause(false);

            writer.get(SOON.toSeconds(), TimeUnit.SECONDS);
            raw.setSoTimeout((int) SOON.toMillis());
            assertThat(readLine(raw.getInputStream())).isEqualTo("+OK");
        }
        assertThat(node.admin().strlen("big")).isEqualTo(size);
        node.admin().del("big");
    }

    @Test
    void killingTheTargetClosesConnectionsAndTheProxySurvivesItsRestart(@RedisNodes RedisServers servers)
            throws Exception {
        RedisServer node = servers.get(0);
        FaultProxy proxy = proxy(node);
        StatefulRedisConnection<String, String> connection = connect(proxy);
        assertThat(connection.sync().ping()).isEqualTo("PONG");
        AtomicInteger disconnects = countDisconnects(proxy);

        try (Socket raw = rawConnect(proxy)) {
            assertThat(rawPing(raw)).isEqualTo("+PONG");
            node.kill();
            raw.setSoTimeout((int) SOON.toMillis());
            int read;
            try {
                read = raw.getInputStream().read();
            } catch (SocketException e) {
                read = -1; // reset is fine too
            }
            assertThat(read).isEqualTo(-1);
        }
        await().atMost(SOON).until(() -> disconnects.get() >= 1);
        RedisClient client = client(proxy);
        assertThatThrownBy(client::connect).isInstanceOf(RedisConnectionException.class);
        await().atMost(SOON).until(() -> proxy.activeConnections() == 0);

        node.restart();

        await().atMost(SOON).ignoreExceptions().until(() -> "PONG".equals(connection.sync().ping()));
        StatefulRedisConnection<String, String> fresh = client.connect();
        cleanUp.push(fresh);
        assertThat(fresh.sync().ping()).isEqualTo("PONG");
    }

    @Test
    void closeFreesThePortAndClosesConnections(@RedisNodes RedisServers servers) throws Exception {
        FaultProxy proxy = FaultProxy.inFrontOf(servers.get(0));
        int port = proxy.port();
        RedisClient client = client(proxy);
        StatefulRedisConnection<String, String> connection = client.connect();
        assertThat(connection.sync().ping()).isEqualTo("PONG");
        Socket raw = rawConnect(proxy);
        cleanUp.push(raw);
        assertThat(rawPing(raw)).isEqualTo("+PONG");
        proxy.pause(true).latency(Duration.ofSeconds(1), Duration.ZERO, Direction.BOTH);
        RedisFuture<String> pending = connection.async().ping();
        raw.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII)); // held by the pause

        proxy.close();

        // Observed on the sockets themselves, not through Lettuce's event bus: that bus is best effort (it drops
        // events under load), which once made this test wait in vain for a DisconnectedEvent.
        assertThat(proxy.activeConnections()).isZero();
        int read;
        try {
            read = raw.getInputStream().read(); // rawPing set a read timeout of SOON
        } catch (SocketException e) {
            read = -1; // a reset is a close too
        }
        assertThat(read).as("the held PING is dropped and the connection closed").isEqualTo(-1);
        await().atMost(SOON).until(() -> !connection.isOpen());
        connection.close();
        client.shutdown(Duration.ZERO, TIMEOUT); // no reconnect attempts into the socket bound below
        await().atMost(SOON).until(pending::isDone);
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress("127.0.0.1", port));
        }
        proxy.close(); // idempotent
        proxy.heal(); // no-op once closed
        assertThatThrownBy(() -> proxy.blackhole(true))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        assertThat(proxy.toString()).contains("closed");
        assertThat(proxy.isTerminated()).isTrue();
    }

    @Test
    void onlyLoopbackIsListenedOn(@RedisNodes RedisServers servers) throws Exception {
        FaultProxy proxy = proxy(servers.get(0));
        try (Socket raw = rawConnect(proxy)) {
            assertThat(raw.getRemoteSocketAddress()).isEqualTo(new InetSocketAddress("127.0.0.1", proxy.port()));
            assertThat(rawPing(raw)).isEqualTo("+PONG");
        }
        java.net.InetAddress other = nonLoopbackAddress();
        if (other != null) {
            assertThatThrownBy(() -> {
                try (Socket socket = new Socket()) {
                    socket.connect(new InetSocketAddress(other, proxy.port()), 2000);
                }
            }).isInstanceOf(IOException.class);
        }
    }

    @Test
    void oneProxyPerNodeInNodeOrder(@RedisNodes(2) RedisServers servers) {
        FaultProxies proxies = FaultProxies.inFrontOf(servers);
        cleanUp.push(proxies);
        assertThat(proxies.size()).isEqualTo(2);
        assertThat(proxies.uris()).hasSize(2).doesNotHaveDuplicates().doesNotContainAnyElementsOf(servers.uris())
                .allMatch(uri -> uri.matches("redis://127\\.0\\.0\\.1:\\d+"));
        assertThat(proxies.list()).containsExactly(proxies.get(0), proxies.get(1));
        assertThatThrownBy(() -> proxies.get(2)).isInstanceOf(IndexOutOfBoundsException.class);

        List<StatefulRedisConnection<String, String>> connections = new ArrayList<>();
        for (FaultProxy proxy : proxies) {
            connections.add(connect(proxy));
        }
        for (int i = 0; i < 2; i++) {
            connections.get(i).sync().set("node", "via proxy " + i);
            assertThat(servers.get(i).admin().get("node")).isEqualTo("via proxy " + i);
        }

        proxies.get(1).pause(true);
        assertThat(connections.get(0).sync().ping()).isEqualTo("PONG"); // the other node is unaffected
        proxies.healAll();
        assertThat(connections.get(1).sync().ping()).isEqualTo("PONG");
    }

    // ---- helpers ----

    private FaultProxy proxy(RedisServer node) {
        FaultProxy proxy = FaultProxy.inFrontOf(node);
        cleanUp.push(proxy);
        return proxy;
    }

    private RedisClient client(FaultProxy proxy) {
        RedisClient client = RedisClient.create(resources, RedisURI.builder()
                .withHost(proxy.host()).withPort(proxy.port()).withTimeout(TIMEOUT).build());
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofSeconds(5)).build())
                .timeoutOptions(TimeoutOptions.enabled()) // the connection's timeout, which setTimeout changes
                .build());
        cleanUp.push(() -> client.shutdown(Duration.ZERO, TIMEOUT));
        return client;
    }

    private StatefulRedisConnection<String, String> connect(FaultProxy proxy) {
        StatefulRedisConnection<String, String> connection = client(proxy).connect();
        cleanUp.push(connection);
        return connection;
    }

    /** Counts Lettuce disconnects from {@code proxy} from now on. */
    private AtomicInteger countDisconnects(FaultProxy proxy) {
        AtomicInteger count = new AtomicInteger();
        Disposable subscription = resources.eventBus().get()
                .filter(event -> event instanceof DisconnectedEvent disconnected
                        && disconnected.remoteAddress() instanceof InetSocketAddress address
                        && address.getPort() == proxy.port())
                .subscribe(event -> count.incrementAndGet());
        cleanUp.push(subscription::dispose);
        return count;
    }

    private static Socket rawConnect(FaultProxy proxy) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress(proxy.host(), proxy.port()), 5000);
        return socket;
    }

    private static String rawPing(Socket socket) throws IOException {
        socket.setSoTimeout((int) SOON.toMillis());
        socket.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
        return readLine(socket.getInputStream());
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }

    private static long timeMillis(Runnable action) {
        long start = System.nanoTime();
        action.run();
        return elapsedMillis(start);
    }

    private static long elapsedMillis(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    private static java.net.InetAddress nonLoopbackAddress() throws SocketException {
        var interfaces = java.net.NetworkInterface.getNetworkInterfaces();
        while (interfaces.hasMoreElements()) {
            var addresses = interfaces.nextElement().getInetAddresses();
            while (addresses.hasMoreElements()) {
                java.net.InetAddress address = addresses.nextElement();
                if (!address.isLoopbackAddress() && address instanceof java.net.Inet4Address) {
                    return address;
                }
            }
        }
        return null;
    }
}
