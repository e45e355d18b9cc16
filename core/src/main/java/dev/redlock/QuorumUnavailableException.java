package dev.redlock;

import dev.redlock.internal.Checks;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Too few nodes took part for a quorum: they failed, timed out, were held out by the restart guard, or answered
 * too late for any validity to remain. The per-node causes are in {@link #nodeFailures()} and attached as
 * suppressed exceptions.
 */
public final class QuorumUnavailableException extends LockException {

    private static final long serialVersionUID = 1L;

    /** The operation that could not reach a quorum. */
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
        CONNECT("connect");

        private final String label;

        Operation(String label) {
            this.label = label;
        }

        /** How messages name it ({@code acquire}, {@code fencing write-back}, ...). */
        public String label() {
            return label;
        }
    }

    private final Operation operation;
    private final int nodes;
    private final int required;
    private final int granted;
    private final Duration elapsed;
    private final boolean validityExpired;
    private final transient Map<String, Throwable> nodeFailures;

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

    /** The operation that could not reach a quorum. */
    public Operation operation() {
        return operation;
    }

    /** How many nodes the client has. */
    public int nodes() {
        return nodes;
    }

    /** The quorum: nodes / 2 + 1. */
    public int required() {
        return required;
    }

    /** How many nodes said yes (counting only nodes the restart guard lets count). */
    public int granted() {
        return granted;
    }

    /** Time from sending to the deciding reply. */
    public Duration elapsed() {
        return elapsed;
    }

    /** True when a quorum said yes, but so late that lease − elapsed − drift was not positive. */
    public boolean validityExpired() {
        return validityExpired;
    }

    /** Node name ({@code host:port}) to the cause of its failure, in node order. */
    public Map<String, Throwable> nodeFailures() {
        return nodeFailures == null ? Map.of() : nodeFailures;
    }
}
