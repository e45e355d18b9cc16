package dev.redlock;

import java.time.Duration;
import java.time.Instant;
import java.util.OptionalLong;
import reactor.core.publisher.Mono;

/**
 * Proof of ownership of one lock, handed out by a successful acquire.
 *
 * <p>Ownership is the random {@link #token()} (128 bits from a {@link java.security.SecureRandom}), never a thread:
 * a lease may be used, extended and released from any thread or pipeline. The lease is valid until its
 * {@link #deadline()}: the moment the acquire (or the last extension) was sent, plus the lease time, minus the
 * clock-drift allowance. Work protected by the lock must be finished by then; {@link #remaining()} tells how much
 * time is left and {@link #lost()} signals when the lease is gone.
 *
 * <p>A lease must be released: use {@link ReactiveRedLock#withLock} (which does it on complete, error and cancel),
 * or call {@link #release()} in {@code doFinally} / {@code usingWhen}. A lease nobody releases expires on the nodes
 * after its lease time.
 *
 * @since 0.1.0
 */
public interface Lease {

    // == Data ==

    /**
     * The lock key.
     *
     * @return the key as the caller gave it, without the client's key prefix
     */
    String key();

    /**
     * The unique random value stored on the nodes; usable for check-and-set at a resource. It proves ownership: do
     * not log it (events carry a short hash instead).
     *
     * @return 32 lower-case hex digits
     */
    String token();

    /**
     * The fencing token, present when {@link LockOptions#fencing()} was on: a number that strictly increases across
     * successive fenced leases of the same key, so a resource can reject a late write from an older holder (see
     * {@link FencedStore}). Tokens are below 2^53, so they compare exactly in Lua and in JavaScript.
     *
     * <p>How it is made: the acquire script returns each granting node's counter; the token is the maximum plus
     * one; it is written back ({@code counter = max(counter, token)}, only while this lease's key is still on that
     * node) to a quorum before the lease is handed out, or the attempt fails. The next holder's quorum intersects
     * this write-back quorum on at least one node where the write-back happened before this lease's key vanished,
     * which happened before the next grant there, so the next token is larger, whatever clocks or pauses did.
     *
     * <p>Restarts: a node restarted without persistence forgets its counters. A node that has no counter for a key
     * answers its clock in microseconds ({@code TIME}) instead, so the node that restarted answers more than any
     * token made before its restart, and the guarantee survives restarts of a minority of nodes, under two
     * assumptions: the restart guard is on (a restarted node counts again only a maximum lease time after its
     * restart), and the nodes' wall clocks agree to within that maximum lease time (NTP keeps them within
     * milliseconds) without stepping back across the restart. Fewer than one fenced lease per microsecond per key is
     * assumed too (each lease costs two round trips). With the restart guard {@link RestartGuard#OFF}, or a majority
     * of nodes restarted at once, tokens may repeat; {@link FencedStore} then refuses the second writer.
     *
     * @return the token, in {@code [1, 2^53 - 1]}; empty when the lease was acquired without fencing
     */
    OptionalLong fencingToken();

    /**
     * The lease time that was requested for the last acquire or extension.
     *
     * @return how long the keys live on the nodes after the last acquire or renewal was sent
     */
    Duration leaseTime();

    /**
     * The deadline as a wall-clock estimate (the scheduler's clock now plus {@link #remaining()}).
     *
     * @return the estimated instant at which the lease stops being valid; for display and logs, not for timing
     */
    Instant deadline();

    /**
     * Time left before the deadline, measured on the scheduler's monotonic clock.
     *
     * @return the time left; zero once past the deadline
     */
    Duration remaining();

    /**
     * Whether the lease can still be relied on. No I/O: a lease whose keys were taken on the nodes stays valid here
     * until a renewal or release finds out, or its deadline passes.
     *
     * @return {@code true} while the lease is held, not released, not lost, and before its deadline
     */
    boolean isValid();

    /**
     * How many nodes had granted when the acquire was decided (slower nodes may grant after the decision). Only
     * nodes that may count toward a quorum are counted.
     *
     * @return at least the quorum
     */
    int grantedNodes();

    // == Actions ==

    /**
     * Renews the lease on all nodes (compare-and-pexpire: only where this lease's token is still the value). It may
     * also shorten the lease.
     *
     * <p>Before it is sent, the deadline moves to {@code min(current, send time + leaseTime − drift)}: a renewal that
     * may reach the nodes may shorten the keys' life, whether or not its replies come back. On success the deadline
     * becomes send time + {@code leaseTime} − drift (never later than what a renewal sent after this one and still in
     * flight gives), and the Mono emits this lease; inside {@code withLock} the watchdog renews at the period of the
     * new lease time from then on. It succeeds only when a quorum renewed before the current deadline; an expired key
     * is never recreated. Errors: {@link LeaseLostException} when the lease is already past its deadline, released,
     * or no longer held by a quorum (it is then lost); {@link QuorumUnavailableException} when too few nodes answered
     * (the lease stays valid until its deadline, lowered as above). Each node may take up to half the remaining
     * validity to answer (at least {@link LockOptions#nodeTimeout()}): a renewal only has to land before the deadline,
     * and a node slowed by load should still count. Cancelling does not undo renewals that reached nodes. Lazy.
     *
     * @param leaseTime the new lease time, positive whole milliseconds, at most the client's maximum lease time, and
     *     longer than the node timeout plus the clock drift (else no validity would be left)
     * @return a lazy {@code Mono} that emits this lease once renewed
     * @throws IllegalArgumentException at call time for a bad {@code leaseTime}
     */
    Mono<Lease> extend(Duration leaseTime);

    /**
     * Releases the lease on all nodes: compare-and-delete, so another owner's key is never deleted. Idempotent: the
     * first subscription releases, later ones (and later calls) replay its outcome.
     *
     * <p>Completes empty when released: a quorum released, or at least {@code N − quorum + 1} nodes answered that
     * they no longer hold it, so no quorum can. Errors with {@link LeaseLostException} if the lease had already
     * expired or a quorum of nodes held another value (the release still removes whatever keys of this lease remain),
     * unless that loss was already signalled through {@link #lost()} or {@code withLock}; with
     * {@link QuorumUnavailableException} (operation {@code release}) when fewer nodes answered within the node
     * timeout (at least 1 s): nothing is known, and the keys left behind expire after at most the lease time; with
     * {@link ClientClosedException} when the client's connections are already closed. Waiters on the key are woken by
     * a release notification. A cancelled subscription does not stop a release that has started. Lazy.
     *
     * @return a lazy {@code Mono} that completes empty once released
     */
    Mono<Void> release();

    /**
     * Emits a {@link LeaseLostException} when the lease is lost (deadline passed without renewal, renewal failed, or
     * keys gone) or ended by the client's {@code close()} ({@link LeaseLostException.Reason#CLIENT_CLOSED}), or
     * completes empty once the lease is released in time. Subscribing arms a timer at the deadline, which moves with
     * each renewal (also earlier, for one that shortens the lease).
     *
     * @return a lazy {@code Mono} that emits the loss as a value (it does not error), or completes empty after a
     *     timely release; it never completes while the lease is held and valid
     */
    Mono<LeaseLostException> lost();
}
