package dev.redlock;

import dev.redlock.internal.Checks;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Immutable settings of one lock acquisition: lease time, how long to wait, per-node timeout, clock drift,
 * backoff, watchdog and fencing.
 *
 * <p>A client carries default options ({@link RedLockBuilder#defaults(LockOptions)}); every operation also has a
 * form that takes options for that call. Start from {@link #defaults()} or {@link #builder()} and derive variants
 * with {@link #mutate()}:
 *
 * <pre>{@code
 * LockOptions quick = LockOptions.defaults().mutate().leaseTime(Duration.ofSeconds(5)).maxWait(Duration.ZERO).build();
 * }</pre>
 *
 * <p>Every value is checked when it is set, and the combination when {@link Builder#build()} runs; a bad value
 * raises {@link IllegalArgumentException} naming the option and the value.
 *
 * @since 0.1.0
 */
public final class LockOptions {

    /** Default lease time: how long the keys live on the nodes without renewal. */
    public static final Duration DEFAULT_LEASE_TIME = Duration.ofSeconds(30);
    /** Default time an acquire keeps retrying while the lock is held or no quorum answers. */
    public static final Duration DEFAULT_MAX_WAIT = Duration.ofSeconds(10);
    /** Default time to wait for one node's reply, enforced by the library (never Lettuce's 60 s default). */
    public static final Duration DEFAULT_NODE_TIMEOUT = Duration.ofMillis(100);
    /** Default clock drift factor of the Redlock algorithm: drift = lease × factor + 2 ms. */
    public static final double DEFAULT_CLOCK_DRIFT_FACTOR = 0.01;
    /** Default fraction of the lease time after which the watchdog renews a lease. */
    public static final double DEFAULT_RENEWAL_RATIO = 1.0 / 3.0;
    /** Default backoff between attempts. */
    public static final Backoff DEFAULT_BACKOFF = Backoff.equalJitter(Duration.ofMillis(10), Duration.ofMillis(250));

    private static final LockOptions DEFAULTS = new Builder().build();

    private final Duration leaseTime;
    private final Duration maxWait;
    private final Duration nodeTimeout;
    private final double clockDriftFactor;
    private final Backoff backoff;
    private final boolean watchdog;
    private final double renewalRatio;
    private final @Nullable Duration maxHoldTime;
    private final boolean fencing;
    private final boolean adaptiveLeaseTime;

    private LockOptions(Builder b) {
        this.leaseTime = b.leaseTime;
        this.maxWait = b.maxWait;
        this.nodeTimeout = b.nodeTimeout;
        this.clockDriftFactor = b.clockDriftFactor;
        this.backoff = b.backoff;
        this.watchdog = b.watchdog;
        this.renewalRatio = b.renewalRatio;
        this.maxHoldTime = b.maxHoldTime;
        this.fencing = b.fencing;
        this.adaptiveLeaseTime = b.adaptiveLeaseTime;
    }

    /**
     * The default options: lease time 30 s, max wait 10 s, node timeout 100 ms, drift factor 0.01, equal-jitter
     * backoff from 10 ms to 250 ms, watchdog on at a third of the lease time, no maximum hold time, no fencing, a
     * fixed lease time.
     *
     * @return the default options
     */
    public static LockOptions defaults() {
        return DEFAULTS;
    }

    /**
     * A builder that starts from the defaults.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder that starts from these options; these stay unchanged.
     *
     * @return a new builder
     */
    public Builder mutate() {
        return new Builder(this);
    }

    /**
     * How long the keys live on the nodes; the lease is valid for this minus the acquire time and clock drift.
     *
     * @return the lease time, positive whole milliseconds
     */
    public Duration leaseTime() {
        return leaseTime;
    }

    /**
     * How long {@code acquire} keeps retrying before it gives up.
     *
     * @return the wait, whole milliseconds; zero means one attempt
     */
    public Duration maxWait() {
        return maxWait;
    }

    /**
     * How long one node may take to answer one command before it counts as failed for that command.
     *
     * @return the timeout, positive whole milliseconds
     */
    public Duration nodeTimeout() {
        return nodeTimeout;
    }

    /**
     * The Redlock clock drift factor: the share of the lease time set aside for clocks running at different rates.
     *
     * @return the factor, in {@code [0, 0.5)}
     */
    public double clockDriftFactor() {
        return clockDriftFactor;
    }

    /**
     * The delay between two attempts of one acquire.
     *
     * @return the backoff
     */
    public Backoff backoff() {
        return backoff;
    }

    /**
     * Whether {@code withLock} renews the lease while the protected publisher runs.
     *
     * @return {@code true} when the watchdog is on
     */
    public boolean watchdog() {
        return watchdog;
    }

    /**
     * The fraction of the lease time after which the watchdog renews.
     *
     * @return the ratio, in {@code (0, 0.9]}
     */
    public double renewalRatio() {
        return renewalRatio;
    }

    /**
     * The watchdog's renewal period for this lease time: lease time × renewal ratio, in whole milliseconds. After an
     * {@link Lease#extend} to another lease time, the watchdog renews at that lease time's period.
     *
     * @return the period, at least 1 ms
     */
    public Duration renewalInterval() {
        return Duration.ofMillis(Math.max(1, (long) (leaseTime.toMillis() * renewalRatio)));
    }

    /**
     * The longest time the watchdog keeps a lease alive; once it has passed, renewals stop and the lease is lost
     * ({@link LeaseLostException.Reason#MAX_HOLD_TIME_EXCEEDED}) at its deadline.
     *
     * @return the bound; empty when the watchdog renews as long as the publisher runs
     */
    public Optional<Duration> maxHoldTime() {
        return Optional.ofNullable(maxHoldTime);
    }

    /**
     * Whether leases carry a fencing token ({@link Lease#fencingToken()}), which costs one more round trip per
     * acquire.
     *
     * @return {@code true} when fencing is on
     */
    public boolean fencing() {
        return fencing;
    }

    /**
     * Whether the lease time adapts to how long leases of this lock (or its group) were held: the client keeps the
     * last 128 hold times of such leases per group ({@link RedLockBuilder#adaptiveLeaseGroups}) and acquires with
     * {@code clamp((p95 + 2σ) × 3, leaseTime, 10 × leaseTime)}, never above the client's maximum lease time; with
     * fewer than 8 hold times it uses {@link #leaseTime()}.
     *
     * @return {@code true} when the lease time adapts; {@code false} (the default) for a fixed lease time
     */
    public boolean adaptiveLeaseTime() {
        return adaptiveLeaseTime;
    }

    /**
     * The clock drift allowance for a lease of this length: lease × factor + 2 ms.
     *
     * @param lease the lease time
     * @return the allowance in nanoseconds
     */
    public long driftNanos(Duration lease) {
        return (long) (lease.toNanos() * clockDriftFactor) + 2_000_000L;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof LockOptions)) {
            return false;
        }
        LockOptions that = (LockOptions) o;
        return Double.compare(clockDriftFactor, that.clockDriftFactor) == 0
                && watchdog == that.watchdog
                && Double.compare(renewalRatio, that.renewalRatio) == 0
                && fencing == that.fencing
                && adaptiveLeaseTime == that.adaptiveLeaseTime
                && leaseTime.equals(that.leaseTime)
                && maxWait.equals(that.maxWait)
                && nodeTimeout.equals(that.nodeTimeout)
                && backoff.equals(that.backoff)
                && Objects.equals(maxHoldTime, that.maxHoldTime);
    }

    @Override
    public int hashCode() {
        return Objects.hash(
                leaseTime, maxWait, nodeTimeout, clockDriftFactor, backoff, watchdog, renewalRatio, maxHoldTime, fencing,
                adaptiveLeaseTime);
    }

    @Override
    public String toString() {
        return "LockOptions{leaseTime=" + leaseTime + ", maxWait=" + maxWait + ", nodeTimeout=" + nodeTimeout
                + ", clockDriftFactor=" + clockDriftFactor + ", backoff=" + backoff + ", watchdog=" + watchdog
                + ", renewalRatio=" + renewalRatio + ", maxHoldTime=" + maxHoldTime + ", fencing=" + fencing
                + ", adaptiveLeaseTime=" + adaptiveLeaseTime + '}';
    }

    /**
     * Builds {@link LockOptions}; each setter checks its value at once. Not thread-safe.
     *
     * @since 0.1.0
     */
    public static final class Builder {
        private Duration leaseTime = DEFAULT_LEASE_TIME;
        private Duration maxWait = DEFAULT_MAX_WAIT;
        private Duration nodeTimeout = DEFAULT_NODE_TIMEOUT;
        private double clockDriftFactor = DEFAULT_CLOCK_DRIFT_FACTOR;
        private Backoff backoff = DEFAULT_BACKOFF;
        private boolean watchdog = true;
        private double renewalRatio = DEFAULT_RENEWAL_RATIO;
        private @Nullable Duration maxHoldTime;
        private boolean fencing;
        private boolean adaptiveLeaseTime;

        private Builder() {}

        private Builder(LockOptions o) {
            this.leaseTime = o.leaseTime;
            this.maxWait = o.maxWait;
            this.nodeTimeout = o.nodeTimeout;
            this.clockDriftFactor = o.clockDriftFactor;
            this.backoff = o.backoff;
            this.watchdog = o.watchdog;
            this.renewalRatio = o.renewalRatio;
            this.maxHoldTime = o.maxHoldTime;
            this.fencing = o.fencing;
            this.adaptiveLeaseTime = o.adaptiveLeaseTime;
        }

        /**
         * How long the keys live on the nodes (default 30 s). It must not exceed the client's maximum lease time
         * ({@link RedLockBuilder#maxLeaseTime}), which operations check.
         *
         * @param leaseTime positive, whole milliseconds, at most one day
         * @return this builder
         * @throws IllegalArgumentException for a null or bad duration
         */
        public Builder leaseTime(Duration leaseTime) {
            this.leaseTime = Checks.positiveMillis(leaseTime, "leaseTime");
            return this;
        }

        /**
         * How long an acquire keeps retrying while the lock is held or no quorum answers (default 10 s).
         *
         * @param maxWait zero (a single attempt) or positive, whole milliseconds, at most one day
         * @return this builder
         * @throws IllegalArgumentException for a null or bad duration
         */
        public Builder maxWait(Duration maxWait) {
            this.maxWait = Checks.nonNegativeMillis(maxWait, "maxWait");
            return this;
        }

        /**
         * How long one node may take to answer one command (default 100 ms).
         *
         * @param nodeTimeout positive, whole milliseconds, and shorter than the lease time minus the clock drift
         *     (checked by {@link #build()})
         * @return this builder
         * @throws IllegalArgumentException for a null or bad duration
         */
        public Builder nodeTimeout(Duration nodeTimeout) {
            this.nodeTimeout = Checks.positiveMillis(nodeTimeout, "nodeTimeout");
            return this;
        }

        /**
         * The Redlock clock drift factor (default 0.01): the drift allowance is lease time × factor + 2 ms.
         *
         * @param clockDriftFactor in {@code [0, 0.5)}
         * @return this builder
         * @throws IllegalArgumentException for a value outside {@code [0, 0.5)}
         */
        public Builder clockDriftFactor(double clockDriftFactor) {
            if (!(clockDriftFactor >= 0.0 && clockDriftFactor < 0.5)) {
                throw new IllegalArgumentException("clockDriftFactor must be in [0, 0.5), got " + clockDriftFactor);
            }
            this.clockDriftFactor = clockDriftFactor;
            return this;
        }

        /**
         * The delay between two attempts of one acquire (default {@link LockOptions#DEFAULT_BACKOFF}).
         *
         * @param backoff the backoff
         * @return this builder
         * @throws IllegalArgumentException for null
         */
        public Builder backoff(Backoff backoff) {
            this.backoff = Checks.notNull(backoff, "backoff");
            return this;
        }

        /**
         * Whether {@code withLock} renews the lease while its publisher runs (default {@code true}).
         *
         * @param watchdog {@code false} to let the lease run out after its lease time
         * @return this builder
         */
        public Builder watchdog(boolean watchdog) {
            this.watchdog = watchdog;
            return this;
        }

        /**
         * The fraction of the lease time after which the watchdog renews (default 1/3).
         *
         * @param renewalRatio in {@code (0, 0.9]}
         * @return this builder
         * @throws IllegalArgumentException for a value outside {@code (0, 0.9]}
         */
        public Builder renewalRatio(double renewalRatio) {
            if (!(renewalRatio > 0.0 && renewalRatio <= 0.9)) {
                throw new IllegalArgumentException("renewalRatio must be in (0, 0.9], got " + renewalRatio);
            }
            this.renewalRatio = renewalRatio;
            return this;
        }

        /**
         * The longest time the watchdog keeps a lease alive, counted from the acquire.
         *
         * @param maxHoldTime positive, whole milliseconds, at most one day; {@code null} (the default) renews as long
         *     as the publisher runs
         * @return this builder
         * @throws IllegalArgumentException for a bad duration
         */
        public Builder maxHoldTime(@Nullable Duration maxHoldTime) {
            this.maxHoldTime = maxHoldTime == null ? null : Checks.positiveMillis(maxHoldTime, "maxHoldTime");
            return this;
        }

        /**
         * Whether leases carry a strictly increasing fencing token (default {@code false}); see
         * {@link Lease#fencingToken()}.
         *
         * @param fencing {@code true} to make a token for every lease, at one more round trip per acquire
         * @return this builder
         */
        public Builder fencing(boolean fencing) {
            this.fencing = fencing;
            return this;
        }

        /**
         * Whether the lease time adapts to observed hold times (default {@code false}); see
         * {@link LockOptions#adaptiveLeaseTime()}. {@link #leaseTime(Duration)} stays the floor, and ten times it the
         * ceiling. Locks only: a semaphore rejects options with it.
         *
         * @param adaptiveLeaseTime {@code true} to let the lease time follow the hold times of this lock's group
         * @return this builder
         */
        public Builder adaptiveLeaseTime(boolean adaptiveLeaseTime) {
            this.adaptiveLeaseTime = adaptiveLeaseTime;
            return this;
        }

        /**
         * Checks the combination and builds.
         *
         * @return the options
         * @throws IllegalArgumentException if the node timeout plus the clock drift leaves no validity
         */
        public LockOptions build() {
            long driftMillis = (long) Math.ceil(leaseTime.toMillis() * clockDriftFactor) + 2;
            if (nodeTimeout.toMillis() + driftMillis >= leaseTime.toMillis()) {
                throw new IllegalArgumentException("nodeTimeout (" + nodeTimeout + ") plus clock drift (" + driftMillis
                        + " ms) must be shorter than leaseTime (" + leaseTime + "), or no lease could ever be valid");
            }
            return new LockOptions(this);
        }
    }
}
