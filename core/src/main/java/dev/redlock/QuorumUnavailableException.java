package dev.redlock;

import dev.redlock.internal.Checks;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Too few nodes took part for a quorum: they failed, timed out, were held out by the restart guard, or answered
 * too late for any validity to remain. The per-node causes are in {@link #nodeFailures()} and attached as
 * suppressed exceptions.
 *
 * @since 0.1.0
 */
public final class QuorumUnavailableException extends LockException {

    private static final long serialVersionUID = 1L;

    /**
     * The operation that could not reach a quorum.
     *
     * @since 0.1.0
     */
    public enum Operation {
        /** Acquiring a lease. */
        ACQUIRE("acquire"),
        /** Writing a fencing token back to a quorum before the lease is handed out. */
        FENCING_WRITE_BACK("fencing write-back"),
        /** Renewing a lease ({@code extend} or the watchdog). */
        EXTEND("extend"),
        /** Releasing a lease: fewer than N − quorum + 1 nodes confirmed it is gone. */
        RELEASE("release"),
        /** {@code isLocked}: neither a quorum holding the key nor a quorum without it answered. */
        IS_LOCKED("isLocked"),
        /** {@code connect()}: fewer than a quorum of nodes could be connected. */
        CONNECT("connect"),
        /** A semaphore's {@code availablePermits()}: fewer than a quorum of nodes answered. */
        AVAILABLE_PERMITS("availablePermits");

        private final String label;

        Operation(String label) {
            this.label = label;
        }

        /**
         * How messages name the operation.
         *
         * @return {@code acquire}, {@code fencing write-back}, {@code extend}, {@code release}, {@code isLocked},
         *     {@code connect} or {@code availablePermits}
         */
        public String label() {
            return label;
        }
    }

    /** The operation that could not reach a quorum. */
    private final Operation operation;
    /** How many nodes the client has. */
    private final int nodes;
    /** The quorum. */
    private final int required;
    /** How many nodes said yes. */
    private final int granted;
    /** Time from sending to the deciding reply. */
    private final Duration elapsed;
    /** Whether a quorum said yes too late for any validity to remain. */
    private final boolean validityExpired;
    /** Not serialized (the causes are the suppressed exceptions): {@code null} in a deserialized copy. */
    private final transient @Nullable Map<String, Throwable> nodeFailures;

    /**
     * Creates the exception, as the client does.
     *
     * @param key the lock key, or {@code *} for {@link Operation#CONNECT}
     * @param operation the operation that could not reach a quorum
     * @param nodes how many nodes the client has
     * @param required the quorum the operation needed
     * @param granted how many nodes said yes (counting only nodes that may count)
     * @param elapsed time from sending to the deciding reply
     * @param validityExpired whether a quorum said yes, but so late that no validity remained
     * @param nodeFailures node name ({@code host:port}) to the cause of its failure, in node order; copied, and each
     *     cause is also attached as a suppressed exception
     */
    public QuorumUnavailableException(
            String key,
            Operation operation,
            int nodes,
            int required,
            int granted,
            Duration elapsed,
            boolean validityExpired,
            Map<String, Throwable> nodeFailures) {
        super(key, message(key, operation, nodes, required, granted, elapsed, validityExpired, nodeFailures), null);
        this.operation = operation;
        this.nodes = nodes;
        this.required = required;
        this.granted = granted;
        this.elapsed = elapsed;
        this.validityExpired = validityExpired;
        this.nodeFailures = Collections.unmodifiableMap(new LinkedHashMap<>(nodeFailures));
        nodeFailures.values().forEach(this::addSuppressed);
    }

    private static String message(
            String key,
            Operation operation,
            int nodes,
            int required,
            int granted,
            Duration elapsed,
            boolean validityExpired,
            Map<String, Throwable> failures) {
        StringBuilder sb = new StringBuilder()
                .append(operation.label())
                .append(" of '")
                .append(key)
                .append("' reached ")
                .append(granted)
                .append(" of ")
                .append(nodes)
                .append(" nodes, quorum is ")
                .append(required);
        if (validityExpired) {
            sb.append("; the quorum answered after ").append(elapsed).append(", leaving no validity");
        }
        if (!failures.isEmpty()) {
            sb.append("; failed nodes:");
            failures.forEach((node, cause) -> sb.append(' ')
                    .append(node)
                    .append(" (")
                    .append(Checks.describe(cause))
                    .append(')'));
        }
        return sb.toString();
    }

    /**
     * The operation that could not reach a quorum.
     *
     * @return the operation
     */
    public Operation operation() {
        return operation;
    }

    /**
     * How many nodes the client has.
     *
     * @return the node count N
     */
    public int nodes() {
        return nodes;
    }

    /**
     * The quorum the operation needed.
     *
     * @return nodes / 2 + 1 (for a release, N − quorum + 1 nodes that confirm)
     */
    public int required() {
        return required;
    }

    /**
     * How many nodes said yes, counting only nodes the restart guard lets count.
     *
     * @return the count, below {@link #required()} unless {@link #validityExpired()}
     */
    public int granted() {
        return granted;
    }

    /**
     * Time from sending to the deciding reply.
     *
     * @return the elapsed time, on the client's scheduler clock
     */
    public Duration elapsed() {
        return elapsed;
    }

    /**
     * Whether a quorum said yes, but so late that lease − elapsed − drift was not positive.
     *
     * @return {@code true} when the quorum answered too late
     */
    public boolean validityExpired() {
        return validityExpired;
    }

    /**
     * The per-node causes of the failure. Not serialized: empty in a deserialized copy (the causes stay attached
     * as suppressed exceptions).
     *
     * @return an unmodifiable map of node name ({@code host:port}) to the cause of its failure, in node order
     */
    public Map<String, Throwable> nodeFailures() {
        return nodeFailures == null ? Map.of() : nodeFailures;
    }
}
