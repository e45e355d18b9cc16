package dev.redlock.micrometer;

import dev.redlock.LeaseLostException;
import dev.redlock.NodeStatus;
import dev.redlock.metrics.LockMetricsRecorder;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Function;
import reactor.core.observability.micrometer.Micrometer;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The Micrometer binding: a {@link LockMetricsRecorder} that records a client's acquires, leases, renewals, losses,
 * node replies and node states as meters on a {@link MeterRegistry}, and, given an {@link ObservationRegistry}, wraps
 * every acquire and every scope's body in an Observation (a span under a tracing bridge). Install it on the client:
 *
 * <pre>{@code
 * RedlockMetrics metrics = RedlockMetrics.builder(meterRegistry)
 *         .groupBy(key -> key.substring(0, key.indexOf(':')))   // optional: orders:42 -> orders
 *         .build();
 * ReactiveRedLock redlock = ReactiveRedLock.builder().nodes(...).metricsRecorder(metrics).build();
 * }</pre>
 *
 * <p>Meters (tag {@code lock.group} is the lock's group: {@code all} unless {@link Builder#groupBy} is set):
 * <table>
 * <caption>meters</caption>
 * <tr><th>name</th><th>type</th><th>tags</th><th>what</th></tr>
 * <tr><td>{@code redlock.acquire}</td><td>timer</td><td>lock.group, outcome</td><td>the wait of each acquire, by how it
 *     ended: acquired, timed_out (held by another owner until maxWait), quorum_unavailable, closed, cancelled,
 *     error</td></tr>
 * <tr><td>{@code redlock.held}</td><td>timer</td><td>lock.group, release</td><td>hold time of each released lease;
 *     release confirmed or unconfirmed (its keys expire with the lease time)</td></tr>
 * <tr><td>{@code redlock.leases.active}</td><td>gauge</td><td>lock.group</td><td>leases held now</td></tr>
 * <tr><td>{@code redlock.lease.validity}</td><td>timer</td><td>lock.group</td><td>validity left at each grant: the
 *     lease time minus the quorum's time and the drift (a small margin: slow nodes or too short a lease)</td></tr>
 * <tr><td>{@code redlock.renewals}</td><td>counter</td><td>lock.group, result (ok, failed)</td><td>renewals</td></tr>
 * <tr><td>{@code redlock.leases.lost}</td><td>counter</td><td>lock.group, reason</td><td>leases lost, by
 *     {@link LeaseLostException.Reason}</td></tr>
 * <tr><td>{@code redlock.lease.time}</td><td>gauge</td><td>lock.group</td><td>the adaptive lease time in seconds
 *     (groups that use one)</td></tr>
 * <tr><td>{@code redlock.node.replies}</td><td>timer</td><td>node, script, reply (yes, no, error, timeout,
 *     skipped)</td><td>each node's answer to each quorum call and its latency: votes, errors, timeouts</td></tr>
 * <tr><td>{@code redlock.node.up}</td><td>gauge</td><td>node</td><td>1 while health checks find the node up, else
 *     0</td></tr>
 * <tr><td>{@code redlock.node.breaker}</td><td>gauge</td><td>node, state (closed, open, half_open,
 *     disabled)</td><td>1 for the breaker's current state, 0 for the others</td></tr>
 * <tr><td>{@code redlock.node.held.out}</td><td>timer</td><td>node</td><td>each restart-guard hold-out and its
 *     length</td></tr>
 * <tr><td>{@code redlock.semaphore.permits.held}</td><td>gauge</td><td>lock.group</td><td>permits this client holds
 *     </td></tr>
 * <tr><td>{@code redlock.ratelimit.decisions}</td><td>counter</td><td>lock.group, decision (allowed,
 *     rejected)</td><td>rate-limiter decisions</td></tr>
 * </table>
 *
 * <p>Node tags are {@code host:port} (N values); script tags a fixed set of script names. The wait and hold timers
 * publish a percentile histogram by default ({@link Builder#percentileHistogram}), with the service-level
 * objectives given ({@link Builder#serviceLevelObjectives}).
 *
 * <p>Cardinality: lock names can be unbounded, so names never become tags. {@link Builder#groupBy} maps a name to a
 * group; at most {@link Builder#maxGroups} groups get meters of their own, the rest share the group {@code other}:
 * at most {@code 11 x (maxGroups + 1)} group meters, and {@code 6 + scripts x replies} per node.
 *
 * <p>Observations (with {@link Builder#observationRegistry}): {@code redlock.lock.acquire} from subscription to the
 * lease, error or cancel, and {@code redlock.lock.hold} around each scope's body ({@code withLock}, {@code
 * withPermits}, ...), both with the low-cardinality key value {@code lock.group}; their parent is the Observation in
 * the subscriber's Context, so a tracing bridge shows them as child spans of the request.
 *
 * <p>Every method is fast and non-blocking: called on the threads that run lock operations.
 *
 * @since 0.1.0
 */
public final class RedlockMetrics implements LockMetricsRecorder {

    /** The group of every name when no {@link Builder#groupBy} is set. */
    public static final String ALL = "all";
    /** The group of names beyond {@link Builder#maxGroups}. */
    public static final String OTHER = "other";

    private final MeterRegistry registry;
    private final ObservationRegistry observations;
    private final Function<String, String> groupBy;
    private final int maxGroups;
    private final boolean percentileHistogram;
    private final Duration[] slos;
    private final ConcurrentMap<String, GroupMeters> groups = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, NodeMeters> nodes = new ConcurrentHashMap<>();

    private RedlockMetrics(Builder b) {
        this.registry = b.registry;
        this.observations = b.observations;
        this.groupBy = b.groupBy;
        this.maxGroups = b.maxGroups;
        this.percentileHistogram = b.percentileHistogram;
        this.slos = b.slos.clone();
    }

    /**
     * A builder of a binding that records on {@code registry}.
     *
     * @param registry where the meters go
     * @return a builder
     * @throws NullPointerException when {@code registry} is null
     */
    public static Builder builder(MeterRegistry registry) {
        return new Builder(Objects.requireNonNull(registry, "registry"));
    }

    /**
     * The group a lock's name is recorded under: the {@link Builder#groupBy} function's value, {@value #OTHER} once
     * {@link Builder#maxGroups} groups exist (or when the function fails or gives a blank group), {@value #ALL}
     * without a function.
     *
     * @param name a lock's name
     * @return its group
     */
    public String groupOf(String name) {
        return group(name).name;
    }

    GroupMeters group(String name) {
        String group;
        try {
            group = groupBy.apply(name);
        } catch (RuntimeException e) {
            group = OTHER;
        }
        if (group == null || group.isBlank()) {
            group = OTHER;
        }
        GroupMeters meters = groups.get(group);
        if (meters != null) {
            return meters;
        }
        if (groups.size() - (groups.containsKey(OTHER) ? 1 : 0) >= maxGroups && !OTHER.equals(group)) {
            group = OTHER;
            meters = groups.get(OTHER);
            if (meters != null) {
                return meters;
            }
        }
        // first names racing here may exceed maxGroups by at most one group per thread
        return groups.computeIfAbsent(group, g -> new GroupMeters(registry, g, percentileHistogram, slos));
    }

    private NodeMeters node(String node) {
        NodeMeters meters = nodes.get(node);
        return meters != null ? meters : nodes.computeIfAbsent(node, n -> new NodeMeters(registry, n));
    }

    @Override
    public void acquireEnded(String name, AcquireOutcome outcome, Duration waited) {
        group(name).acquireEnded(outcome, waited);
    }

    @Override
    public void leaseAcquired(String name, Duration validity) {
        group(name).leaseAcquired(validity);
    }

    @Override
    public void leaseRenewed(String name, boolean renewed) {
        group(name).renewed(renewed);
    }

    @Override
    public void leaseLost(String name, LeaseLostException.Reason reason) {
        group(name).lost(reason);
    }

    @Override
    public void leaseReleased(String name, Duration held, boolean confirmed) {
        group(name).released(held, confirmed);
    }

    @Override
    public void adaptiveLeaseTime(String group, Duration leaseTime) {
        group(group).leaseTime(leaseTime);
    }

    @Override
    public void nodeStateChanged(String node, boolean up) {
        node(node).up(up);
    }

    @Override
    public void nodeHeldOut(String node, Duration heldOutFor) {
        node(node).heldOut(heldOutFor);
    }

    @Override
    public void nodeReplied(String node, String script, NodeReply reply, Duration latency) {
        node(node).replied(script, reply, latency);
    }

    @Override
    public void breakerStateChanged(String node, NodeStatus.BreakerState state) {
        node(node).breaker(state);
    }

    @Override
    public void permitsHeld(String semaphore, int delta) {
        group(semaphore).permits(delta);
    }

    @Override
    public void rateLimitDecided(String limiter, boolean allowed) {
        group(limiter).decided(allowed);
    }

    @Override
    public <T> Mono<T> observeAcquire(String name, Mono<T> acquire) {
        if (observations.isNoop()) {
            return acquire;
        }
        return acquire.name("redlock.lock.acquire").tag("lock.group", groupOf(name))
                .tap(Micrometer.observation(observations));
    }

    @Override
    public <T> Flux<T> observeHold(String name, Flux<T> body) {
        if (observations.isNoop()) {
            return body;
        }
        return body.name("redlock.lock.hold").tag("lock.group", groupOf(name))
                .tap(Micrometer.observation(observations));
    }

    @Override
    public String toString() {
        return "RedlockMetrics{" + registry.getClass().getSimpleName() + ", groups=" + groups.size() + "/" + maxGroups
                + ", nodes=" + nodes.size() + '}';
    }

    /**
     * Builds a {@link RedlockMetrics}. Not thread-safe; the binding it builds is immutable in its options.
     *
     * @since 0.1.0
     */
    public static final class Builder {

        private final MeterRegistry registry;
        private ObservationRegistry observations = ObservationRegistry.NOOP;
        private Function<String, String> groupBy = name -> ALL;
        private int maxGroups = 100;
        private boolean percentileHistogram = true;
        private Duration[] slos = new Duration[0];

        private Builder(MeterRegistry registry) {
            this.registry = registry;
        }

        /**
         * Maps a lock's name to the group its meters are tagged with, for example {@code orders:42 -> orders}. Off by
         * default: every name is in group {@value RedlockMetrics#ALL}. A function that throws or gives a blank group
         * puts the name in {@value RedlockMetrics#OTHER}.
         *
         * @param groupBy the mapping; it must be fast and must not block
         * @return this builder
         * @throws NullPointerException when {@code groupBy} is null
         */
        public Builder groupBy(Function<String, String> groupBy) {
            this.groupBy = Objects.requireNonNull(groupBy, "groupBy");
            return this;
        }

        /**
         * The most groups with meters of their own (default 100), {@value RedlockMetrics#OTHER} not counted; names
         * of further groups are recorded under {@value RedlockMetrics#OTHER}, so a {@link #groupBy} that returns unbounded values cannot create unbounded
         * meters.
         *
         * @param maxGroups at least 1
         * @return this builder
         * @throws IllegalArgumentException when {@code maxGroups < 1}
         */
        public Builder maxGroups(int maxGroups) {
            if (maxGroups < 1) {
                throw new IllegalArgumentException("maxGroups must be at least 1, got " + maxGroups);
            }
            this.maxGroups = maxGroups;
            return this;
        }

        /**
         * Whether the wait ({@code redlock.acquire}) and hold ({@code redlock.held}) timers publish a percentile
         * histogram (default {@code true}: Prometheus' {@code histogram_quantile} over {@code _bucket} series).
         *
         * @param percentileHistogram whether to publish it
         * @return this builder
         */
        public Builder percentileHistogram(boolean percentileHistogram) {
            this.percentileHistogram = percentileHistogram;
            return this;
        }

        /**
         * Service-level objectives of the wait and hold timers: fixed histogram buckets at these durations (none by
         * default), so "acquired within 50 ms" is a bucket.
         *
         * @param slos positive durations
         * @return this builder
         * @throws IllegalArgumentException when one is null, zero or negative
         */
        public Builder serviceLevelObjectives(Duration... slos) {
            Duration[] copy = slos.clone();
            for (int i = 0; i < copy.length; i++) {
                if (copy[i] == null || copy[i].isZero() || copy[i].isNegative()) {
                    throw new IllegalArgumentException("serviceLevelObjectives[" + i + "] must be a positive duration,"
                            + " got " + copy[i] + " in " + Arrays.toString(copy));
                }
            }
            this.slos = copy;
            return this;
        }

        /**
         * Where the acquire and hold Observations go (default {@link ObservationRegistry#NOOP}: none).
         *
         * @param observations the registry
         * @return this builder
         * @throws NullPointerException when {@code observations} is null
         */
        public Builder observationRegistry(ObservationRegistry observations) {
            this.observations = Objects.requireNonNull(observations, "observations");
            return this;
        }

        /**
         * The binding; install it with {@code RedLockBuilder.metricsRecorder}.
         *
         * @return a new binding
         */
        public RedlockMetrics build() {
            return new RedlockMetrics(this);
        }
    }
}
