package dev.redlock;

import dev.redlock.internal.Checks;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * The delay between two acquire attempts of one waiter while the lock is held by someone else or a quorum
 * cannot be reached.
 *
 * <p>Waiting is always a scheduled timer, never a parked thread. A release notification cuts a wait short,
 * so the backoff is the fallback for lost notifications and the tie-breaker after split votes; jitter keeps
 * contending waiters out of step. Attempts are numbered from {@code 1}.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @since 0.1.0
 */
public abstract class Backoff {

    Backoff() {}

    /**
     * The delay before the attempt that follows attempt number {@code attempt}.
     *
     * @param attempt the number of the attempt that just failed, starting at 1
     * @return a non-negative delay
     */
    public abstract Duration delay(int attempt);

    /**
     * The longest delay this backoff gives, whatever the attempt and the jitter.
     *
     * @return the constant delay, or the maximum of an exponential backoff
     */
    public abstract Duration maxDelay();

    /**
     * The same delay after every attempt.
     *
     * @param delay the wait between attempts: zero (retry at once) or positive, whole milliseconds, at most a day
     * @return the backoff
     * @throws IllegalArgumentException for a null, negative, fractional-millisecond or too long {@code delay}
     */
    public static Backoff constant(Duration delay) {
        Checks.nonNegativeMillis(delay, "delay");
        return new Constant(delay);
    }

    /**
     * {@code min × 2^(attempt-1)}, capped at {@code max}, without jitter.
     *
     * @param min the delay after the first attempt: positive, whole milliseconds, at most a day
     * @param max the cap: positive, whole milliseconds, at most a day, and not below {@code min}
     * @return the backoff
     * @throws IllegalArgumentException for a bad duration, or {@code max} below {@code min}
     */
    public static Backoff exponential(Duration min, Duration max) {
        checkRange(min, max);
        return new Exponential(min, max, Jitter.NONE);
    }

    /**
     * Exponential with "equal jitter": half of the exponential delay plus a uniform random share of the other half,
     * so a waiter never retries at once and waiters spread out. The default
     * ({@link LockOptions#DEFAULT_BACKOFF}: 10 ms to 250 ms).
     *
     * @param min the exponential delay after the first attempt: positive, whole milliseconds, at most a day
     * @param max the cap of the exponential delay: positive, whole milliseconds, at most a day, and not below
     *     {@code min}
     * @return the backoff; each delay is in {@code [d/2, d]} for the capped exponential delay {@code d}
     * @throws IllegalArgumentException for a bad duration, or {@code max} below {@code min}
     */
    public static Backoff equalJitter(Duration min, Duration max) {
        checkRange(min, max);
        return new Exponential(min, max, Jitter.EQUAL);
    }

    /**
     * Exponential with "full jitter": a uniform random delay between zero and the exponential delay.
     *
     * @param min the exponential delay after the first attempt: positive, whole milliseconds, at most a day
     * @param max the cap of the exponential delay: positive, whole milliseconds, at most a day, and not below
     *     {@code min}
     * @return the backoff; each delay is in {@code [0, d]} for the capped exponential delay {@code d}
     * @throws IllegalArgumentException for a bad duration, or {@code max} below {@code min}
     */
    public static Backoff fullJitter(Duration min, Duration max) {
        checkRange(min, max);
        return new Exponential(min, max, Jitter.FULL);
    }

    private static void checkRange(Duration min, Duration max) {
        Checks.positiveMillis(min, "min");
        Checks.positiveMillis(max, "max");
        if (max.compareTo(min) < 0) {
            throw new IllegalArgumentException("max must not be below min, got min " + min + " and max " + max);
        }
    }

    enum Jitter {
        NONE,
        EQUAL,
        FULL
    }

    static final class Constant extends Backoff {
        private final Duration delay;

        Constant(Duration delay) {
            this.delay = delay;
        }

        @Override
        public Duration delay(int attempt) {
            return delay;
        }

        @Override
        public Duration maxDelay() {
            return delay;
        }

        @Override
        public boolean equals(@Nullable Object o) {
            return o instanceof Constant && ((Constant) o).delay.equals(delay);
        }

        @Override
        public int hashCode() {
            return delay.hashCode();
        }

        @Override
        public String toString() {
            return "Backoff.constant(" + delay + ")";
        }
    }

    static final class Exponential extends Backoff {
        private final long minNanos;
        private final long maxNanos;
        private final Jitter jitter;

        Exponential(Duration min, Duration max, Jitter jitter) {
            this.minNanos = min.toNanos();
            this.maxNanos = max.toNanos();
            this.jitter = jitter;
        }

        @Override
        public Duration maxDelay() {
            return Duration.ofNanos(maxNanos);
        }

        @Override
        public Duration delay(int attempt) {
            int shift = Math.max(0, Math.min(attempt - 1, 30));
            long base = minNanos << shift;
            long capped = (base <= 0 || base > maxNanos) ? maxNanos : base;
            ThreadLocalRandom random = ThreadLocalRandom.current();
            long nanos;
            switch (jitter) {
                case EQUAL:
                    nanos = capped / 2 + random.nextLong(capped / 2 + 1);
                    break;
                case FULL:
                    nanos = random.nextLong(capped + 1);
                    break;
                default:
                    nanos = capped;
            }
            return Duration.ofNanos(nanos);
        }

        @Override
        public boolean equals(@Nullable Object o) {
            if (!(o instanceof Exponential)) {
                return false;
            }
            Exponential e = (Exponential) o;
            return e.minNanos == minNanos && e.maxNanos == maxNanos && e.jitter == jitter;
        }

        @Override
        public int hashCode() {
            return Long.hashCode(minNanos) * 31 + Long.hashCode(maxNanos) * 17 + jitter.hashCode();
        }

        @Override
        public String toString() {
            String name = jitter == Jitter.NONE ? "exponential" : jitter == Jitter.EQUAL ? "equalJitter" : "fullJitter";
            return "Backoff." + name + "(" + Duration.ofNanos(minNanos) + ", " + Duration.ofNanos(maxNanos) + ")";
        }
    }
}
