package dev.redlock;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * A lease stopped being valid while its owner still relied on it. Inside {@code withLock} the protected publisher
 * is cancelled and the subscriber receives this error no later than the lease's deadline.
 *
 * @since 0.1.0
 */
public final class LeaseLostException extends LockException {

    private static final long serialVersionUID = 1L;

    /**
     * Why the lease was lost.
     *
     * @since 0.1.0
     */
    public enum Reason {
        /** The deadline passed without a renewal (no watchdog, or the lease was released too late). */
        EXPIRED,
        /** Renewals could not reach a quorum before the deadline. */
        RENEWAL_FAILED,
        /** A quorum of nodes no longer held this lease's token: the keys expired early or were taken. */
        KEY_LOST,
        /** The watchdog stopped renewing after the configured maximum hold time. */
        MAX_HOLD_TIME_EXCEEDED,
        /** The client was closed while the lease was held: {@code close()} released it. */
        CLIENT_CLOSED
    }

    /** The lease's deadline (wall-clock estimate) when it was lost. */
    private final Instant deadline;
    /** Why it was lost. */
    private final Reason reason;
    /** How many successful renewals the lease had. */
    private final int renewals;

    /**
     * Creates the exception, as the client does.
     *
     * @param key the lease's lock key
     * @param deadline the lease's deadline (wall-clock estimate) when it was lost
     * @param reason why it was lost
     * @param renewals how many successful renewals the lease had
     * @param lastRenewalFailure the error of the last failed renewal, or {@code null} if none failed; it becomes the
     *     {@link #getCause() cause}
     */
    public LeaseLostException(String key, Instant deadline, Reason reason, int renewals,
            @Nullable Throwable lastRenewalFailure) {
        super(key, "lease on '" + key + "' lost (" + reason + ") at deadline " + deadline + " after " + renewals
                + (renewals == 1 ? " renewal" : " renewals")
                + (lastRenewalFailure == null ? "" : "; last renewal failure: " + lastRenewalFailure.getMessage()),
                lastRenewalFailure);
        this.deadline = deadline;
        this.reason = reason;
        this.renewals = renewals;
    }

    /**
     * The lease's deadline when it was lost.
     *
     * @return a wall-clock estimate, as {@link Lease#deadline()}
     */
    public Instant deadline() {
        return deadline;
    }

    /**
     * Why the lease was lost.
     *
     * @return the reason
     */
    public Reason reason() {
        return reason;
    }

    /**
     * How many successful renewals the lease had.
     *
     * @return the count, zero when it was never renewed
     */
    public int renewals() {
        return renewals;
    }

    /**
     * The last failed renewal's error (also the {@link #getCause() cause}).
     *
     * @return the error, or {@code null} if no renewal failed
     */
    public @Nullable Throwable lastRenewalFailure() {
        return getCause();
    }
}
