package dev.redlock.bench;

import dev.redlock.testkit.RedisServer;
import dev.redlock.testkit.RedisServers;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

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

    static String line(String label, String impl, int nodes, Map<String, long[]> stats, long acquisitions) {
        return line(label, "impl=" + impl + " nodes=" + nodes, stats, acquisitions);
    }

    /**
     * The {@code COMMANDS} line: after the label and the trial's parameters ({@code impl=... nodes=...}), per
     * acquisition, over all nodes, the scripts run ({@code EVAL} + {@code EVALSHA}), {@code SUBSCRIBE}s,
     * {@code UNSUBSCRIBE}s and {@code PUBLISH}es, then the server time of the scripts per acquisition and per
     * script, of all commands per acquisition, and the calls of all commands per acquisition (the commands scripts
     * call included, as {@code INFO commandstats} counts them).
     */
    static String line(String label, String params, Map<String, long[]> stats, long acquisitions) {
        long[] scripts = plus(stats.get("eval"), stats.get("evalsha"));
        long allUsec = 0;
        long allCalls = 0;
        for (long[] s : stats.values()) {
            allCalls += s[0];
            allUsec += s[1];
        }
        double n = Math.max(1, acquisitions);
        return String.format(Locale.ROOT,
                "COMMANDS %s %s acquisitions=%d scriptsPerAcq=%.2f subscribePerAcq=%.2f"
                        + " unsubscribePerAcq=%.2f publishPerAcq=%.2f scriptUsecPerAcq=%.1f usecPerScript=%.1f"
                        + " serverUsecPerAcq=%.1f commandsPerAcq=%.2f",
                label, params, acquisitions, scripts[0] / n, calls(stats, "subscribe") / n,
                calls(stats, "unsubscribe") / n, calls(stats, "publish") / n, scripts[1] / n,
                scripts[0] == 0 ? 0.0 : (double) scripts[1] / scripts[0], allUsec / n, allCalls / n);
    }

    /**
     * A benchmark's measurement window: the nodes' counts are reset at the first measurement iteration and the
     * benchmark counts its operations in the measurement iterations, so that {@link #line} divides what the nodes ran
     * while measured by the operations measured.
     */
    static final class Window {
        private boolean started;
        private boolean measuring;
        private long operations;

        /** At each iteration's setup: whether it measures; resets the nodes' counts at the first that does. */
        boolean iteration(IterationParams params, RedisServers servers) {
            measuring = params.getType() == IterationType.MEASUREMENT;
            if (measuring && !started) {
                reset(servers);
                started = true;
            }
            return measuring;
        }

        /** Counts {@code n} operations when the current iteration measures. */
        void count(long n) {
            if (measuring) {
                operations += n;
            }
        }

        /** The {@code COMMANDS} line of the measurement iterations so far. */
        String line(String label, String params, RedisServers servers) {
            return CommandStats.line(label, params, read(servers), operations);
        }
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
