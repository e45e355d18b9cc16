package dev.redlock;

import java.time.Instant;

/**
 * A lease stopped being valid while its owner still relied on it. Inside {@code withLock} the protected publisher
 * is cancelled and the subscriber receives this error no later than the lease's deadline.
 */
public final class LeaseLostException extends LockException {

    private static final long serialVersionUID = 1L;

    /** Why the lease was lost. */
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

    private final Instant deadline;
    private final Reason reason;
    private final int renewals;

    public LeaseLostException(String key, Instant deadline, Reason reason, int renewals, Throwable lastRenewalFailure) {
        super(key, "lease on '" + key + "' lost (" + reason + ") at deadline " + deadline + " after " + renewals
                + (renewals == 1 ? " renewal" : " renewals")
                + (lastRenewalFailure == null ? "" : "; last renewal failure: " + lastRenewalFailure.getMessage()),
                lastRenewalFailure);
        this.deadline = deadline;
        this.reason = reason;
        this.renewals = renewals;
    }

    /** The lease's deadline (wall-clock estimate) when it was lost. */
    public Instant deadline() {
        return deadline;
    }

    /** Why it was lost. */
    public Reason reason() {
        return reason;
    }

    /** How many successful renewals the lease had. */
    public int renewals() {
        return renewals;
    }

    /** The last failed renewal's error, if any (also the {@link #getCause() cause}). */
    public Throwable lastRenewalFailure() {
        return getCause();
    }
}
