package dev.redlock;

import dev.redlock.internal.Checks;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The per-node circuit breaker: a node that keeps failing is skipped at once in acquires, extensions and queries,
 * instead of costing its timeout every time, and is probed back in after {@link #openFor()} (releases always go out).
 * An open breaker only skips its node while the other nodes can still form a quorum. Immutable.
 *
 * <pre>{@code
 * ReactiveRedLock.builder().breaker(BreakerOptions.builder().openFor(Duration.ofSeconds(5)).build())
 * }</pre>
 *
 * @since 0.1.0
 */
public final class BreakerOptions {

    private static final BreakerOptions DEFAULTS = new Builder().build();
    private static final BreakerOptions DISABLED = new BreakerOptions(false, 20, 5, 50, Duration.ofSeconds(1), 3);

    private final boolean enabled;
    private final int windowSize;
    private final int minimumCalls;
    private final double failureRateThreshold;
    private final Duration openFor;
    private final int halfOpenCalls;

    private BreakerOptions(boolean enabled, int windowSize, int minimumCalls, double failureRateThreshold,
            Duration openFor, int halfOpenCalls) {
        this.enabled = enabled;
        this.windowSize = windowSize;
        this.minimumCalls = minimumCalls;
        this.failureRateThreshold = failureRateThreshold;
        this.openFor = openFor;
        this.halfOpenCalls = halfOpenCalls;
    }

    /**
     * The defaults: a window of the last 20 calls, opens at a 50 % failure rate once at least 5 calls were made,
     * stays open 1 s, then lets 3 calls probe the node (a successful health check also starts the probing).
     *
     * @return the default options
     */
    public static BreakerOptions defaults() {
        return DEFAULTS;
    }

    /**
     * No breakers: every node is tried on every call.
     *
     * @return the options without breakers
     */
    public static BreakerOptions disabled() {
        return DISABLED;
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
     * Whether nodes have breakers.
     *
     * @return {@code false} for {@link #disabled()}
     */
    public boolean enabled() {
        return enabled;
    }

    /**
     * How many of a node's latest calls the failure rate is computed over.
     *
     * @return the window size
     */
    public int windowSize() {
        return windowSize;
    }

    /**
     * How many calls the window needs before the breaker may open.
     *
     * @return the minimum number of calls
     */
    public int minimumCalls() {
        return minimumCalls;
    }

    /**
     * The failure rate in percent at which the breaker opens.
     *
     * @return the threshold, in (0, 100]
     */
    public double failureRateThreshold() {
        return failureRateThreshold;
    }

    /**
     * How long an open breaker skips its node before it lets calls probe it.
     *
     * @return the open time
     */
    public Duration openFor() {
        return openFor;
    }

    /**
     * How many calls probe a node once its breaker is half-open.
     *
     * @return the number of probe calls
     */
    public int halfOpenCalls() {
        return halfOpenCalls;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        if (!(o instanceof BreakerOptions)) {
            return false;
        }
        BreakerOptions that = (BreakerOptions) o;
        return enabled == that.enabled && windowSize == that.windowSize && minimumCalls == that.minimumCalls
                && Double.compare(failureRateThreshold, that.failureRateThreshold) == 0
                && openFor.equals(that.openFor) && halfOpenCalls == that.halfOpenCalls;
    }

    @Override
    public int hashCode() {
        return Objects.hash(enabled, windowSize, minimumCalls, failureRateThreshold, openFor, halfOpenCalls);
    }

    @Override
    public String toString() {
        return enabled ? "BreakerOptions{window=" + windowSize + ", minimumCalls=" + minimumCalls + ", failureRate="
                + failureRateThreshold + "%, openFor=" + openFor + ", halfOpenCalls=" + halfOpenCalls + '}'
                : "BreakerOptions{disabled}";
    }

    /**
     * Builds {@link BreakerOptions}; each setter checks its value at once. Not thread-safe.
     *
     * @since 0.1.0
     */
    public static final class Builder {
        private int windowSize = 20;
        private int minimumCalls = 5;
        private double failureRateThreshold = 50;
        private Duration openFor = Duration.ofSeconds(1);
        private int halfOpenCalls = 3;

        private Builder() {}

        /**
         * How many of a node's latest calls the failure rate is computed over.
         *
         * @param windowSize at least 1
         * @return this builder
         * @throws IllegalArgumentException for a value below 1
         */
        public Builder windowSize(int windowSize) {
            this.windowSize = atLeastOne(windowSize, "windowSize");
            return this;
        }

        /**
         * How many calls the window needs before the breaker may open.
         *
         * @param minimumCalls at least 1
         * @return this builder
         * @throws IllegalArgumentException for a value below 1
         */
        public Builder minimumCalls(int minimumCalls) {
            this.minimumCalls = atLeastOne(minimumCalls, "minimumCalls");
            return this;
        }

        /**
         * The failure rate in percent at which the breaker opens.
         *
         * @param percent in (0, 100]
         * @return this builder
         * @throws IllegalArgumentException for a value outside (0, 100]
         */
        public Builder failureRateThreshold(double percent) {
            if (!(percent > 0 && percent <= 100)) {
                throw new IllegalArgumentException("failureRateThreshold must be in (0, 100] percent, got " + percent);
            }
            this.failureRateThreshold = percent;
            return this;
        }

        /**
         * How long an open breaker skips its node before calls probe it.
         *
         * @param openFor positive, whole milliseconds, at most a day
         * @return this builder
         * @throws IllegalArgumentException for a bad duration
         */
        public Builder openFor(Duration openFor) {
            this.openFor = Checks.positiveMillis(openFor, "openFor");
            return this;
        }

        /**
         * How many calls probe a node once its breaker is half-open.
         *
         * @param halfOpenCalls at least 1
         * @return this builder
         * @throws IllegalArgumentException for a value below 1
         */
        public Builder halfOpenCalls(int halfOpenCalls) {
            this.halfOpenCalls = atLeastOne(halfOpenCalls, "halfOpenCalls");
            return this;
        }

        /**
         * Builds the options.
         *
         * @return the options
         * @throws IllegalArgumentException when {@code minimumCalls} exceeds {@code windowSize}
         */
        public BreakerOptions build() {
            if (minimumCalls > windowSize) {
                throw new IllegalArgumentException("minimumCalls (" + minimumCalls + ") must not exceed windowSize ("
                        + windowSize + ")");
            }
            return new BreakerOptions(true, windowSize, minimumCalls, failureRateThreshold, openFor, halfOpenCalls);
        }

        private static int atLeastOne(int value, String name) {
            if (value < 1) {
                throw new IllegalArgumentException(name + " must be at least 1, got " + value);
            }
            return value;
        }
    }
}
