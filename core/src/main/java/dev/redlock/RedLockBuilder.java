package dev.redlock;

import dev.redlock.internal.Checks;
import dev.redlock.internal.Tokens;
import dev.redlock.internal.engine.Engine;
import dev.redlock.internal.engine.EngineConfig;
import dev.redlock.internal.lock.LockClient;
import dev.redlock.internal.node.NodeFactory;
import dev.redlock.metrics.LockMetricsRecorder;
import io.lettuce.core.SslOptions;
import io.lettuce.core.resource.ClientResources;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Builds a {@link ReactiveRedLock}. Each setter checks its value at once ({@link IllegalArgumentException} naming
 * the value); {@link #build()} checks the combination. Building opens no connection: nodes are connected on first
 * use. Not thread-safe.
 *
 * @since 0.1.0
 */
public final class RedLockBuilder {

    /** Default key prefix: lock keys are {@code <prefix>{<key>}} (a Redis Cluster hash tag around the key). */
    public static final String DEFAULT_KEY_PREFIX = "lock:";
    /** Default maximum lease time, which is also how long the restart guard holds out a restarted node. */
    public static final Duration DEFAULT_MAX_LEASE_TIME = Duration.ofSeconds(60);
    /** Default bound on opening and verifying a node connection. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(1);
    /** Default period of the health checks (a ping per node). */
    public static final Duration DEFAULT_HEALTH_CHECK_INTERVAL = Duration.ofSeconds(1);

    private final List<RedisNode> nodes = new ArrayList<>();
    private LockOptions defaults = LockOptions.defaults();
    private String keyPrefix = DEFAULT_KEY_PREFIX;
    private Scheduler scheduler = Schedulers.parallel();
    private Scheduler eventScheduler = Schedulers.boundedElastic();
    private RestartGuard restartGuard = RestartGuard.STRICT;
    private Duration maxLeaseTime = DEFAULT_MAX_LEASE_TIME;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private @Nullable NodeFactory nodeFactory;
    private BreakerOptions breaker = BreakerOptions.defaults();
    private @Nullable ClientResources clientResources;
    private LockMetricsRecorder metricsRecorder = LockMetricsRecorder.NOOP;
    private Duration healthCheckInterval = DEFAULT_HEALTH_CHECK_INTERVAL;
    private @Nullable SslOptions sslOptions;
    private Function<String, String> adaptiveLeaseGroups = Function.identity();

    RedLockBuilder() {}

    /**
     * Adds nodes by URI ({@code redis://[user:password@]host:port}, {@code rediss://...} for TLS).
     *
     * @param uris the node URIs, each as {@link RedisNode#of(String)} reads it
     * @return this builder
     * @throws IllegalArgumentException for a null array or a bad URI (see {@link RedisNode#of(String)})
     */
    public RedLockBuilder nodes(String... uris) {
        Checks.notNull(uris, "nodes");
        for (String uri : uris) {
            node(RedisNode.of(uri));
        }
        return this;
    }

    /**
     * Adds nodes.
     *
     * @param nodes the nodes, in order
     * @return this builder
     * @throws IllegalArgumentException for a null list or a null node
     */
    public RedLockBuilder nodes(List<RedisNode> nodes) {
        Checks.notNull(nodes, "nodes");
        nodes.forEach(this::node);
        return this;
    }

    /**
     * Adds one node.
     *
     * @param node the node
     * @return this builder
     * @throws IllegalArgumentException for null
     */
    public RedLockBuilder node(RedisNode node) {
        this.nodes.add(Checks.notNull(node, "node"));
        return this;
    }

    /**
     * The options used when an operation is called without options (default {@link LockOptions#defaults()}).
     *
     * @param defaults the default options; {@link #build()} checks their lease time against the maximum lease time
     * @return this builder
     * @throws IllegalArgumentException for null
     */
    public RedLockBuilder defaults(LockOptions defaults) {
        this.defaults = Checks.notNull(defaults, "defaults");
        return this;
    }

    /**
     * The prefix of every key (default {@value #DEFAULT_KEY_PREFIX}); may be empty, must not contain control
     * characters and must be well-formed UTF-16 (an unpaired surrogate would make two prefixes one).
     *
     * @param keyPrefix the prefix
     * @return this builder
     * @throws IllegalArgumentException for null, control characters or an unpaired surrogate
     */
    public RedLockBuilder keyPrefix(String keyPrefix) {
        Checks.notNull(keyPrefix, "keyPrefix");
        Checks.wellFormed(keyPrefix, "keyPrefix");
        for (int i = 0; i < keyPrefix.length(); i++) {
            if (Character.isISOControl(keyPrefix.charAt(i))) {
                throw new IllegalArgumentException("keyPrefix must not contain control characters, got '" + keyPrefix + "'");
            }
        }
        this.keyPrefix = keyPrefix;
        return this;
    }

    /**
     * The scheduler for every timer (node timeouts, backoff, watchdog, deadlines) and the clock: its
     * {@code now(NANOSECONDS)} must be monotonic, as it is for Reactor's schedulers ({@code System.nanoTime()}) and
     * for {@code VirtualTimeScheduler} in tests. Default {@code Schedulers.parallel()}; not disposed by the client.
     *
     * @param scheduler the scheduler
     * @return this builder
     * @throws IllegalArgumentException for null
     */
    public RedLockBuilder scheduler(Scheduler scheduler) {
        this.scheduler = Checks.notNull(scheduler, "scheduler");
        return this;
    }

    /**
     * Where {@link ReactiveRedLock#events()} subscribers receive events (default {@code Schedulers.boundedElastic()},
     * so a subscriber may block). Events are never delivered on the threads that run lock operations: a slow
     * subscriber delays only itself, and misses events once its buffer of 256 is full. Not disposed by the client.
     *
     * @param eventScheduler the scheduler events are delivered on
     * @return this builder
     * @throws IllegalArgumentException for null
     */
    public RedLockBuilder eventScheduler(Scheduler eventScheduler) {
        this.eventScheduler = Checks.notNull(eventScheduler, "eventScheduler");
        return this;
    }

    /**
     * The restart guard (default {@link RestartGuard#STRICT}: a node younger than the maximum lease time does not
     * count, so a cluster started moments ago grants no lease until it is {@code maxLeaseTime} old; see
     * {@link RestartGuard} for the other modes and what each is safe for).
     *
     * @param restartGuard the mode
     * @return this builder
     * @throws IllegalArgumentException for null
     */
    public RedLockBuilder restartGuard(RestartGuard restartGuard) {
        this.restartGuard = Checks.notNull(restartGuard, "restartGuard");
        return this;
    }

    /**
     * The longest lease time any operation may ask for (default 60 s). The restart guard holds a restarted node out
     * for this long, so no key it may have forgotten can still be part of a valid lease. Give every client of a key
     * space (the same nodes and key prefix) the same value: each records it on the nodes
     * ({@code <prefix>max-lease-ms}), and a client that finds a longer one there holds nodes out for that longer time
     * (and logs a warning).
     *
     * @param maxLeaseTime the maximum lease time: positive, whole milliseconds, at most a day
     * @return this builder
     * @throws IllegalArgumentException for null, zero, negative, fractional-millisecond or too long
     */
    public RedLockBuilder maxLeaseTime(Duration maxLeaseTime) {
        this.maxLeaseTime = Checks.positiveMillis(maxLeaseTime, "maxLeaseTime");
        return this;
    }

    /**
     * Bound on opening and verifying one node connection (default 1 s).
     *
     * @param connectTimeout the timeout: positive, whole milliseconds, at most a day
     * @return this builder
     * @throws IllegalArgumentException for null, zero, negative, fractional-millisecond or too long
     */
    public RedLockBuilder connectTimeout(Duration connectTimeout) {
        this.connectTimeout = Checks.positiveMillis(connectTimeout, "connectTimeout");
        return this;
    }

    /**
     * The per-node circuit breakers (default {@link BreakerOptions#defaults()}; {@link BreakerOptions#disabled()}
     * turns them off). An open breaker makes its node fail at once in acquires, extensions and queries while the other
     * nodes can form a quorum; releases always go out. Breakers read the client's scheduler clock.
     *
     * @param breaker the breaker options
     * @return this builder
     * @throws IllegalArgumentException for null
     */
    public RedLockBuilder breaker(BreakerOptions breaker) {
        this.breaker = Checks.notNull(breaker, "breaker");
        return this;
    }

    /**
     * Lettuce {@link ClientResources} to share with the application (its event loops, timer and DNS resolver). The
     * client uses them and never shuts them down; without them it creates its own and shuts those down on close.
     * Node connections the client closes (a node that stopped answering) close with RST when the client owns its
     * resources; with shared resources they close gracefully unless those resources' {@code NettyCustomizer} sets
     * {@code SO_LINGER} to 0 on its bootstrap, so that an unsent acquire cannot reach its node after the release that
     * followed it on a new connection.
     *
     * @param clientResources the application's resources
     * @return this builder
     * @throws IllegalArgumentException for null
     */
    public RedLockBuilder clientResources(ClientResources clientResources) {
        this.clientResources = Checks.notNull(clientResources, "clientResources");
        return this;
    }

    /**
     * Where the client reports its measurements (default {@link LockMetricsRecorder#NOOP}): acquire outcomes and
     * waits, validity at grant, renewals, losses, releases and node state. See the Micrometer binding.
     *
     * @param metricsRecorder the recorder; it must not block
     * @return this builder
     * @throws IllegalArgumentException for null
     */
    public RedLockBuilder metricsRecorder(LockMetricsRecorder metricsRecorder) {
        this.metricsRecorder = Checks.notNull(metricsRecorder, "metricsRecorder");
        return this;
    }

    /**
     * How often each node is pinged (default 1 s; {@link Duration#ZERO} turns health checks off). Checks start with
     * the client's first operation; a node is marked down after 2 failed checks in a row and up after one success.
     *
     * @param healthCheckInterval the period: zero (off) or positive, whole milliseconds, at most a day
     * @return this builder
     * @throws IllegalArgumentException for null, negative, fractional-millisecond or too long
     */
    public RedLockBuilder healthCheckInterval(Duration healthCheckInterval) {
        this.healthCheckInterval = Checks.nonNegativeMillis(healthCheckInterval, "healthCheckInterval");
        return this;
    }

    /**
     * How {@code rediss://} nodes verify the server and present a client certificate (Lettuce's {@link SslOptions}).
     * Build it from a {@code TrustManagerFactory} / {@code KeyManagerFactory} loaded once, for example
     * {@code SslOptions.builder().trustManager(trustManagerFactory).build()} for a private CA: Lettuce reads the
     * files of {@code trustManager(File)} / {@code keyManager(File, ...)} again for every connection, on a Netty
     * event-loop thread. Without it, {@link #build()} loads the JDK's default trust store once. Peer verification is
     * set per node URI ({@code verifyPeer}, default full). Ignored for {@code redis://} nodes.
     *
     * @param sslOptions the TLS options
     * @return this builder
     * @throws IllegalArgumentException for null
     */
    public RedLockBuilder sslOptions(SslOptions sslOptions) {
        this.sslOptions = Checks.notNull(sslOptions, "sslOptions");
        return this;
    }

    /** For unit tests: nodes made by the factory instead of Lettuce. */
    RedLockBuilder nodeFactory(NodeFactory nodeFactory) {
        this.nodeFactory = nodeFactory;
        return this;
    }

    /**
     * How locks with {@link LockOptions#adaptiveLeaseTime()} share hold times: locks whose names map to the same group
     * share one window of the last 128 hold times, and so one adaptive lease time. The default, the identity, gives
     * each lock its own; group names with unbounded parts ({@code "orders:" + id} → {@code "orders"}), since at most
     * 10,000 groups are kept (a new group beyond uses the base lease time). Called on the threads that run lock
     * operations: it must be fast and must not block; a name it throws for, or maps to {@code null}, is its own group.
     *
     * @param keyToGroup maps a lock name, as the caller gave it, to its group
     * @return this builder
     * @throws IllegalArgumentException for null
     */
    public RedLockBuilder adaptiveLeaseGroups(Function<String, String> keyToGroup) {
        this.adaptiveLeaseGroups = Checks.notNull(keyToGroup, "keyToGroup");
        return this;
    }

    /**
     * Builds the client; opens no connection.
     *
     * @return a new client; close it with {@link ReactiveRedLock#close()} or {@link ReactiveRedLock#closeAsync()}
     * @throws IllegalArgumentException if there are no nodes, an even number of nodes, the same node twice, or the
     *     default lease time exceeds the maximum lease time
     */
    public ReactiveRedLock build() {
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException("at least one node is required (1 for a single-Redis lock, or an odd N >= 3)");
        }
        if (nodes.size() % 2 == 0) {
            throw new IllegalArgumentException("the number of nodes must be odd (a quorum of N/2+1 of an even N "
                    + "tolerates no more failures than N-1 nodes), got " + nodes.size() + ": " + nodes);
        }
        Set<String> seen = new HashSet<>();
        for (RedisNode node : nodes) {
            if (!seen.add(node.name())) {
                throw new IllegalArgumentException("node " + node.name() + " is listed twice; nodes must be independent");
            }
        }
        if (defaults.leaseTime().compareTo(maxLeaseTime) > 0) {
            throw new IllegalArgumentException("default leaseTime " + defaults.leaseTime()
                    + " exceeds maxLeaseTime " + maxLeaseTime);
        }
        Tokens.init();
        SslOptions ssl = sslOptions;
        if (ssl == null && nodes.stream().anyMatch(RedisNode::tls)) {
            ssl = defaultTls();
        }
        Engine engine = new Engine(new EngineConfig(List.copyOf(nodes), defaults, keyPrefix, scheduler, eventScheduler,
                restartGuard, maxLeaseTime, connectTimeout, nodeFactory, breaker, healthCheckInterval, ssl,
                clientResources, metricsRecorder, adaptiveLeaseGroups));
        return new LockClient(engine, keyPrefix, defaults);
    }

    /**
     * The JDK's default trust store, loaded here, once. Left to Lettuce's defaults, every TLS connection would load
     * it again while setting up the channel, on a Netty event-loop thread (file reads that BlockHound reports).
     */
    private static SslOptions defaultTls() {
        try {
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init((KeyStore) null);
            return SslOptions.builder().trustManager(trust).build();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot load the JDK's default trust store for rediss:// nodes: " + e, e);
        }
    }
}
