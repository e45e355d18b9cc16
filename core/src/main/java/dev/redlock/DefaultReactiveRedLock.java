package dev.redlock;

import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.lettuce.core.SslOptions;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.NettyCustomizer;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.util.retry.Retry;

/** The engine behind {@link ReactiveRedLock}. */
final class DefaultReactiveRedLock implements ReactiveRedLock {

    private static final Logger log = LoggerFactory.getLogger(DefaultReactiveRedLock.class);

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
    private final EventBus events;
    private final ReleaseNotifier notifier;
    private final RenewalBatcher renewals = new RenewalBatcher(this);
    private final LocalQueue localQueue;
    private final NodeGuard[] guards;
    private final HealthMonitor health;
    private final Set<DefaultLease> active = ConcurrentHashMap.newKeySet();
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
    private volatile QuorumRule quorumRule = QuorumRule.MAJORITY;
    private volatile ValidityRule validityRule = ValidityRule.BEFORE_DEADLINE;

    DefaultReactiveRedLock(
            List<RedisNode> nodes,
            LockOptions defaults,
            String keyPrefix,
            Scheduler scheduler,
            Scheduler eventScheduler,
            RestartGuard restartGuard,
            Duration maxLeaseTime,
            Duration connectTimeout,
            RedLockBuilder.NodeFactory nodeFactory,
            CircuitBreakerConfig circuitBreaker,
            Duration healthCheckInterval,
            SslOptions sslOptions) {
        this.nodes = nodes;
        this.defaults = defaults;
        this.keyPrefix = keyPrefix;
        this.scheduler = scheduler;
        this.maxLeaseTime = maxLeaseTime;
        this.connectTimeout = connectTimeout;
        this.events = new EventBus(scheduler, eventScheduler);
        this.channels = new NodeChannel[nodes.size()];
        HoldOutTime holdOut = new HoldOutTime(maxLeaseTime);
        if (nodeFactory == null) {
            this.resources = DefaultClientResources.builder().nettyCustomizer(ABORTIVE_CLOSE).build();
            for (int i = 0; i < channels.length; i++) {
                channels[i] = new LettuceNode(nodes.get(i), resources, scheduler, restartGuard, holdOut, keyPrefix,
                        connectTimeout, sslOptions, events);
            }
        } else {
            this.resources = null;
            for (int i = 0; i < channels.length; i++) {
                channels[i] = nodeFactory.create(nodes.get(i), events);
            }
        }
        this.notifier = new ReleaseNotifier(channels, scheduler);
        this.localQueue = new LocalQueue(scheduler);
        this.guards = new NodeGuard[channels.length];
        for (int i = 0; i < channels.length; i++) {
            guards[i] = new NodeGuard(channels[i].name(), circuitBreaker, this);
        }
        Duration pingTimeout = defaults.nodeTimeout().compareTo(Duration.ofMillis(250)) > 0
                ? defaults.nodeTimeout()
                : Duration.ofMillis(250);
        this.health = new HealthMonitor(this, healthCheckInterval, pingTimeout);
    }

    // == Internal access ==

    /** The engine's clock in nanoseconds: the scheduler's monotonic clock (a test may install another). */
    long now() {
        LongSupplier c = clock;
        return c != null ? c.getAsLong() : scheduler.now(TimeUnit.NANOSECONDS);
    }

    /** The release script: compare-and-delete. */
    Script releaseScript() {
        return LockScript.RELEASE;
    }

    // == Test seams (EngineAccess installs them before first use) ==

    void clock(LongSupplier clock) {
        this.clock = clock;
    }

    void quorumRule(QuorumRule rule) {
        this.quorumRule = Checks.notNull(rule, "rule");
    }

    void validityRule(ValidityRule rule) {
        this.validityRule = Checks.notNull(rule, "rule");
    }

    ValidityRule validityRule() {
        return validityRule;
    }

    /** Wraps every node (a fault-injecting decorator); call before first use. */
    void decorateNodes(UnaryOperator<NodeChannel> decorator) {
        for (int i = 0; i < channels.length; i++) {
            channels[i] = decorator.apply(channels[i]);
        }
    }

    NodeChannel[] channels() {
        return channels;
    }

    NodeGuard[] guards() {
        return guards;
    }

    Scheduler scheduler() {
        return scheduler;
    }

    EventBus eventBus() {
        return events;
    }

    /** Whether renewal batches must keep to one hash slot (see {@link NodeChannel#slotStrict()}). */
    boolean slotStrict() {
        for (NodeChannel c : channels) {
            if (c.slotStrict()) {
                return true;
            }
        }
        return false;
    }

    RenewalBatcher renewals() {
        return renewals;
    }

    ReleaseNotifier notifier() {
        return notifier;
    }

    /** Watchdogs currently running (for tests and metrics). */
    int runningWatchdogs() {
        return watchdogs.get();
    }

    AtomicInteger watchdogCounter() {
        return watchdogs;
    }

    void track(DefaultLease lease) {
        active.add(lease);
    }

    void untrack(DefaultLease lease) {
        active.remove(lease);
    }

    void checkLeaseTime(Duration leaseTime, String name) {
        Checks.positiveMillis(leaseTime, name);
        if (leaseTime.compareTo(maxLeaseTime) > 0) {
            throw new IllegalArgumentException(
                    name + " " + leaseTime + " exceeds this client's maxLeaseTime " + maxLeaseTime);
        }
    }

    private LockOptions checkOptions(LockOptions options) {
        Checks.notNull(options, "options");
        checkLeaseTime(options.leaseTime(), "leaseTime");
        return options;
    }

    /** Minimum time a release waits for its nodes: see {@link #releaseTimeout(LockOptions)}. */
    private static final Duration MIN_RELEASE_TIMEOUT = Duration.ofSeconds(1);

    /**
     * How long a release waits for its nodes: the node timeout, but at least 1 s. A release is not in a hurry (the
     * lock is free for others as soon as a quorum released), and its outcome is only "unknown" when fewer than
     * N - quorum + 1 nodes answered: a node slowed down for a moment (a cold connection, a loaded machine) should not
     * turn a release into an error.
     */
    static Duration releaseTimeout(LockOptions options) {
        return options.nodeTimeout().compareTo(MIN_RELEASE_TIMEOUT) > 0 ? options.nodeTimeout() : MIN_RELEASE_TIMEOUT;
    }

    /** Fire-and-forget compare-and-delete on every node, each sent after that node's part of {@code after}. */
    void releaseEverywhere(LockKeys keys, String token, QuorumCall after, boolean publish) {
        QuorumCall cleanup = new QuorumCall(
                        this,
                        releaseScript(),
                        keys.lockOnly,
                        new String[] {token, publish ? keys.channel : ""},
                        releaseTimeout(defaults),
                        v -> v == 1,
                        false,
                        false,
                        (call, yes, at) -> {
                            if (call.failureCount() > 0 && log.isDebugEnabled()) {
                                log.debug("cleanup of '{}' did not reach {}", keys.key, call.failures().keySet());
                            }
                        });
        cleanup.start(after);
        trackRelease(cleanup);
    }

    /** A release whose nodes close() lets answer before it closes the connections. */
    void trackRelease(QuorumCall release) {
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
    boolean beginAttempt() {
        return attempts.tryEnter();
    }

    /** The attempt can no longer grant a lease (it succeeded, failed or was cancelled). */
    void endAttempt() {
        attempts.exit();
    }

    /** Whether close() finished releasing and closes (or closed) the connections. */
    boolean isClosed() {
        return closed;
    }

    ClientClosedException closedError(String key, String operation) {
        return new ClientClosedException(key, operation + (key == null ? "" : " of '" + key + "'")
                + ": this ReactiveRedLock is closed");
    }

    private Mono<Void> ensureOpen(String key, String operation) {
        return Mono.defer(() -> {
            if (closeStarted) {
                return Mono.error(closedError(key, operation));
            }
            health.start();
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

    @Override
    public Mono<Void> connect() {
        return ensureOpen(null, "connect").then(Mono.defer(() -> {
            Map<String, Throwable> failures = new ConcurrentHashMap<>();
            return Flux.range(0, channels.length)
                    .flatMap(i -> Mono.fromCompletionStage(channels[i]::connect)
                            .timeout(connectTimeout, scheduler)
                            .thenReturn(1)
                            .onErrorResume(e -> {
                                failures.put(channels[i].name(), LettuceNode.unwrap(e));
                                return Mono.just(0);
                            }))
                    .reduce(0, Integer::sum)
                    .flatMap(connected -> connected >= quorum()
                            ? Mono.<Void>empty()
                            : Mono.<Void>error(new QuorumUnavailableException("*", "connect", channels.length, quorum(),
                                    connected, connectTimeout, false, failures)));
        }));
    }

    // == Acquire ==

    @Override
    public LockOptions defaults() {
        return defaults;
    }

    @Override
    public List<RedisNode> nodes() {
        return nodes;
    }

    @Override
    public int quorum() {
        return channels.length / 2 + 1;
    }

    /** The quorum a call of this script needs (the engine's quorum rule). */
    int quorumFor(Script script) {
        return quorumRule.quorum(script, channels.length);
    }

    @Override
    public Duration maxLeaseTime() {
        return maxLeaseTime;
    }

    private Mono<AcquireAttempt.Result> attempt(LockKeys keys, LockOptions options) {
        return attempt(keys, options, options.nodeTimeout());
    }

    private Mono<AcquireAttempt.Result> attempt(LockKeys keys, LockOptions options, Duration nodeTimeout) {
        return Mono.create(sink -> new AcquireAttempt(this, keys, options, nodeTimeout, sink).start());
    }

    @Override
    public Mono<Lease> acquire(String key) {
        return acquire(key, defaults);
    }

    @Override
    public Mono<Lease> acquire(String key, LockOptions options) {
        return acquireLease(key, options).cast(Lease.class);
    }

    Mono<DefaultLease> acquireLease(String key, LockOptions options) {
        LockKeys keys = new LockKeys(keyPrefix, Checks.key(key));
        checkOptions(options);
        return ensureOpen(keys.key, "acquire").then(Mono.defer(() -> acquireLoop(keys, options)))
                .doOnDiscard(Object.class, DefaultReactiveRedLock::discardLease);
    }

    /** First window for the random retry delay after a split vote; doubles per split up to 16 times. */
    private static final long SPLIT_RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final int MAX_FAST_SPLIT_RETRIES = 5;

    /** Per-subscription state of an acquire that waits. */
    private static final class Waiting {
        int splits;
        boolean skipNext;
        int attempts;
        AcquireAttempt.Result last;
        boolean cutShort;
        ReleaseNotifier.Listener listener;
        DefaultLease localHolder;
    }

    private static final class Retrying extends RuntimeException {
        private static final long serialVersionUID = 1L;
        static final Retrying INSTANCE = new Retrying();

        private Retrying() {
            super("retry", null, false, false);
        }
    }

    private Mono<DefaultLease> acquireLoop(LockKeys keys, LockOptions options) {
        long waitDeadline = now() + options.maxWait().toNanos();
        if (localQueue.busy(keys.lock) && !options.maxWait().isZero()) {
            // others in this client already wait for this key: queue behind them instead of adding a contender (an
            // acquire that may not wait at all still makes its one attempt)
            return waitInLine(keys, options, waitDeadline, null);
        }
        // Fast path: one attempt; the retry machinery is only built once the lock turned out to be busy.
        return attempt(keys, options)
                .flatMap(first -> first.lease != null
                        ? Mono.just(first.lease)
                        : options.maxWait().isZero()
                                ? Mono.error(first.contended
                                        ? new LockAcquireTimeoutException(keys.key, options.maxWait(), 1)
                                        : first.unavailable(keys.key))
                                : waitInLine(keys, options, waitDeadline, first));
    }

    /**
     * Waits for this acquire's turn among the local waiters of the key, then keeps trying until maxWait. The ticket
     * leaves the line once the lease (or the error) went downstream, or on cancel. Not {@code Mono.usingWhen}: it holds
     * the value until its cleanup ran, and a cancel in that gap drops the lease without a discard.
     */
    private Mono<DefaultLease> waitInLine(
            LockKeys keys, LockOptions options, long waitDeadline, AcquireAttempt.Result first) {
        return Mono.defer(() -> {
            LocalQueue.Ticket ticket = localQueue.join(keys.lock);
            return ticket.turn(waitDeadline - now())
                    .flatMap(myTurn -> {
                        if (!myTurn) {
                            return Mono.error(
                                    new LockAcquireTimeoutException(keys.key, options.maxWait(), first == null ? 0 : 1));
                        }
                        // If we queued right behind a failed first attempt, start by waiting; after waiting in line,
                        // try at once (the previous head either got the lock or gave up on it).
                        boolean justFailed = first != null && ticket.wasHeadAtOnce();
                        return waitAndRetry(keys, options, waitDeadline, first, justFailed, ticket.handedOverBy())
                                .doOnNext(ticket::acquired);
                    })
                    .doFinally(s -> ticket.close());
        });
    }

    /**
     * Tries until maxWait, waiting between attempts for a release notification or the backoff.
     *
     * @param startWithWait the caller's attempt just failed: wait before the first attempt here
     * @param localHolder the lease of this client's previous head of the line, which left it holding the lock: the
     *     first attempt waits until that lease is handed back (or the backoff passed). Trying while it is held can
     *     only be refused and costs a cleanup release on every node; and a release notification may be an old one
     *     (the previous holder's, arriving after the lock changed hands) that would trigger such a futile attempt
     */
    private Mono<DefaultLease> waitAndRetry(LockKeys keys, LockOptions options, long waitDeadline,
            AcquireAttempt.Result first, boolean startWithWait, DefaultLease localHolder) {
        Waiting waiting = new Waiting();
        waiting.attempts = first == null ? 0 : 1;
        waiting.last = first;
        waiting.skipNext = startWithWait;
        waiting.localHolder = localHolder;
        Mono<AcquireAttempt.Result> nextAttempt = Mono.defer(() -> {
            waiting.attempts++;
            if (waiting.listener != null) {
                waiting.listener.arm();
            }
            // A retry never runs past maxWait: its nodes get what is left of the wait (at least 1 ms), so an
            // acquire ends by max(maxWait, nodeTimeout) whatever the nodes do.
            long left = waitDeadline - now();
            long timeout = Math.max(TimeUnit.MILLISECONDS.toNanos(1), Math.min(options.nodeTimeout().toNanos(), left));
            waiting.cutShort = timeout < options.nodeTimeout().toNanos();
            return attempt(keys, options, Duration.ofNanos(timeout));
        });
        return Mono.defer(() -> {
                    if (waiting.skipNext) {
                        waiting.skipNext = false; // the first attempt already ran: start with its wait
                        return Mono.<AcquireAttempt.Result>error(Retrying.INSTANCE);
                    }
                    DefaultLease holder = waiting.localHolder;
                    if (holder != null) {
                        waiting.localHolder = null; // only before the first attempt here
                        CompletableFuture<Void> handedBack = holder.handedBack();
                        if (!handedBack.isDone()) {
                            long wait = Math.max(0, Math.min(options.backoff().delay(1).toNanos(), waitDeadline - now()));
                            return Mono.fromFuture(handedBack, true)
                                    .timeout(Duration.ofNanos(wait), Mono.empty(), scheduler)
                                    .then(nextAttempt);
                        }
                    }
                    return nextAttempt;
                })
                .flatMap(r -> {
                    if (r.lease != null) {
                        return Mono.just(r.lease);
                    }
                    // An attempt cut short by the end of maxWait (to as little as 1 ms) says little about the nodes:
                    // a live node may just not have answered in what was left, and its timeout can be recorded before
                    // or after the decision. Unless it found the lock held, the error reports the last full attempt
                    // (its refusals, connection or auth errors, ...).
                    if (!waiting.cutShort || waiting.last == null || r.contended) {
                        waiting.last = r;
                    }
                    return Mono.<DefaultLease>error(Retrying.INSTANCE);
                })
                .retryWhen(Retry.from(signals -> signals.concatMap(signal -> {
                    if (signal.failure() != Retrying.INSTANCE) {
                        return Mono.error(signal.failure());
                    }
                    AcquireAttempt.Result r = waiting.last;
                    long left = waitDeadline - now();
                    if (closeStarted) {
                        return Mono.error(closedError(keys.key, "acquire"));
                    }
                    if (left <= 0) {
                        return Mono.error(r.contended
                                ? new LockAcquireTimeoutException(keys.key, options.maxWait(), waiting.attempts)
                                : r.unavailable(keys.key));
                    }
                    long wait = Math.min(options.backoff().delay(waiting.attempts).toNanos(), left);
                    if (!r.contended) {
                        return Mono.delay(Duration.ofNanos(wait), scheduler);
                    }
                    if (r.call.yesCount() > 0 && waiting.splits < MAX_FAST_SPLIT_RETRIES) {
                        // A split vote: we won some nodes, others went to other contenders, and the failed attempts
                        // release what they got without notifying anyone. The lock is likely free again at once, so
                        // retry soon, with a short random delay (growing with repeated splits) to break the tie. After a
                        // few in a row (say a holder that owns only part of the nodes), fall back to the normal wait.
                        waiting.splits++;
                        long window = Math.min(wait, SPLIT_RETRY_NANOS << (waiting.splits - 1));
                        return Mono.delay(Duration.ofNanos(ThreadLocalRandom.current().nextLong(window + 1)), scheduler);
                    }
                    if (r.holderTtlMillis >= 0) {
                        wait = Math.min(wait, TimeUnit.MILLISECONDS.toNanos(r.holderTtlMillis + 1));
                    }
                    if (waiting.listener == null) {
                        // First contention: listen for releases, and retry as soon as the subscription stands, so a
                        // release that happened meanwhile is not missed.
                        waiting.listener = notifier.listen(keys.channel);
                        return waiting.listener.ready(wait).thenReturn(signal);
                    }
                    // retryWhen retries on an element: the Mono<Void> waits must emit one
                    return waiting.listener.await(wait).thenReturn(signal);
                })))
                .doFinally(s -> {
                    if (waiting.listener != null) {
                        waiting.listener.close();
                    }
                });
    }

    @Override
    public Mono<Lease> tryAcquire(String key) {
        return tryAcquire(key, defaults);
    }

    @Override
    public Mono<Lease> tryAcquire(String key, LockOptions options) {
        LockKeys keys = new LockKeys(keyPrefix, Checks.key(key));
        checkOptions(options);
        return ensureOpen(keys.key, "tryAcquire").then(Mono.defer(() -> attempt(keys, options)))
                .flatMap(r -> r.lease != null
                        ? Mono.<Lease>just(r.lease)
                        : r.contended ? Mono.<Lease>empty() : Mono.<Lease>error(r.unavailable(keys.key)))
                .doOnDiscard(Object.class, DefaultReactiveRedLock::discardLease);
    }

    // == Scoped use ==

    /** Context key under which a scope keeps its lease, per client and lock key. */
    private static final class HeldKey {
        private final DefaultReactiveRedLock client;
        private final String key;

        HeldKey(DefaultReactiveRedLock client, String key) {
            this.client = client;
            this.key = key;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof HeldKey && ((HeldKey) o).client == client && ((HeldKey) o).key.equals(key);
        }

        @Override
        public int hashCode() {
            return Objects.hash(System.identityHashCode(client), key);
        }
    }

    @Override
    public <T> Flux<T> withLock(String key, Function<? super Lease, ? extends Publisher<? extends T>> body) {
        return withLock(key, defaults, body);
    }

    @Override
    public <T> Flux<T> withLock(
            String key, LockOptions options, Function<? super Lease, ? extends Publisher<? extends T>> body) {
        Checks.key(key);
        checkOptions(options);
        Checks.notNull(body, "body");
        HeldKey heldKey = new HeldKey(this, key);
        return Flux.deferContextual(ctx -> {
            DefaultLease held = ctx.getOrDefault(heldKey, null);
            if (held != null && !held.isReleased()) {
                // reentrant: the outer scope renews and releases
                return reenter(held, options).flatMapMany(h -> Flux.<T>from(body.apply(h)));
            }
            return Flux.usingWhen(
                    acquireLease(key, options),
                    lease -> Flux.defer(() -> {
                        Disposable watchdog = guard(lease, options);
                        return Flux.<T>from(body.apply(lease))
                                .takeUntilOther(lease.lost())
                                .concatWith(Mono.defer(() -> lostOrEmpty(lease)))
                                .doFinally(s -> watchdog.dispose())
                                .contextWrite(c -> c.put(heldKey, lease));
                    }),
                    DefaultLease::releaseFromScope,
                    (lease, error) -> lease.releaseFromScope(),
                    DefaultLease::releaseFromScope);
        });
    }

    @Override
    public <T> Flux<T> withLock(String key, Flux<? extends T> body) {
        return withLock(key, defaults, body);
    }

    @Override
    public <T> Flux<T> withLock(String key, LockOptions options, Flux<? extends T> body) {
        Checks.notNull(body, "body");
        return withLock(key, options, lease -> body);
    }

    @Override
    public <T> Mono<T> withLock(String key, Mono<? extends T> body) {
        return withLock(key, defaults, body);
    }

    @Override
    public <T> Mono<T> withLock(String key, LockOptions options, Mono<? extends T> body) {
        Checks.notNull(body, "body");
        return withLockMono(key, options, lease -> body);
    }

    @Override
    public <T> Mono<T> withLockMono(String key, Function<? super Lease, ? extends Mono<? extends T>> body) {
        return withLockMono(key, defaults, body);
    }

    @Override
    public <T> Mono<T> withLockMono(
            String key, LockOptions options, Function<? super Lease, ? extends Mono<? extends T>> body) {
        Checks.key(key);
        checkOptions(options);
        Checks.notNull(body, "body");
        HeldKey heldKey = new HeldKey(this, key);
        return Mono.deferContextual(ctx -> {
            DefaultLease held = ctx.getOrDefault(heldKey, null);
            if (held != null && !held.isReleased()) {
                return reenter(held, options).flatMap(h -> Mono.<T>from(body.apply(h)));
            }
            return Mono.usingWhen(
                    acquireLease(key, options),
                    lease -> Mono.defer(() -> {
                        Disposable watchdog = guard(lease, options);
                        return Mono.<T>from(body.apply(lease))
                                .takeUntilOther(lease.lost())
                                .flatMap(value -> DefaultReactiveRedLock.<T>lostOrEmpty(lease).defaultIfEmpty(value))
                                .switchIfEmpty(Mono.defer(() -> lostOrEmpty(lease)))
                                .doFinally(s -> watchdog.dispose())
                                .contextWrite(c -> c.put(heldKey, lease));
                    }),
                    DefaultLease::releaseFromScope,
                    (lease, error) -> lease.releaseFromScope(),
                    DefaultLease::releaseFromScope);
        });
    }

    /**
     * A nested scope on a key whose lease an enclosing scope holds: it runs under that lease, if the lease is still
     * valid (a lease past its deadline or lost fails the nested scope with the loss, rather than running it
     * unprotected) and gives what the nested options ask for (a fenced scope needs the lease to carry a token).
     */
    private static Mono<DefaultLease> reenter(DefaultLease held, LockOptions options) {
        return Mono.defer(() -> {
            LeaseLostException lost = held.lostAtEnd();
            if (lost != null) {
                return Mono.error(lost);
            }
            if (options.fencing() && held.fencingToken().isEmpty()) {
                return Mono.error(new IllegalStateException("a nested withLock on '" + held.key() + "' asks for a "
                        + "fencing token, but the enclosing scope's lease has none: take the outer lock with "
                        + "LockOptions.fencing(true)"));
            }
            return Mono.just(held);
        });
    }

    /** Starts the watchdog (or just the deadline check when renewal is off) for a scope. */
    private static Disposable guard(DefaultLease lease, LockOptions options) {
        if (options.watchdog()) {
            return lease.startWatchdog();
        }
        return lease.lost().subscribe(x -> {}, e -> {});
    }

    /**
     * At the end of a scope: the loss if the lease was lost, also when the body finished after the deadline but
     * before the loss timer ran (a busy scheduler); else empty.
     */
    private static <T> Mono<T> lostOrEmpty(DefaultLease lease) {
        LeaseLostException lost = lease.lostAtEnd();
        return lost != null ? Mono.error(lost) : Mono.empty();
    }

    // == Queries and lifecycle ==

    @Override
    public Mono<Boolean> isLocked(String key) {
        LockKeys keys = new LockKeys(keyPrefix, Checks.key(key));
        return ensureOpen(keys.key, "isLocked").then(Mono.create(sink -> new QuorumCall(
                        this,
                        LockScript.EXISTS,
                        keys.lockOnly,
                        new String[0],
                        defaults.nodeTimeout(),
                        v -> v == 1,
                        false,
                        false,
                        (call, yes, at) -> {
                            if (yes) {
                                sink.success(true);
                            } else if (call.countReplies(v -> v == 0) >= call.quorum()) {
                                sink.success(false);
                            } else {
                                sink.error(new QuorumUnavailableException(keys.key, "isLocked", call.nodeCount(),
                                        call.quorum(), call.yesCount(), Duration.ofNanos(at - call.startNanos()), false,
                                        call.failures()));
                            }
                        })
                .start(null)));
    }

    @Override
    public Flux<LockEvent> events() {
        return events.flux();
    }

    @Override
    public int activeLeases() {
        // A manual lease nobody released or watched ends at its deadline unnoticed: count it lost there (which also
        // stops tracking it), so neither the count nor the set grows with leases their owners dropped.
        for (DefaultLease lease : active) {
            lease.lostAtEnd();
        }
        return active.size();
    }

    @Override
    public List<NodeStatus> nodeStatus() {
        long now = now();
        List<NodeStatus> statuses = new java.util.ArrayList<>(channels.length);
        for (int i = 0; i < channels.length; i++) {
            statuses.add(guards[i].status(channels[i].heldOut(now)));
        }
        return statuses;
    }

    /** Longest wait of each close() phase for nodes that do not answer (a dead node must not hold close up). */
    private static final Duration CLOSE_PHASE_BOUND = Duration.ofSeconds(3);

    @Override
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
                    // 3. every release (of leases and of failed or cancelled attempts) hears from each node, so none
                    // is cut off by closing its connection
                    .then(Mono.defer(() -> awaitBounded(releases.drain())))
                    .then(Mono.defer(() -> {
                        closed = true;
                        health.stop();
                        localQueue.releaseAll();
                        CompletableFuture<?>[] closes = new CompletableFuture<?>[channels.length];
                        for (int i = 0; i < channels.length; i++) {
                            closes[i] = channels[i].closeAsync().toCompletableFuture();
                        }
                        return Mono.fromFuture(CompletableFuture.allOf(closes));
                    }))
                    .then(Mono.defer(() -> resources == null
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

    @Override
    public void close() {
        closeAsync().block(Duration.ofSeconds(10));
    }
}
