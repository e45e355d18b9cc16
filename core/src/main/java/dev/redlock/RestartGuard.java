package dev.redlock;

/**
 * Keeps a node that may have forgotten its keys out of quorums for the maximum lease time.
 *
 * <p>Redlock is only safe if a restarted node without persistence does not vote until every lease it might have
 * granted before the restart has expired; otherwise a second owner can win a quorum that includes the amnesiac
 * node while the first owner's lease is still valid. The guard enforces that wait on the client side. The wait is
 * the longest maximum lease time of any client of the key space ({@link RedLockBuilder#maxLeaseTime}), as recorded on
 * the nodes. A held-out node still runs every command (its replies just do not count), so its keys are kept in
 * step and cleaned up.
 *
 * <p>What each mode is safe for, with nodes that do not persist every write ({@code appendfsync always}):
 * <ul>
 *   <li>{@link #STRICT} (the default): safe whenever at most a minority of nodes restarts within one maximum lease
 *       time, including for clients that meet a restarted node for the first time (a new instance in a rolling
 *       deploy or a scale-out, or one whose first connection failed while the node was down). Its cost: a node
 *       younger than the maximum lease time does not count, so a freshly started cluster grants nothing until it is
 *       that old (60 s by default; with {@code maxLeaseTime(Duration.ofSeconds(10))}, 10 s).
 *   <li>{@link #RUN_ID}: safe only if every node this client meets for the first time has kept its keys for the
 *       maximum lease time before that, for example a cluster this program started itself (tests, demos), where no
 *       lease can exist yet. It sees only restarts that happen while this client knows the node.
 *   <li>{@link #OFF}: safe only with {@code appendfsync always} on every node.
 * </ul>
 * A node whose {@code INFO} reports no {@code run_id} (some proxies and managed services) cannot be watched for
 * restarts: it is held out for the maximum lease time after every new connection (and a warning is logged), unless
 * the guard is {@link #OFF} or, under {@link #STRICT}, its {@code uptime_in_seconds} tells its age.
 *
 * @since 0.1.0
 */
public enum RestartGuard {
    /** No guard: a restarted node counts at once. Only safe with {@code appendfsync always} on every node. */
    OFF,
    /**
     * A node whose Redis {@code run_id} changed since this client last saw it does not count toward a quorum for the
     * maximum lease time after the change was seen. Trusts every node on first contact: see the class comment for
     * when that is safe.
     */
    RUN_ID,
    /**
     * The default: {@link #RUN_ID}, and also a node whose uptime is below the maximum lease time when a connection
     * opens (a restart this client could not have seen: it met the node for the first time, or reconnected after
     * the restart) does not count until its uptime reaches it.
     */
    STRICT
}
