package dev.redlock.internal.ratelimit;

import dev.redlock.QuorumUnavailableException;
import dev.redlock.internal.Checks;
import dev.redlock.internal.engine.Engine;
import dev.redlock.internal.engine.QuorumRule;
import dev.redlock.internal.node.NodeChannel;
import dev.redlock.internal.quorum.QuorumCall;
import dev.redlock.ratelimit.RateLimit;
import dev.redlock.ratelimit.RateLimitDecision;
import dev.redlock.ratelimit.RateLimitExceededException;
import dev.redlock.ratelimit.RedRateLimiter;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * {@link RedRateLimiter} on the engine: {@link GcraScript#ACQUIRE} on one node ({@link RateLimit.Mode#STRICT}) or
 * on every node with a majority deciding ({@link RateLimit.Mode#QUORUM}), {@link GcraScript#ADJUST} to refund a
 * request where it was admitted but not handed out and to charge an admitted one where it was refused, and waits
 * scheduled from the retry-after. The bounds and their argument are in
 * {@link RedRateLimiter}'s Javadoc. Not API: {@code ReactiveRedLock.rateLimiter} makes it.
 */
public final class GcraRateLimiter implements RedRateLimiter {

    private static final Logger log = LoggerFactory.getLogger(GcraRateLimiter.class);

    private final Engine engine;
    private final String name;
    private final RateLimit limit;
    private final String[] keys;
    /** Emission interval (period / permits) in µs. */
    private final double intervalMicros;
    private final String intervalArg;
    private final String burstArg;
    /** The one node of a strict limiter, or -1. */
    private final int strictNode;
    private final Duration nodeTimeout;

    private GcraRateLimiter(Engine engine, String keyPrefix, String name, RateLimit limit) {
        this.engine = engine;
        this.name = name;
        this.limit = limit;
        this.keys = new String[] {keyPrefix + "rate:{" + name + "}"};
        this.intervalMicros = limit.period().toNanos() / 1000.0 / limit.permits();
        this.intervalArg = decimal(intervalMicros);
        this.burstArg = Integer.toString(limit.burst());
        this.strictNode = limit.mode() == RateLimit.Mode.STRICT ? strictNode(engine, name) : -1;
        this.nodeTimeout = engine.defaults().nodeTimeout();
    }

    /**
     * A limiter of {@code limit} for {@code name} whose key is {@code <keyPrefix>rate:{<name>}}.
     *
     * @throws IllegalArgumentException for a null or blank name (or one that is not a valid key), or a null limit
     */
    public static RedRateLimiter create(Engine engine, String keyPrefix, String name, RateLimit limit) {
        Checks.key(name, "name");
        Checks.notNull(limit, "limit");
        return new GcraRateLimiter(engine, keyPrefix, name, limit);
    }

    /**
     * The strict limiter's node: {@code floorMod(name.hashCode(), N)} in the nodes sorted by {@code host:port}, so
     * clients that list the same nodes in another order still agree ({@code String.hashCode} is specified).
     */
    static int strictNode(Engine engine, String name) {
        String[] names = Arrays.stream(engine.channels()).map(c -> c.name()).toArray(String[]::new);
        Integer[] order = IntStream.range(0, names.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparing(i -> names[i]));
        return order[Math.floorMod(name.hashCode(), names.length)];
    }

    /** A decimal Lua's {@code tonumber} reads exactly as Java wrote it (no exponent). */
    private static String decimal(double value) {
        return BigDecimal.valueOf(value).toPlainString();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public RateLimit limit() {
        return limit;
    }

    private int checkPermits(int permits) {
        if (permits < 1) {
            throw new IllegalArgumentException("permits must be at least 1, got " + permits);
        }
        if (permits > limit.burst()) {
            throw new IllegalArgumentException("permits must be at most the burst " + limit.burst()
                    + " of rate limit '" + name + "' (more could never be granted), got " + permits);
        }
        return permits;
    }

    @Override
    public Mono<RateLimitDecision> tryAcquire(int permits) {
        checkPermits(permits);
        return decide(permits, "tryAcquire");
    }

    @Override
    public Mono<RateLimitDecision> acquire(int permits) {
        checkPermits(permits);
        return Mono.defer(() -> attempt(permits, 0, null));
    }

    @Override
    public Mono<RateLimitDecision> acquire(int permits, Duration maxWait) {
        checkPermits(permits);
        Checks.nonNegativeMillis(maxWait, "maxWait");
        return Mono.defer(() -> attempt(permits, engine.now() + maxWait.toNanos(), maxWait));
    }

    /**
     * One request, then, when refused, the next one scheduled after its retry-after, until {@code deadline} (engine
     * clock, nanoseconds; no deadline when {@code maxWait} is null). Fails at once when the retry-after lies beyond
     * the deadline. A request that too few nodes answered is asked once more a node timeout later, if the deadline
     * allows (the second failure is the acquire's).
     */
    private Mono<RateLimitDecision> attempt(int permits, long deadline, @Nullable Duration maxWait) {
        return decide(permits, "acquire").onErrorResume(QuorumUnavailableException.class, e -> {
            // too few nodes answered: asked again one node timeout later, while the wait allows
            if (maxWait != null && nodeTimeout.toNanos() > deadline - engine.now()) {
                return Mono.error(e);
            }
            return Mono.delay(nodeTimeout, engine.scheduler()).then(Mono.defer(() -> decide(permits, "acquire")));
        }).flatMap(d -> {
            if (d.allowed()) {
                return Mono.just(d);
            }
            if (maxWait != null && d.retryAfter().toNanos() > deadline - engine.now()) {
                return Mono.error(new RateLimitExceededException(name, permits, d.retryAfter(), maxWait));
            }
            return Mono.delay(d.retryAfter(), engine.scheduler())
                    .then(Mono.defer(() -> attempt(permits, deadline, maxWait)));
        });
    }

    private Mono<RateLimitDecision> decide(int permits, String operation) {
        return engine.ensureOpen(name, operation).then(warm()).then(Mono.<RateLimitDecision>create(sink -> {
            Request request = new Request(permits, sink);
            sink.onCancel(request::cancel);
            if (strictNode >= 0) {
                request.strict();
            } else {
                request.quorum();
            }
        })).doOnNext(d -> engine.eventBus().rateLimit(name, d.allowed()));
    }

    /**
     * Connects first when fewer than a quorum of nodes have a connection (the first use of a client that did not
     * call {@code connect()}): connecting must not eat the node timeout of a request. The outcome is the request's
     * to report.
     */
    private Mono<Void> warm() {
        if (strictNode >= 0) {
            return Mono.empty(); // Engine.callNode connects within the connect timeout
        }
        return Mono.defer(() -> {
            int ready = 0;
            for (NodeChannel c : engine.channels()) {
                if (c.ready() != null) {
                    ready++;
                }
            }
            return ready >= engine.quorum() ? Mono.<Void>empty() : engine.connect().onErrorResume(e -> Mono.empty());
        });
    }

    /**
     * Moves node {@code i}'s TAT by {@code sign · permits} intervals without a check: gives a request back (-1) or
     * charges it (+1). Fire and forget: a refund that is lost only under-admits; a charge that is lost leaves the
     * {@code N/q} bound, which does not count on it.
     */
    private void adjust(int i, int permits, int sign) {
        engine.callNode(i, GcraScript.ADJUST, keys, new String[] {decimal(sign * permits * intervalMicros)},
                        Engine.releaseTimeout(engine.defaults()))
                .subscribe(v -> {}, e -> log.debug("adjusting rate limit '{}' did not reach node {}", name, i, e));
    }

    private RateLimitDecision refused(long retryAfterMicros) {
        return new RateLimitDecision(false, 0, Duration.ofNanos(Math.multiplyExact(retryAfterMicros, 1000L)));
    }

    private static RateLimitDecision allowed(long remaining) {
        return new RateLimitDecision(true, remaining, Duration.ZERO);
    }

    /** One request for permits: its nodes' replies, and its subscriber, which may cancel before the decision. */
    private final class Request implements QuorumCall.Listener {

        private final int permits;
        private final MonoSink<RateLimitDecision> sink;
        private volatile boolean cancelled;

        Request(int permits, MonoSink<RateLimitDecision> sink) {
            this.permits = permits;
            this.sink = sink;
        }

        void cancel() {
            cancelled = true;
        }

        String[] args() {
            return new String[] {intervalArg, burstArg, Integer.toString(permits)};
        }

        void strict() {
            long start = engine.now();
            // subscribed apart from the sink: a reply that comes after a cancel is still seen, and refunded
            engine.callNode(strictNode, GcraScript.ACQUIRE, keys, args(), nodeTimeout).subscribe(v -> {
                if (v >= 0 && cancelled) {
                    adjust(strictNode, permits, -1);
                } else {
                    sink.success(v >= 0 ? allowed(v) : refused(-1 - v));
                }
            }, e -> {
                if (!cancelled) { // an error after a cancel would only be dropped (and logged as such)
                    sink.error(new QuorumUnavailableException(name, QuorumUnavailableException.Operation.ACQUIRE,
                            1, 1, 0, Duration.ofNanos(engine.now() - start), false,
                            Map.of(engine.channels()[strictNode].name(), e)));
                }
            });
        }

        void quorum() {
            // every node's answer (or timeout) is waited for: the refund must know every node that admitted
            new QuorumCall(engine, GcraScript.ACQUIRE, QuorumRule.MAJORITY, keys, args(), nodeTimeout, v -> v >= 0,
                    false, false, this).start(null);
        }

        @Override
        public void decided(QuorumCall call, boolean yes, long atNanos) {
            int n = call.nodeCount();
            int q = call.quorum();
            long[] remaining = new long[n]; // per node: permits left, -1 refused or no reply
            long[] waits = new long[n]; // per node: retry-after in µs, 0 admitted, MAX_VALUE no reply
            int replied = 0;
            for (int i = 0; i < n; i++) {
                Long v = call.countedReply(i);
                if (v == null) {
                    remaining[i] = -1;
                    waits[i] = Long.MAX_VALUE;
                } else {
                    replied++;
                    remaining[i] = v >= 0 ? v : -1;
                    waits[i] = v >= 0 ? 0 : -1 - v;
                }
            }
            boolean admitted = yes && !cancelled;
            for (int i = 0; i < n; i++) {
                Long v = call.countedReply(i);
                if (admitted && v != null && v < 0) {
                    adjust(i, permits, 1); // charged where it was refused: every node that answered counts it
                } else if (!admitted && v != null && v >= 0) {
                    adjust(i, permits, -1); // given back where it was admitted: nobody got it
                }
            }
            if (admitted) {
                // what a majority still has: the q-th largest
                Arrays.sort(remaining);
                sink.success(allowed(remaining[n - q]));
                return;
            }
            if (cancelled) {
                return; // nobody to tell; what was admitted is given back above
            }
            if (replied < q) {
                sink.error(new QuorumUnavailableException(name, QuorumUnavailableException.Operation.ACQUIRE, n, q,
                        call.yesCount(), Duration.ofNanos(atNanos - call.startNanos()), false, call.failures()));
            } else if (!yes) {
                // when a majority would admit it: the q-th smallest retry-after
                Arrays.sort(waits);
                sink.success(refused(waits[q - 1]));
            }
        }
    }
}
