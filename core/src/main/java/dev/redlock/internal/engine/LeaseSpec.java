package dev.redlock.internal.engine;

import dev.redlock.LockOptions;
import dev.redlock.internal.lease.RenewalBatcher;
import dev.redlock.internal.lock.LockSpec;
import dev.redlock.internal.quorum.QuorumCall;
import dev.redlock.internal.script.Script;
import java.time.Duration;

/**
 * The engine SPI: what a primitive tells the engine about a lease on one name. A primitive is its scripts, a quorum
 * rule, and a lease whose renewal is a script; the engine does the rest, written once for every primitive: the
 * parallel quorum call with per-node timeouts and the {@code NOSCRIPT} rule, the validity after the deciding reply,
 * the release on every node of a failed or cancelled attempt (each after that node's acquire), the acquire loop with
 * the local waiting line and release notifications, the watchdog and the lost-lease signal, the restart guard, the
 * breakers and health checks, and {@code close()}.
 *
 * <p>The lock ({@link LockSpec}) is the first implementation. Every script a spec names answers one integer per
 * node, which {@link #granted(long)} reads as that node's yes or no; {@link #quorumRule()} says how many yes votes
 * decide. Implementations are immutable and cheap: one is made per operation.
 */
public interface LeaseSpec {

    /** The name as the user gave it: in errors, events and metrics. */
    String name();

    /** Identifies the resource within one client: waiters on the same line key queue locally. */
    String lineKey();

    /** The channel a release publishes on, and waiters listen on. */
    String releaseChannel();

    /** How many yes votes decide each of this lease's calls. */
    default QuorumRule quorumRule() {
        return QuorumRule.MAJORITY;
    }

    // == Acquire ==

    /** The acquire script, of kind {@link Script.Kind#ACQUIRE} (loaded on every new connection). */
    Script acquireScript();

    String[] acquireKeys();

    String[] acquireArgs(String token, Duration leaseTime, LockOptions options);

    /** Whether a node's reply to the acquire script grants. */
    boolean granted(long reply);

    /**
     * The grant rule of one attempt, made as the attempt starts, or {@code null} for {@link #granted(long)}: a spec
     * whose nodes may grant different things (a semaphore whose nodes each choose free slots) counts only the replies
     * that granted the same thing.
     */
    default java.util.function.LongPredicate attemptGrants() {
        return null;
    }

    /** For a refusal: how long the holder still holds on that node in ms, or -1 when the reply does not say. */
    long holderTtlMillis(long reply);

    /**
     * For a refusal: the error that ends the acquire at once (the node says the request can never be granted, for
     * example a semaphore declared with another number of permits), or {@code null} to go on waiting.
     */
    default RuntimeException refusalError(long reply) {
        return null;
    }

    /**
     * Told each refusal of an attempt as it is decided, before the next attempt asks for its arguments: a spec that
     * chooses what to ask for (a semaphore's slots) steers its next attempt with what the nodes said.
     */
    default void refused(long reply) {}

    /**
     * Whether a lease excludes every other lease of its line: a lock's does, so the next waiter of this client waits
     * until the previous holder handed it back; a semaphore's permits do not, so the next one tries at once.
     */
    default boolean exclusive() {
        return true;
    }

    /**
     * Why a nested scope of this spec may not run under {@code held}, the spec of the lease an enclosing scope holds
     * on the same line (a nested {@code withPermits} asking for more permits than the outer one holds), or
     * {@code null} when it may.
     */
    default RuntimeException reentryRefusal(LeaseSpec held) {
        return null;
    }

    /**
     * The line keys of the resources that contain this one, nearest first (a path's ancestors), or none: a scope
     * nested in an enclosing scope that holds one of them asks {@link #nestedUnder} how to go on, instead of
     * requesting the resource as if nobody held its container (it would wait for its own enclosing scope).
     */
    default String[] enclosingLineKeys() {
        return NO_KEYS;
    }

    /**
     * The line keys of other resources this lease holds exactly as their own primitive would (a multi-key lease
     * holds each of its keys as a lock's lease does), or none: a nested scope on one of them runs under this lease.
     */
    default String[] coveredLineKeys() {
        return NO_KEYS;
    }

    /** No keys. */
    String[] NO_KEYS = new String[0];

    /**
     * How a nested scope of this spec goes on when an enclosing scope holds {@code held} on a resource of
     * {@link #enclosingLineKeys()}: {@code null} to run under the held lease (it covers this request), a spec to
     * request instead (this request narrowed to what the held lease does not cover), or an exception that fails the
     * nested scope (it could only wait for its own enclosing scope).
     */
    default LeaseSpec nestedUnder(LeaseSpec held) {
        return this;
    }

    /**
     * Put before each attempt's random token: a primitive whose holders must be told apart from another primitive's
     * on the same key (the fair lock's {@code "f:"}) marks its tokens; empty for none.
     */
    default String tokenPrefix() {
        return "";
    }

    /**
     * Whether this client's acquires of the same line wait in a local line, so only the head tries the nodes
     * ({@code LocalQueue}). A primitive whose waiters queue on the nodes themselves (the fair lock) says no: each of
     * its waiters must keep its own place there, across clients.
     */
    default boolean queuesLocally() {
        return true;
    }

    /**
     * The longest wait between two attempts of one acquire, in nanoseconds: a waiter whose attempts are its
     * heartbeat on the nodes (the fair lock's queue) must try again before its heartbeat lapses.
     */
    default long maxPauseNanos() {
        return Long.MAX_VALUE;
    }

    /** The semaphore permits a lease of this spec holds (reported to the metrics recorder); 0 for a lock. */
    default int heldPermits() {
        return 0;
    }

    /** Told each attempt's acquire call as it starts (the fair lock sends its leave after the last one's commands). */
    default void attemptStarted(QuorumCall acquire) {}

    /**
     * For a primitive whose waiters enqueue on the nodes: the script that takes this acquire's waiter out of every
     * node's queue when the acquire ends without a lease (error or cancel), or {@code null} for none. It is a cleanup
     * (kind {@link Script.Kind#RELEASE}), sent on each node after that node's last acquire command.
     */
    default Script leaveScript() {
        return null;
    }

    /** The keys of {@link #leaveScript()}. */
    default String[] leaveKeys() {
        throw new UnsupportedOperationException(name() + " has no waiter queue");
    }

    /** The arguments of {@link #leaveScript()}. */
    default String[] leaveArgs() {
        throw new UnsupportedOperationException(name() + " has no waiter queue");
    }

    /** The acquire call of the last attempt {@link #attemptStarted} was told about, or {@code null}. */
    default QuorumCall lastAttempt() {
        return null;
    }

    /**
     * Whether leases carry a fencing token with these options: the granting replies are the nodes' counters, and
     * {@link #fenceScript()} writes the token back before the lease is handed out.
     */
    default boolean fenced(LockOptions options) {
        return false;
    }

    /** The write-back of a fencing token (when {@link #fenced} is true). */
    default Script fenceScript() {
        throw new UnsupportedOperationException(name() + " has no fencing tokens");
    }

    default String[] fenceArgs(String token, long fence) {
        throw new UnsupportedOperationException(name() + " has no fencing tokens");
    }

    // == Renewal ==

    /** The renewal script: replies 1 where renewed, 0 where no key of this lease is left, -1 for another owner's. */
    Script renewScript();

    String[] renewKeys();

    String[] renewArgs(String token, Duration leaseTime);

    /**
     * The batched renewal the watchdog may use ({@link RenewalBatcher}), or {@code null} to renew alone. It takes the
     * {@link #batchKey()} and then token and lease ms of up to {@link RenewalBatcher#MAX_BATCH} leases and answers a
     * bit mask.
     */
    default Script batchRenewScript() {
        return null;
    }

    /** The key of this lease in a batched renewal. */
    default String batchKey() {
        return null;
    }

    // == Release ==

    /**
     * The release script, of kind {@link Script.Kind#RELEASE}: replies 1 released, 0 nothing of this lease left, -1
     * another owner's; it publishes on the release channel when told to.
     */
    Script releaseScript();

    String[] releaseKeys();

    /** The release's arguments; {@code notify} whether to wake waiters (a failed attempt's cleanup does not). */
    String[] releaseArgs(String token, boolean notify);
}
