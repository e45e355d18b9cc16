package dev.redlock.bench;

import dev.redlock.testkit.RedisServer;
import dev.redlock.testkit.RedisServers;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the nodes did, from {@code INFO commandstats} summed over all nodes since {@link #reset} ({@code CONFIG
 * RESETSTAT}): calls and server time per command, commands called inside scripts included. Lets a benchmark say where
 * a lock's time goes on the server: scripts, (un)subscriptions and publishes per acquisition, and their cost. Blocking;
 * setup and teardown only.
 */
final class CommandStats {

    private CommandStats() {}

    static void reset(RedisServers servers) {
        for (RedisServer server : servers) {
            server.admin().configResetstat();
        }
    }

    /** Per command (lower case): {calls, µs}, summed over the nodes. */
    static Map<String, long[]> read(RedisServers servers) {
        Map<String, long[]> stats = new TreeMap<>();
        for (RedisServer server : servers) {
            for (String line : server.admin().info("commandstats").split("\r?\n")) {
                if (!line.startsWith("cmdstat_")) {
                    continue;
                }
                String command = line.substring("cmdstat_".length(), line.indexOf(':'));
                long[] sum = stats.computeIfAbsent(command, c -> new long[2]);
                for (String field : line.substring(line.indexOf(':') + 1).split(",")) {
                    if (field.startsWith("calls=")) {
                        sum[0] += Long.parseLong(field.substring("calls=".length()));
                    } else if (field.startsWith("usec=")) {
                        sum[1] += Long.parseLong(field.substring("usec=".length()));
                    }
                }
            }
        }
        return stats;
    }

    /**
     * The {@code COMMANDS} line: per acquisition, over all nodes, the scripts run ({@code EVAL} + {@code EVALSHA}),
     * {@code SUBSCRIBE}s, {@code UNSUBSCRIBE}s and {@code PUBLISH}es, then the server time of the scripts per
     * acquisition and per script, and of all commands per acquisition.
     */
    static String line(String label, String impl, int nodes, Map<String, long[]> stats, long acquisitions) {
        long[] scripts = plus(stats.get("eval"), stats.get("evalsha"));
        long allUsec = 0;
        for (long[] s : stats.values()) {
            allUsec += s[1];
        }
        double n = Math.max(1, acquisitions);
        return String.format(Locale.ROOT,
                "COMMANDS %s impl=%s nodes=%d acquisitions=%d scriptsPerAcq=%.2f subscribePerAcq=%.2f"
                        + " unsubscribePerAcq=%.2f publishPerAcq=%.2f scriptUsecPerAcq=%.1f usecPerScript=%.1f"
                        + " serverUsecPerAcq=%.1f",
                label, impl, nodes, acquisitions, scripts[0] / n, calls(stats, "subscribe") / n,
                calls(stats, "unsubscribe") / n, calls(stats, "publish") / n, scripts[1] / n,
                scripts[0] == 0 ? 0.0 : (double) scripts[1] / scripts[0], allUsec / n);
    }

    private static long calls(Map<String, long[]> stats, String command) {
        long[] s = stats.get(command);
        return s == null ? 0 : s[0];
    }

    private static long[] plus(long[] a, long[] b) {
        long[] sum = new long[2];
        for (long[] x : new long[][] {a, b}) {
            if (x != null) {
                sum[0] += x[0];
                sum[1] += x[1];
            }
        }
        return sum;
    }
}
