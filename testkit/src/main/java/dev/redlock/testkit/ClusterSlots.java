package dev.redlock.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Makes a cluster-mode node ({@code --cluster-enabled yes}) a one-node cluster that owns all 16384 hash slots, and
 * waits until it says {@code cluster_state:ok}, over a raw socket.
 *
 * <p>Works for a node in any state it can be found in after a start:
 * <ul>
 *   <li>a fresh node (no cluster config file, or a restart after the file was lost): no slots, so all are added
 *       with {@code CLUSTER ADDSLOTS} in chunks ({@code ADDSLOTSRANGE} exists only from Redis 7);</li>
 *   <li>a restarted node that reloaded its cluster config file: it owns all slots already, nothing is added;</li>
 *   <li>a node that owns only some slots (a config file written between two chunks, or slots a test deleted):
 *       the missing ones are added.</li>
 * </ul>
 * Then it waits for {@code cluster_state:ok}: a master's state stays {@code fail} for about 2 s after its start
 * (Redis' fixed {@code CLUSTER_WRITABLE_DELAY}), and keyed commands get {@code CLUSTERDOWN} meanwhile.
 */
final class ClusterSlots {

    /** The number of hash slots of Redis Cluster. */
    static final int SLOTS = 16384;
    /** Slots per {@code CLUSTER ADDSLOTS}. */
    static final int CHUNK = 2048;
    private static final Duration IO_TIMEOUT = Duration.ofSeconds(2);

    private ClusterSlots() {
    }

    /**
     * Adds every slot the node does not own yet and waits until {@code CLUSTER INFO} says {@code cluster_state:ok}
     * with all slots assigned. Blocks for up to {@code timeout}; about 2 s right after the node's start.
     *
     * @param diagnostics appended to the exception message on failure (e.g. the tail of the node's log)
     * @throws RedisTestkitException when the node rejects the cluster commands (cluster support disabled, a slot
     *     owned by another node), or is not ready within {@code timeout}
     */
    static void claimAllAndAwaitOk(String host, int port, Duration timeout, Supplier<String> diagnostics) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String lastInfo = null;
        IOException lastError = null;
        while (true) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(host, port), (int) IO_TIMEOUT.toMillis());
                socket.setSoTimeout((int) IO_TIMEOUT.toMillis());
                InputStream in = socket.getInputStream();
                OutputStream out = socket.getOutputStream();
                while (true) {
                    lastInfo = bulk(in, out, host, port, diagnostics, "CLUSTER", "INFO");
                    if (infoLong(lastInfo, "cluster_slots_assigned") < SLOTS) {
                        // added slots count at once; a slot that cannot be added fails with the node's error
                        addMissingSlots(in, out, host, port, diagnostics);
                    } else if ("ok".equals(infoField(lastInfo, "cluster_state"))) {
                        return;
                    } else if (System.nanoTime() - deadline > 0) {
                        break;
                    } else {
                        LocalRedisProcess.sleepMillis(20);
                    }
                }
            } catch (IOException e) {
                lastError = e; // e.g. refused while the node is still starting
            }
            if (System.nanoTime() - deadline > 0) {
                throw new RedisTestkitException("Cluster-mode redis-server on " + host + ":" + port
                        + " did not reach cluster_state:ok with all " + SLOTS + " slots within " + timeout.toMillis()
                        + " ms (last CLUSTER INFO: " + oneLine(lastInfo) + ", last error: " + lastError + ")"
                        + diagnostics.get());
            }
            LocalRedisProcess.sleepMillis(20);
        }
    }

    /** The slots the node does not own, from its own line of {@code CLUSTER NODES}, added in chunks. */
    private static void addMissingSlots(InputStream in, OutputStream out, String host, int port,
                                        Supplier<String> diagnostics) throws IOException {
        String nodes = bulk(in, out, host, port, diagnostics, "CLUSTER", "NODES");
        BitSet owned = ownSlots(nodes);
        List<String> chunk = new ArrayList<>(CHUNK + 2);
        for (int slot = owned.nextClearBit(0); slot < SLOTS; slot = owned.nextClearBit(slot + 1)) {
            if (chunk.isEmpty()) {
                chunk.add("CLUSTER");
                chunk.add("ADDSLOTS");
            }
            chunk.add(Integer.toString(slot));
            if (chunk.size() == CHUNK + 2) {
                addSlots(in, out, chunk, host, port, nodes, diagnostics);
                chunk.clear();
            }
        }
        if (!chunk.isEmpty()) {
            addSlots(in, out, chunk, host, port, nodes, diagnostics);
        }
    }

    private static void addSlots(InputStream in, OutputStream out, List<String> command, String host, int port,
                                 String nodes, Supplier<String> diagnostics) throws IOException {
        Resp.writeCommand(out, command);
        Resp.Reply reply = Resp.readReply(in);
        if (reply.isError()) {
            throw new RedisTestkitException("CLUSTER ADDSLOTS " + command.get(2) + ".."
                    + command.get(command.size() - 1) + " failed on " + host + ":" + port + ": " + reply.text()
                    + " (CLUSTER NODES: " + oneLine(nodes) + ")" + diagnostics.get());
        }
    }

    /** The slots listed on the {@code myself} line of a {@code CLUSTER NODES} reply. */
    static BitSet ownSlots(String clusterNodes) {
        BitSet owned = new BitSet(SLOTS);
        for (String line : clusterNodes.split("\r?\n")) {
            String[] fields = line.trim().split(" ");
            if (fields.length < 8 || !("," + fields[2] + ",").contains(",myself,")) {
                continue;
            }
            for (int i = 8; i < fields.length; i++) {
                String range = fields[i];
                if (range.startsWith("[")) {
                    continue; // a slot being imported or migrated: not owned
                }
                int dash = range.indexOf('-');
                int from = Integer.parseInt(dash < 0 ? range : range.substring(0, dash));
                int to = dash < 0 ? from : Integer.parseInt(range.substring(dash + 1));
                owned.set(from, to + 1);
            }
        }
        return owned;
    }

    private static String bulk(InputStream in, OutputStream out, String host, int port, Supplier<String> diagnostics,
                               String... command) throws IOException {
        Resp.writeCommand(out, List.of(command));
        Resp.Reply reply = Resp.readReply(in);
        if (reply.type() != '$' || reply.text() == null) {
            throw new RedisTestkitException(String.join(" ", command) + " on " + host + ":" + port + " replied "
                    + reply + "; is redis-server running with --cluster-enabled yes?" + diagnostics.get());
        }
        return reply.text();
    }

    static @Nullable String infoField(String info, String field) {
        String prefix = field + ":";
        for (String line : info.split("\r?\n")) {
            if (line.startsWith(prefix)) {
                return line.substring(prefix.length()).trim();
            }
        }
        return null;
    }

    private static long infoLong(String info, String field) {
        String value = infoField(info, field);
        if (value == null) {
            throw new RedisTestkitException("CLUSTER INFO has no " + field + " line: " + oneLine(info));
        }
        return Long.parseLong(value);
    }

    private static String oneLine(String text) {
        return text == null ? "none" : text.trim().replaceAll("\r?\n", ", ");
    }
}
