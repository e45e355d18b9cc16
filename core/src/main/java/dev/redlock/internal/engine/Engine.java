package dev.redlock.internal.engine;

import dev.redlock.ClientClosedException;
import dev.redlock.LockAcquireTimeoutException;
import dev.redlock.LockEvent;
import dev.redlock.LockOptions;
import dev.redlock.NodeStatus;
import dev.redlock.QuorumUnavailableException;
import dev.redlock.RedisNode;
import dev.redlock.internal.Checks;
import dev.redlock.internal.InFlight;
import dev.redlock.internal.acquire.AcquireAttempt;
import dev.redlock.internal.acquire.AcquireLoop;
import dev.redlock.internal.acquire.LocalQueue;
import dev.redlock.internal.event.EventBus;
import dev.redlock.internal.health.HealthMonitor;
import dev.redlock.internal.health.NodeHealth;
import dev.redlock.internal.lease.DefaultLease;
import dev.redlock.internal.lease.HoldTimes;
import dev.redlock.internal.lease.RenewalBatcher;
import dev.redlock.internal.lease.Scope;
import dev.redlock.internal.node.HoldOutTime;
import dev.redlock.internal.node.LettuceNode;
import dev.redlock.internal.node.NodeChannel;
import dev.redlock.internal.notify.ReleaseNotifier;
import dev.redlock.internal.quorum.QuorumCall;
import dev.redlock.internal.script.Script;
import dev.redlock.metrics.LockMetricsRecorder;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.NettyCustomizer;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;
import reactor.core.scheduler.Scheduler;

/**
 * The engine: the nodes and their connections, health checks and breakers, the event bus, the release notifier, the
 * renewal batcher, the local waiting lines, the leases in flight, and {@code close()}. Primitives reach it through
 * {@link LeaseSpec}: {@link #acquire}, {@link #tryAcquire} and {@link #scope()}; the parts it wires each live in
 * their own package ({@code quorum}, {@code acquire}, {@code lease}, {@code node}, {@code notify}, {@code health},
 * {@code event}, {@code script}). Not API.
 */
public final class Engine {

    private static final Logger log = LoggerFactory.getLogger(Engine.class);

    /**
     * Node connections close with RST (SO_LINGER 0): bytes still unsent are dropped instead of being retransmitted
     * by the kernel after the close. A connection is closed when its node stopped answering; an acquire stuck in its
     * socket must not reach the node after the release that followed it on a new connection (see
     * {@link QuorumCall#settled(int)}).
     */
    private static final NettyCustomizer ABORTIVE_CLOSE = new NettyCustomizer() {
        @Override
        public void afterBootstrapInitialized(Bootstrap bootstrap) {
            bootstrap.option(ChannelOption.SO_LINGER, 0);
        }
    };

    private final List<RedisNode> nodes;
    private final NodeChannel[] channels;
    private final LockOptions defaults;
    private final String keyPrefix;
    private final Scheduler scheduler;
    private final Duration maxLeaseTime;
    private final Duration connectTimeout;
    private final ClientResources resources;
    /** Whether {@link #resources} are the engine's own, to shut down on close. */
    private final boolean ownResources;
    private final EventBus events;
    private final ReleaseNotifier notifier;
    private final RenewalBatcher renewals = new RenewalBatcher(this);
    private final LocalQueue localQueue;
    private final Scope scope = new Scope(this);
    private final HoldTimes holdTimes;
    private final NodeHealth[] health;
    private final HealthMonitor healthMonitor;
    private final Set<DefaultLease> active = ConcurrentHashMap.newKeySet();
    /** Acquires of waiters queued on the nodes (see {@link LeaseSpec#leaveScript()}) that have not left yet. */
    private final Set<LeaseSpec> queuedWaiters = ConcurrentHashMap.newKeySet();
    private final AtomicInteger watchdogs = new AtomicInteger();
    /** Releases (of leases and of failed attempts) whose nodes have not all answered yet. */
    private final InFlight releases = new InFlight();
    /** Acquire attempts in flight: close() lets them end before it releases what they got. */
    private final InFlight attempts = new InFlight();
    private final AtomicReference<Mono<Void>> closing = new AtomicReference<>();
    /** Set as close() starts: no operation starts any more. */
    private volatile boolean closeStarted;
    /** Set once close() released everything and closes the connections. */
    private volatile boolean closed;
    // Strategies tests replace (EngineAccess) to build mutants and inject faults; production keeps these defaults.
    private volatile LongSupplier clock;
    private volatile QuorumRule quorumOverride;
    private volatile ValidityRule validityRule = ValidityRule.BEFORE_DEADLINE;

    public Engine(EngineConfig config) {
        this.nodes = config.nodes();
        this.defaults = config.defaults();
        this.keyPrefix = config.keyPrefix();
        this.scheduler = config.scheduler();
        this.maxLeaseTime = config.maxLeaseTime();
        this.connectTimeout = config.connectTimeout();
        this.events = new EventBus(scheduler, config.eventScheduler(), config.recorder());
        this.holdTimes = new HoldTimes(config.adaptiveLeaseGroups(), maxLeaseTime, events);
        this.channels = new NodeChannel[nodes.size()];
        HoldOutTime holdOut = new HoldOutTime(maxLeaseTime);
        if (config.nodeFactory() == null) {
            // Resources the application gave are its own: used, never shut down. They close connections gracefully
            // unless the application's NettyCustomizer sets SO_LINGER 0 (see RedLockBuilder.clientResources).
            this.ownResources = config.clientResources() == null;
            this.resources = ownResources
                    ? DefaultClientResources.builder().nettyCustomizer(ABORTIVE_CLOSE).build()
                    : config.clientResources();
            for (int i = 0; i < channels.length; i++) {
                channels[i] = new LettuceNode(nodes.get(i), resources, scheduler, config.restartGuard(), holdOut,
                        keyPrefix, connectTimeout, config.sslOptions(), events);
            }
        } else {
            this.ownResources = false;
            this.resources = null;
            for (int i = 0; i < channels.length; i++) {
                channels[i] = config.nodeFactory().create(nodes.get(i), events);
            }
        }
        this.notifier = new ReleaseNotifier(channels, scheduler);
        this.localQueue = new LocalQueue(scheduler);
        this.health = new NodeHealth[channels.length];
        for (int i = 0; i < channels.length; i++) {
            health[i] = new NodeHealth(channels[i].name(), config.breaker(), this);
        }
        Duration pingTimeout = defaults.nodeTimeout().compareTo(Duration.ofMillis(250)) > 0
                ? defaults.nodeTimeout()
                : Duration.ofMillis(250);
        this.healthMonitor = new HealthMonitor(this, config.healthCheckInterval(), pingTimeout);
    }

    // == Internal access ==

    /** The engine's clock in nanoseconds: the scheduler's monotonic clock (a test may install another). */
    public long now() {
        LongSupplier c = clock;
        return c != null ? c.getAsLong() : scheduler.now(TimeUnit.NANOSECONDS);
    }

    // == Test seams (EngineAccess installs them before first use) ==

    public void clock(LongSupplier clock) {
        this.clock = clock;
    }

    /** Overrides every primitive's quorum rule where it answers a positive number (mutants in tests). */
    public void quorumRule(QuorumRule rule) {
        this.quorumOverride = Checks.notNull(rule, "rule");
    }

    public void validityRule(ValidityRule rule) {
        this.validityRule = Checks.notNull(rule, "rule");
    }

    public ValidityRule validityRule() {
        return validityRule;
    }

    /** Wraps every node (a fault-injecting decorator); call before first use. */
    public void decorateNodes(UnaryOperator<NodeChannel> decorator) {
        for (int i = 0; i < channels.length; i++) {
            channels[i] = decorator.apply(channels[i]);
        }
    }

    public NodeChannel[] channels() {
        return channels;
    }

    public NodeHealth[] health() {
        return health;
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    public EventBus eventBus() {
        return events;
    }

    /** Whether renewal batches must keep to one hash slot (see {@link NodeChannel#slotStrict()}). */
    public boolean slotStrict() {
        for (NodeChannel c : channels) {
            if (c.slotStrict()) {
                return true;
            }
        }
        return false;
    }

    /** The hold times behind adaptive lease times ({@link LockOptions#adaptiveLeaseTime()}). */
    public HoldTimes holdTimes() {
        return holdTimes;
    }

    public RenewalBatcher renewals() {
        return renewals;
    }

    public ReleaseNotifier notifier() {
        return notifier;
    }

    /** Watchdogs currently running (for tests and metrics). */
    public int runningWatchdogs() {
        return watchdogs.get();
    }

    public AtomicInteger watchdogCounter() {
        return watchdogs;
    }

    public void track(DefaultLease lease) {
        active.add(lease);
    }

    public void untrack(DefaultLease lease) {
        active.remove(lease);
    }

    public void checkLeaseTime(Duration leaseTime, String name) {
        Checks.positiveMillis(leaseTime, name);
        if (leaseTime.compareTo(maxLeaseTime) > 0) {
            throw new IllegalArgumentException(
                    name + " " + leaseTime + " exceeds this client's maxLeaseTime " + maxLeaseTime);
        }
    }

    /** Minimum time a release waits for its nodes: see {@link #releaseTimeout(LockOptions)}. */
    private static final Duration MIN_RELEASE_TIMEOUT = Duration.ofSeconds(1);

    /**
     * How long a release waits for its nodes: the node timeout, but at least 1 s. A release is not in a hurry (the
     * lock is free for others as soon as a quorum released), and its outcome is only "unknown" when fewer than
     * N - quorum + 1 nodes answered: a node slowed down for a moment (a cold connection, a loaded machine) should not
     * turn a release into an error.
     */
    public static Duration releaseTimeout(LockOptions options) {
        return options.nodeTimeout().compareTo(MIN_RELEASE_TIMEOUT) > 0 ? options.nodeTimeout() : MIN_RELEASE_TIMEOUT;
    }

    /** Fire-and-forget compare-and-delete on every node, each sent after that node's part of {@code after}. */
    public void releaseEverywhere(LeaseSpec spec, String token, QuorumCall after, boolean publish) {
        cleanupEverywhere(spec, spec.releaseScript(), spec.releaseKeys(), spec.releaseArgs(token, publish), after);
    }

    /**
     * Fire-and-forget cleanup script (kind {@link Script.Kind#RELEASE}: never gated, sent even when late) on every
     * node, each sent after that node's part of {@code after} (when given); {@code close()} waits for it.
     */
    private void cleanupEverywhere(LeaseSpec spec, Script script, String[] keys, String[] args, QuorumCall after) {
        QuorumCall cleanup = new QuorumCall(
                        this,
                        script,
                        spec.quorumRule(),
                        keys,
                        args,
                        releaseTimeout(defaults),
                        v -> v == 1,
                        false,
                        false,
                        (call, yes, at) -> {
                            if (call.failureCount() > 0 && log.isDebugEnabled()) {
                                log.debug("cleanup of '{}' did not reach {}", spec.name(), call.failures().keySet());
                            }
                        });
        cleanup.start(after);
        trackRelease(cleanup);
    }

    /** A release whose nodes close() lets answer before it closes the connections. */
    public void trackRelease(QuorumCall release) {
        CompletableFuture<Void> finished = release.finished();
        if (!finished.isDone()) {
            releases.enter();
            finished.whenComplete((v, e) -> releases.exit());
        }
    }

    /**
     * Registers an acquire attempt about to send; false (and nothing registered) once close() started, so that
     * close() knows every attempt that can still grant a lease. Each true is followed by one {@link #endAttempt()}.
     */
    public boolean beginAttempt() {
        return attempts.tryEnter();
    }

    /** The attempt can no longer grant a lease (it succeeded, failed or was cancelled). */
    public void endAttempt() {
        attempts.exit();
    }

    public LocalQueue localQueue() {
        return localQueue;
    }

    /** Whether close() started: no operation starts any more. */
    public boolean isCloseStarted() {
        return closeStarted;
    }

    /** Whether close() finished releasing and closes (or closed) the connections. */
    public boolean isClosed() {
        return closed;
    }

    public ClientClosedException closedError(String key, String operation) {
        return new ClientClosedException(key, operation + (key == null ? "" : " of '" + key + "'")
                + ": this ReactiveRedLock is closed");
    }

    public Mono<Void> ensureOpen(String key, String operation) {
        return Mono.defer(() -> {
            if (closeStarted) {
                return Mono.error(closedError(key, operation));
            }
            healthMonitor.start();
            return Mono.empty();
        });
    }

    /**
     * Releases a lease that was granted but never reached its subscriber (cancelled in between): Reactor hands such
     * a value, or the attempt result carrying it, to the discard hook.
     */
    private static void discardLease(Object discarded) {
        DefaultLease lease = discarded instanceof DefaultLease ? (DefaultLease) discarded
                : discarded instanceof AcquireAttempt.Result ? ((AcquireAttempt.Result) discarded).lease
                : null;
        if (lease != null) {
            lease.release().subscribe(v -> {}, e -> {});
        }
    }

    public Mono<Void> connect() {
        return ensureOpen(null, "connect").then(Mono.defer(() -> {
            Map<String, Throwable> failures = new ConcurrentHashMap<>();
            return Flux.range(0, channels.length)
                    // suppressCancel: the connection attempt is the node's, shared with acquires waiting for it
                    .flatMap(i -> Mono.fromFuture(() -> channels[i].connect().toCompletableFuture(), true)
                            .timeout(connectTimeout, scheduler)
                            .thenReturn(1)
                            .onErrorResume(e -> {
                                failures.put(channels[i].name(), LettuceNode.unwrap(e));
                                return Mono.just(0);
                            }))
                    .reduce(0, Integer::sum)
                    .flatMap(connected -> connected >= quorum()
                            ? Mono.<Void>empty()
                            : Mono.<Void>error(new QuorumUnavailableException("*", QuorumUnavailableException.Operation.CONNECT, channels.length, quorum(),
                                    connected, connectTimeout, false, failures)));
        }));
    }

    // == Acquire ==

    public LockOptions defaults() {
        return defaults;
    }

    public List<RedisNode> nodes() {
        return nodes;
    }

    public int quorum() {
        return channels.length / 2 + 1;
    }

    /** The quorum a call of {@code script} needs under {@code rule} (unless a test installed another rule). */
    public int quorumFor(QuorumRule rule, Script script) {
        QuorumRule override = quorumOverride;
        int forced = override != null ? override.quorum(script, channels.length) : 0;
        return forced > 0 ? forced : rule.quorum(script, channels.length);
    }

    public Duration maxLeaseTime() {
        return maxLeaseTime;
    }

    /** One attempt whose nodes get {@code nodeTimeout} each. */
    public Mono<AcquireAttempt.Result> attempt(LeaseSpec spec, LockOptions options, Duration nodeTimeout) {
        return AcquireAttempt.attempt(this, spec, options, nodeTimeout);
    }

    /**
     * Acquires a lease of {@code spec} with {@code options}: one attempt, then the acquire loop until maxWait
     * ({@link AcquireLoop}). A lease granted while the subscriber cancels, which never reaches it, is released.
     */
    public Mono<DefaultLease> acquire(LeaseSpec spec, LockOptions options) {
        Mono<DefaultLease> acquire = ensureOpen(spec.name(), "acquire")
                .then(adapted(spec, options, o -> AcquireLoop.acquire(this, spec, o)));
        Script leave = spec.leaveScript();
        if (leave != null) {
            // A waiter queued on the nodes leaves at once when its acquire ends without a lease, after its last
            // attempt's command on each node (so no late enqueue lands behind the leave). A completed acquire's lease
            // takes its waiter out with its release; a cancel that came after the lease was delivered only removes
            // an entry the holder no longer needs.
            // Registered while it waits, so that close() can send the leave before closing the connections (a
            // waiter paused between attempts only sees the close when its pause ends); whoever takes it out of the
            // set sends the leave.
            acquire = acquire
                    .doOnSubscribe(s -> queuedWaiters.add(spec))
                    .doFinally(signal -> {
                        if (queuedWaiters.remove(spec) && signal != SignalType.ON_COMPLETE) {
                            leave(spec);
                        }
                    });
        }
        return measured(spec, acquire).doOnDiscard(Object.class, Engine::discardLease);
    }

    /**
     * {@code acquire} with the options of an adaptive lease time ({@link HoldTimes#adapt}), read at subscription so
     * that each subscription uses the group's current figure; with a fixed lease time, {@code acquire} as it is.
     */
    private <T> Mono<T> adapted(LeaseSpec spec, LockOptions options, Function<LockOptions, Mono<T>> acquire) {
        return options.adaptiveLeaseTime()
                ? Mono.defer(() -> acquire.apply(holdTimes.adapt(spec.name(), options)))
                : acquire.apply(options);
    }

    /** Takes a queued waiter out of every node's queue, each node after its last attempt's command. */
    private void leave(LeaseSpec spec) {
        cleanupEverywhere(spec, spec.leaveScript(), spec.leaveKeys(), spec.leaveArgs(), spec.lastAttempt());
    }

    /**
     * The acquire with its outcome and wait reported to the metrics recorder, and wrapped in its observation, when one
     * is installed.
     */
    private Mono<DefaultLease> measured(LeaseSpec spec, Mono<DefaultLease> acquire) {
        if (!events.recording()) {
            return acquire;
        }
        LockMetricsRecorder recorder = events.recorder();
        return recorder.observeAcquire(spec.name(), Mono.defer(() -> {
            long start = now();
            return acquire
                    .doOnSuccess(lease -> recorder.acquireEnded(spec.name(), lease != null
                            ? LockMetricsRecorder.AcquireOutcome.ACQUIRED
                            : LockMetricsRecorder.AcquireOutcome.TIMED_OUT, Duration.ofNanos(now() - start)))
                    .doOnError(e -> recorder.acquireEnded(spec.name(), outcome(e), Duration.ofNanos(now() - start)))
                    .doOnCancel(() -> recorder.acquireEnded(spec.name(), LockMetricsRecorder.AcquireOutcome.CANCELLED,
                            Duration.ofNanos(now() - start)));
        }));
    }

    private static LockMetricsRecorder.AcquireOutcome outcome(Throwable e) {
        if (e instanceof LockAcquireTimeoutException) {
            return LockMetricsRecorder.AcquireOutcome.TIMED_OUT;
        }
        if (e instanceof QuorumUnavailableException) {
            return LockMetricsRecorder.AcquireOutcome.QUORUM_UNAVAILABLE;
        }
        if (e instanceof ClientClosedException) {
            return LockMetricsRecorder.AcquireOutcome.CLOSED;
        }
        return LockMetricsRecorder.AcquireOutcome.ERROR;
    }

    /** One attempt: the lease, empty when held elsewhere, or the quorum error. */
    public Mono<DefaultLease> tryAcquire(LeaseSpec spec, LockOptions options) {
        Mono<DefaultLease> attempt = ensureOpen(spec.name(), "tryAcquire")
                .then(adapted(spec, options, o -> attempt(spec, o, o.nodeTimeout())))
                .flatMap(r -> r.lease != null
                        ? Mono.just(r.lease)
                        : r.contended ? Mono.<DefaultLease>empty() : Mono.<DefaultLease>error(r.unavailable(spec.name())));
        return measured(spec, attempt).doOnDiscard(Object.class, Engine::discardLease);
    }

    /**
     * Asks every node a yes-or-no {@code query} (a script answering 1 or 0) about {@code name}: true at a quorum of
     * ones, false at a quorum of zeros, else {@link QuorumUnavailableException}. Lazy.
     */
    public Mono<Boolean> heldByQuorum(String name, Script query, String[] keys, String[] args, Duration nodeTimeout) {
        return ensureOpen(name, "isLocked").then(Mono.create(sink -> new QuorumCall(
                        this,
                        query,
                        QuorumRule.MAJORITY,
                        keys,
                        args,
                        nodeTimeout,
                        v -> v == 1,
                        false,
                        false,
                        (call, yes, at) -> {
                            if (yes) {
                                sink.success(true);
                            } else if (call.countReplies(v -> v == 0) >= call.quorum()) {
                                sink.success(false);
                            } else {
                                sink.error(new QuorumUnavailableException(name,
                                        QuorumUnavailableException.Operation.IS_LOCKED, call.nodeCount(),
                                        call.quorum(), call.yesCount(), Duration.ofNanos(at - call.startNanos()), false,
                                        call.failures()));
                            }
                        })
                .start(null)));
    }

    /**
     * Runs {@code script} on node {@code node} alone (a primitive that lives on one node, or a follow-up to the
     * nodes of an earlier call): its reply, or its failure, a {@link java.util.concurrent.TimeoutException} when the
     * reply takes longer than {@code timeout} (connecting first, if needed, may take the connect timeout). Lazy; a
     * cancel does not stop a command already sent. Not gated by the node's breaker.
     */
    public Mono<Long> callNode(int node, Script script, String[] keys, String[] args, Duration timeout) {
        return Mono.defer(() -> {
                    NodeChannel channel = channels[node];
                    NodeChannel.NodeConnection ready = channel.ready();
                    return ready != null
                            ? Mono.just(ready)
                            : Mono.fromCompletionStage(channel::connect).timeout(connectTimeout, scheduler);
                })
                .flatMap(c -> Mono.fromCompletionStage(() -> c.eval(script, keys, args)).timeout(timeout, scheduler))
                .onErrorMap(LettuceNode::unwrap);
    }

    /** The {@code withLock} scope of this engine. */
    public Scope scope() {
        return scope;
    }

    // == Queries and lifecycle ==

    public Flux<LockEvent> events() {
        return events.flux();
    }

    public int activeLeases() {
        // A manual lease nobody released or watched ends at its deadline unnoticed: count it lost there (which also
        // stops tracking it), so neither the count nor the set grows with leases their owners dropped.
        for (DefaultLease lease : active) {
            lease.lostAtEnd();
        }
        return active.size();
    }

    public List<NodeStatus> nodeStatus() {
        long now = now();
        List<NodeStatus> statuses = new java.util.ArrayList<>(channels.length);
        for (int i = 0; i < channels.length; i++) {
            statuses.add(health[i].status(channels[i].heldOut(now)));
        }
        return statuses;
    }

    /** Longest wait of each close() phase for nodes that do not answer (a dead node must not hold close up). */
    private static final Duration CLOSE_PHASE_BOUND = Duration.ofSeconds(3);

    public Mono<Void> closeAsync() {
        return Mono.defer(() -> {
            Mono<Void> existing = closing.get();
            if (existing != null) {
                return existing;
            }
            Mono<Void> close = Mono.defer(() -> {
                        // 1. nothing new starts; attempts in flight end (they may still grant leases)
                        closeStarted = true;
                        return awaitBounded(attempts.drain());
                    })
                    // 2. every lease held now, including those granted during the close: scopes end with CLIENT_CLOSED
                    .then(Mono.defer(() -> Flux.fromIterable(List.copyOf(active))
                            .flatMap(DefaultLease::releaseOnClose)
                            .then()))
                    // 2b. waiters queued on the nodes (the fair lock's) leave every queue: their acquires fail with
                    // the close, but only once their pause ends, when the connections would be gone
                    .then(Mono.fromRunnable(() -> List.copyOf(queuedWaiters).forEach(spec -> {
                        if (queuedWaiters.remove(spec)) {
                            leave(spec);
                        }
                    })))
                    // 3. every release (of leases and of failed or cancelled attempts, and the leaves) hears from each
                    // node, so none is cut off by closing its connection
                    .then(Mono.defer(() -> awaitBounded(releases.drain())))
                    .then(Mono.defer(() -> {
                        closed = true;
                        healthMonitor.stop();
                        localQueue.releaseAll();
                        CompletableFuture<?>[] closes = new CompletableFuture<?>[channels.length];
                        for (int i = 0; i < channels.length; i++) {
                            closes[i] = channels[i].closeAsync().toCompletableFuture();
                        }
                        return Mono.fromFuture(CompletableFuture.allOf(closes));
                    }))
                    .then(Mono.defer(() -> !ownResources
                            ? Mono.<Void>empty()
                            : Mono.<Void>create(sink -> resources.shutdown(0, 2, TimeUnit.SECONDS)
                                    .addListener(f -> sink.success()))))
                    .doFinally(s -> events.complete())
                    .cache();
            if (!closing.compareAndSet(null, close)) {
                return closing.get();
            }
            closeStarted = true;
            return close;
        });
    }

    /** Waits for the future, at most {@link #CLOSE_PHASE_BOUND}. */
    private Mono<Void> awaitBounded(CompletableFuture<Void> future) {
        if (future.isDone()) {
            return Mono.empty();
        }
        return Mono.fromFuture(future, true)
                .timeout(CLOSE_PHASE_BOUND, scheduler)
                .onErrorResume(e -> Mono.empty());
    }
}
