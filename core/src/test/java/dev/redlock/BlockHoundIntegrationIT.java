package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServer;
import dev.redlock.testkit.RedisServers;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.DefaultEventLoopGroupProvider;
import io.lettuce.core.resource.Transports;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.SingletonDnsServerAddressStreamProvider;
import io.netty.util.concurrent.EventExecutorGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The drivers' blocking calls that {@code RedlockBlockHoundIntegration} allows, on real nodes under BlockHound (which
 * blockhound-junit-platform installs in every test JVM). A blocking call on an event loop mostly surfaces as a failed
 * listener or a log line, not as the failure of an operation, so each test asserts on what
 * {@link BlockingCallRecorder} saw.
 */
class BlockHoundIntegrationIT {

    private static final Duration WAIT = Duration.ofSeconds(10);

    /** A node timeout that connections on a loaded 2-core machine do not exceed. */
    private static final LockOptions PATIENT = LockOptions.builder().nodeTimeout(Duration.ofSeconds(1)).build();

    @BeforeEach
    void forgetEarlierReports() {
        BlockingCallRecorder.clear();
    }

    /**
     * A node given as {@code localhost}: Netty's DNS resolver answers it from the hosts file (or as the loopback
     * address, RFC 6761), without a query.
     */
    @Test
    void nodesGivenByHostNameLockWithoutBlocking(@RedisNodes(3) RedisServers servers) {
        String[] uris = new String[servers.size()];
        for (int i = 0; i < uris.length; i++) {
            uris[i] = "redis://localhost:" + servers.get(i).port();
        }
        // the test kit started the nodes moments ago: no lease can exist that they could have forgotten
        try (ReactiveRedLock lock = ReactiveRedLock.builder().nodes(uris).restartGuard(RestartGuard.RUN_ID)
                .defaults(PATIENT).build()) {
            Lease lease = lock.acquire("by-name").block(WAIT);
            assertThat(lock.isLocked("by-name").block(WAIT)).isTrue();
            lease.release().block(WAIT);
        }
        BlockingCallRecorder.assertNoneReported();
    }

    /**
     * A host name that is not in the hosts file is resolved by Netty's DNS resolver on the connection's event loop
     * (Lettuce's default resolver group is the same {@link DnsAddressResolverGroup}); each query draws its id from a
     * {@code SecureRandom}, which reads {@code /dev/urandom}. The library's clients use the system's name servers,
     * so this test builds a Lettuce client as {@code LettuceNode} does but with a name server on 127.0.0.1.
     */
    @Test
    void aHostNameResolvedThroughDnsConnectsWithoutBlocking(@RedisNodes(1) RedisServers servers) throws Exception {
        try (LoopbackDns dns = new LoopbackDns()) {
            DnsAddressResolverGroup resolvers = new DnsAddressResolverGroup(new DnsNameResolverBuilder()
                    .datagramChannelType(Transports.datagramChannelClass())
                    .socketChannelType(Transports.socketChannelClass().asSubclass(SocketChannel.class))
                    .nameServerProvider(new SingletonDnsServerAddressStreamProvider(dns.address()))
                    .hostsFileEntriesResolver((host, types) -> null) // every name goes to the name server
                    .searchDomains(List.of())
                    .resolvedAddressTypes(ResolvedAddressTypes.IPV4_ONLY));
            ClientResources resources = DefaultClientResources.builder().addressResolverGroup(resolvers).build();
            RedisClient client = RedisClient.create(resources);
            RedisURI uri = RedisURI.create("node.redlock.test", servers.get(0).port());
            Throwable failure = catchThrowable(() -> {
                // bounded: a resolution failed by a blocking call never completes
                try (StatefulRedisConnection<String, String> connection =
                        client.connectAsync(StringCodec.UTF8, uri).get(5, TimeUnit.SECONDS)) {
                    assertThat(connection.sync().ping()).isEqualTo("PONG");
                }
            });
            shutDown(client, resources);
            resolvers.close();
            BlockingCallRecorder.assertNoneReported();
            assertThat(failure).isNull();
            assertThat(dns.queries()).as("queries the test's name server answered").isPositive();
        }
    }

    /**
     * Closing clients releases each Lettuce client's event loops through the resources' event-loop group provider,
     * from the event loop that completes the connection's close; several of them at once contend for the provider's
     * lock. A real contention is rare, so this checks the whole close path of concurrent closes, and
     * {@link #aClientShutDownOnAnEventLoopWaitsForTheGroupProvidersLockWithoutBlockingErrors} makes the contention
     * happen every time.
     */
    @Test
    void closingSeveralClientsAtOnceDoesNotBlock(@RedisNodes(5) RedisServers servers) throws Exception {
        LockOptions briefWait = LockOptions.builder().nodeTimeout(Duration.ofSeconds(1)).maxWait(Duration.ofMillis(30)).build();
        for (int round = 0; round < 3; round++) {
            List<ReactiveRedLock> clients = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                ReactiveRedLock client = ReactiveRedLock.builder()
                        .restartGuard(RestartGuard.RUN_ID) // nodes the test kit just started
                        .nodes(servers.uris().toArray(String[]::new))
                        .defaults(PATIENT)
                        .build();
                clients.add(client);
            }
            // the first holds the key, so the others wait on the release channel: lock and pub/sub connections open
            Lease held = clients.get(0).acquire("closing").block(WAIT);
            for (ReactiveRedLock waiter : clients.subList(1, clients.size())) {
                waiter.acquire("closing", briefWait).onErrorResume(LockAcquireTimeoutException.class, e -> Mono.empty())
                        .block(WAIT);
            }
            held.release().block(WAIT);
            // two close on threads of their own, two asynchronously, all at once
            CompletableFuture<Void> blocking = CompletableFuture.allOf(
                    CompletableFuture.runAsync(clients.get(0)::close, runnable -> new Thread(runnable).start()),
                    CompletableFuture.runAsync(clients.get(1)::close, runnable -> new Thread(runnable).start()));
            Flux.fromIterable(clients.subList(2, clients.size())).flatMap(ReactiveRedLock::closeAsync).then().block(WAIT);
            blocking.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
        BlockingCallRecorder.assertNoneReported();
    }

    /**
     * A Lettuce client shut down from an event loop (as {@code LettuceNode} does once its connections are closed)
     * while another thread holds the event-loop group provider's lock: the event loop waits for it. The other holder
     * here is an allocation stalled by the test; in the library it is another client of the same resources
     * releasing its event loops at the same moment.
     */
    @Test
    void aClientShutDownOnAnEventLoopWaitsForTheGroupProvidersLockWithoutBlockingErrors(@RedisNodes(1) RedisServers servers)
            throws Exception {
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch letGo = new CountDownLatch(1);
        DefaultEventLoopGroupProvider provider = new DefaultEventLoopGroupProvider(2) {
            @Override
            protected <T extends EventLoopGroup> EventExecutorGroup doCreateEventLoopGroup(
                    Class<T> type, int threads, io.lettuce.core.resource.ThreadFactoryProvider factories) {
                // (named in full: inside this class the simple name is the provider's own nested interface)
                if (type != DefaultEventLoopGroup.class) {
                    return super.doCreateEventLoopGroup(type, threads, factories);
                }
                // called under the provider's lock, on the test's own (blocking) thread
                holding.countDown();
                try {
                    letGo.await(WAIT.toSeconds(), TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return new DefaultEventLoopGroup(1);
            }
        };
        ClientResources resources = DefaultClientResources.builder().eventLoopGroupProvider(provider).build();
        RedisServer server = servers.get(0);
        RedisClient client = RedisClient.create(resources, RedisURI.create(server.host(), server.port()));
        StatefulRedisConnection<String, String> connection = client.connect();
        assertThat(connection.sync().ping()).isEqualTo("PONG");
        // an event loop of the connection's group (one more reference to it, which the provider's shutdown drops)
        EventLoop eventLoop = provider.allocate(Transports.eventLoopGroupClass()).next();
        Thread loop = eventLoop.submit(Thread::currentThread).get(5, TimeUnit.SECONDS);
        connection.close();

        Thread holder = new Thread(() -> provider.allocate(DefaultEventLoopGroup.class), "provider-lock-holder");
        holder.start();
        assertThat(holding.await(5, TimeUnit.SECONDS)).isTrue();
        CompletableFuture<Void> shutdown = CompletableFuture
                .supplyAsync(() -> client.shutdownAsync(0, 2, TimeUnit.SECONDS), eventLoop)
                .thenCompose(future -> future);
        await().atMost(WAIT).until(() -> !BlockingCallRecorder.reported().isEmpty()
                || waitsInside(loop, "io.lettuce.core.resource.DefaultEventLoopGroupProvider"));
        letGo.countDown();
        holder.join(WAIT.toMillis());
        try {
            shutdown.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            // a blocking call reported on the event loop fails the shutdown; the assertion below says which
        }
        BlockingCallRecorder.assertNoneReported();
        assertThat(shutdown).isCompleted().isNotCompletedExceptionally();
        provider.shutdown(0, 2, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS);
        resources.shutdown(0, 2, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS);
    }

    /** Shuts a client and its resources down, waiting a bounded time and ignoring failures (reported otherwise). */
    private static void shutDown(RedisClient client, ClientResources resources) {
        try {
            client.shutdownAsync(0, 1, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS);
            resources.shutdown(0, 1, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            // what matters was asserted, or is asserted after this
        }
    }

    /** Whether {@code thread} is parked with a frame of {@code className} on its stack. */
    private static boolean waitsInside(Thread thread, String className) {
        return thread.getState() == Thread.State.WAITING
                && Arrays.stream(thread.getStackTrace()).anyMatch(frame -> frame.getClassName().equals(className));
    }

    /** A name server on 127.0.0.1 that answers every A query with 127.0.0.1 (Netty's DNS codec). */
    private static final class LoopbackDns implements AutoCloseable {

        private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        private final AtomicInteger queries = new AtomicInteger();
        private final Channel channel;

        LoopbackDns() throws InterruptedException {
            channel = new Bootstrap()
                    .group(group)
                    .channel(NioDatagramChannel.class)
                    .handler(new ChannelInitializer<DatagramChannel>() {
                        @Override
                        protected void initChannel(DatagramChannel ch) {
                            ch.pipeline().addLast(new DatagramDnsQueryDecoder(), new DatagramDnsResponseEncoder(),
                                    new SimpleChannelInboundHandler<DatagramDnsQuery>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) {
                                            queries.incrementAndGet();
                                            ctx.writeAndFlush(answer(query));
                                        }
                                    });
                        }
                    })
                    .bind(InetAddress.getLoopbackAddress(), 0)
                    .sync()
                    .channel();
        }

        private static DatagramDnsResponse answer(DatagramDnsQuery query) {
            DnsQuestion question = query.recordAt(DnsSection.QUESTION);
            DatagramDnsResponse response = new DatagramDnsResponse(query.recipient(), query.sender(), query.id());
            response.setAuthoritativeAnswer(true);
            response.addRecord(DnsSection.QUESTION, new DefaultDnsQuestion(question.name(), question.type()));
            if (question.type() == DnsRecordType.A) {
                response.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(
                        question.name(), DnsRecordType.A, 60, Unpooled.wrappedBuffer(new byte[] {127, 0, 0, 1})));
            }
            return response;
        }

        InetSocketAddress address() {
            return (InetSocketAddress) channel.localAddress();
        }

        int queries() {
            return queries.get();
        }

        @Override
        public void close() {
            channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }
}
