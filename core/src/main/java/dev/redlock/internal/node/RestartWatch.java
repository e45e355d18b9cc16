package dev.redlock.internal.node;

import dev.redlock.LockEvent;
import dev.redlock.NodeHeldOutException;
import dev.redlock.RestartGuard;
import dev.redlock.internal.event.EventBus;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link RestartGuard} for one node: what each new connection learns about the node decides whether (and until
 * when) the node must not count toward a quorum.
 *
 * <p>Every reason is kept as the moment it starts (on the client's scheduler clock); the node is held out until that
 * moment plus the hold-out time, read when asked, because the hold-out time grows when another node's record shows
 * a longer maximum lease time ({@link HoldOutTime}). Thread-safe: connections are verified one at a time per node,
 * queries come from any thread.
 */
public final class RestartWatch {

    private static final Logger log = LoggerFactory.getLogger(RestartWatch.class);
    private static final long NEVER = Long.MIN_VALUE;

    private final String node;
    private final RestartGuard guard;
    private final HoldOutTime holdOut;
    private final EventBus events;

    private volatile String lastRunId;
    /** When this client saw the node's run_id change. */
    private volatile long restartSeenAt = NEVER;
    /** When the node started, from its uptime (STRICT): a node younger than the hold-out may have forgotten leases. */
    private volatile long startedAt = NEVER;
    /** When a connection opened to a node that hides what would tell a restart: a restart cannot be ruled out. */
    private volatile long blindSince = NEVER;
    private volatile String reason;
    private volatile boolean warnedBlind;

    public RestartWatch(String node, RestartGuard guard, HoldOutTime holdOut, EventBus events) {
        this.node = node;
        this.guard = guard;
        this.holdOut = holdOut;
        this.events = events;
    }

    /**
     * A new connection to the node was opened at {@code now}: applies the guard to its {@code INFO server} text and
     * the key space's maximum lease time record it read ({@code null} when not read).
     */
    public void connected(String info, Long recordedMaxLeaseMillis, long now) {
        if (recordedMaxLeaseMillis != null) {
            holdOut.observe(recordedMaxLeaseMillis, node);
        }
        String runId = LettuceNode.infoField(info, "run_id");
        String uptime = LettuceNode.infoField(info, "uptime_in_seconds");
        if (guard != RestartGuard.OFF) {
            String previous = lastRunId;
            if (previous != null && runId != null && !previous.equals(runId)) {
                restartSeenAt = now;
                announce(now, "run_id changed from " + previous + " to " + runId);
            }
            boolean sameProcess = previous != null && previous.equals(runId);
            if (guard == RestartGuard.STRICT && uptime != null) {
                // Redis counts uptime as the difference of two whole wall-clock seconds, so it overstates the age by
                // up to a second (started at x.9 s, it says 1 at x+1.05 s): the age is taken a second lower.
                long age = Math.max(0, Long.parseLong(uptime) - 1);
                long started = now - TimeUnit.SECONDS.toNanos(age);
                startedAt = started;
                if (now - started < holdOut.nanos()) {
                    announce(now, "uptime " + uptime + " s is below the maximum lease time, so the node may have "
                            + "restarted and forgotten leases");
                }
            } else if (!sameProcess && (runId == null || guard == RestartGuard.STRICT)) {
                // Nothing tells whether this node restarted (a proxy or managed service that hides INFO's run_id or
                // uptime): treat the new connection as following a restart.
                String missing = runId == null ? "run_id" : "uptime_in_seconds";
                blindSince = now;
                if (!warnedBlind) {
                    warnedBlind = true;
                    log.warn("node {} reports no {} in INFO: the restart guard cannot tell whether it restarted, so it "
                            + "holds the node out of quorums for the maximum lease time after each new connection",
                            node, missing);
                }
                announce(now, "INFO reports no " + missing + ", so a restart cannot be ruled out");
            }
        }
        if (runId != null) {
            lastRunId = runId;
        }
    }

    /** Records why the node is held out from {@code now} on, logs it and tells the events' subscribers. */
    private void announce(long now, String why) {
        reason = why;
        NodeHeldOutException e = heldOut(now);
        if (e == null) {
            return;
        }
        log.warn("node {} held out of quorums for {} ms: {}", node, e.remaining().toMillis(), why);
        events.node(LockEvent.Type.NODE_HELD_OUT, node, e.remaining(), e);
    }

    /** Why the node must not count at {@code now}, or {@code null} when it counts. */
    public NodeHeldOutException heldOut(long now) {
        long hold = holdOut.nanos();
        long until = NEVER;
        for (long from : new long[] {restartSeenAt, startedAt, blindSince}) {
            if (from != NEVER && (until == NEVER || from + hold - until > 0)) {
                until = from + hold;
            }
        }
        if (until == NEVER || now - until >= 0) {
            return null;
        }
        return new NodeHeldOutException(node, reason, Duration.ofNanos(until - now));
    }
}
