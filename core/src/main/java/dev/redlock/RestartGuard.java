package dev.redlock;

/**
 * Keeps a node that may have forgotten its keys out of quorums for the maximum lease time.
 *
 * <p>Redlock is only safe if a restarted node without persistence does not vote until every lease it might have
 * granted before the restart has expired; otherwise a second owner can win a quorum that includes the amnesiac
 * node while the first owner's lease is still valid. The guard enforces that wait on the client side.
 */
public enum RestartGuard {
    /** No guard: a restarted node counts at once. Only safe with {@code appendfsync always} on every node. */
    OFF,
    /**
     * The default: a node whose Redis {@code run_id} changed since this client last saw it does not count toward a
     * quorum for the maximum lease time after the change was seen.
     */
    RUN_ID,
    /**
     * {@link #RUN_ID}, and also a node whose uptime is below the maximum lease time when this client first connects
     * (a restart the client could not have seen) does not count until its uptime reaches it.
     */
    STRICT
}
