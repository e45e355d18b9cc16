package dev.redlock.demo;

import dev.redlock.LockOptions;
import dev.redlock.NodeStatus;
import dev.redlock.ReactiveRedLock;
import dev.redlock.RedLockBuilder;
import dev.redlock.RedisNode;
import dev.redlock.RestartGuard;
import dev.redlock.metrics.LockMetricsRecorder;
import dev.redlock.micrometer.RedlockMetrics;
import dev.redlock.monitor.LockStats;
import dev.redlock.monitor.MonitorServer;
import dev.redlock.monitor.RedlockMonitor;
import dev.redlock.testkit.RedisServer;
import dev.redlock.testkit.RedisServers;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.Console;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.BindException;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The demo: K reactive workers contend for H hot keys through {@code withLock} on real Redis nodes, each critical
 * section a non-atomic read-modify-write of a counter in Redis. Any loss of mutual exclusion shows up as a lost
 * update, so the run passes only if every counter equals the sections completed on its key. The counters live on a
 * data node that is not a lock node, so faults of lock nodes ({@code --chaos}) cannot touch the check itself; see
 * {@link Workload} for why the check stays exact when sections are cancelled.
 *
 * <p>{@code java -jar demo/target/redlock-demo.jar [--workers 16] [--duration 20s] [--keys 3] [--chaos]
 * [--nodes redis://... --data redis://...]}
 *
 * <p>Exit codes: 0 pass, 1 fail (lost update, counters not checkable, errors, or nodes unusable), 2 bad command line.
 */
@Command(
        name = "redlock-demo",
        mixinStandardHelpOptions = true,
        versionProvider = Demo.Version.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        description = {
            "Runs K workers that contend for H hot keys through ReactiveRedLock.withLock on real Redis nodes.",
            "Each critical section is a non-atomic read-modify-write of a counter in Redis (GET, pause, SET+1),"
                    + " so any overlap of two holders shows up as a lost update.",
            "The counters live on a data node that is not a lock node (--data, or one more embedded"
                    + " redis-server), so losing lock nodes cannot break the check. A section counts as completed when"
                    + " the data node acknowledged its SET, even if the section was cancelled after sending it (lease"
                    + " lost, or the end of the run): a SET is never cancelled once sent, and all of them go through"
                    + " one connection in order, so the check stays exact.",
            "PASS (exit 0) when every counter equals the sections completed on its key. FAIL (exit 1) on a lost"
                    + " update, a counter that cannot be checked exactly (a SET whose outcome is unknown), or any other"
                    + " error; sections that found no quorum of lock nodes and lost leases are reported but are not"
                    + " failures: that is the lock refusing rather than risking two holders. A bad command line"
                    + " exits 2.",
            "The run stops at its duration even when nodes are unreachable: sections in flight then get"
                    + " 1 s to finish and are then cancelled, which releases their locks.",
            ""
        },
        footer = {
            "",
            "Examples:",
            "  java -jar demo/target/redlock-demo.jar",
            "  java -jar demo/target/redlock-demo.jar --workers 64 --keys 1 --duration 1m",
            "  java -jar demo/target/redlock-demo.jar --chaos --duration 30s",
            "  java -jar demo/target/redlock-demo.jar --data redis://h4:6379 \\",
            "      --nodes redis://h1:6379,redis://h2:6379,redis://h3:6379"
        })
public final class Demo implements Callable<Integer> {

    /** Exit code of a run whose counters all match. */
    public static final int PASS = 0;
    /** Exit code of a failed run (lost update, unexpected errors, nodes unusable). */
    public static final int FAIL = 1;
    /** Exit code of a bad command line. */
    public static final int USAGE = 2;

    static final int EMBEDDED_NODES = 5;
    static final Duration MAX_WAIT = Duration.ofSeconds(30);
    private static final Duration WARM_UP_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration MONITOR_START_TIMEOUT = Duration.ofSeconds(10);
    /** How long sections in flight at the end may still take before they are cancelled (as the help says). */
    static final Duration END_GRACE = Duration.ofSeconds(1);
    /** The data node's command timeout, and how long the end of the run waits for SET replies. */
    private static final Duration DATA_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration INTERRUPT_GRACE = Duration.ofSeconds(8);
    private static final String HINT = "Run with --help for the options.";

    @Option(names = {"-w", "--workers"}, defaultValue = "16", paramLabel = "K",
            description = "Concurrent workers, each looping over critical sections (default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = {"-d", "--duration"}, defaultValue = "20s", paramLabel = "D", converter = Durations.Converter.class,
            description = "How long the workers run: 20s, 500ms, 2m or plain seconds (default: ${DEFAULT-VALUE}).")
    Duration duration;

    @Option(names = {"-k", "--keys"}, defaultValue = "3", paramLabel = "H",
            description = "Hot keys hot-0 .. hot-(H-1); each worker picks one at random per section"
                    + " (default: ${DEFAULT-VALUE}).")
    int keys;

    @Option(names = "--hold", defaultValue = "2ms", paramLabel = "T", converter = Durations.Converter.class,
            description = "Pause between the GET and the SET of a critical section (default: ${DEFAULT-VALUE}).")
    Duration hold;

    @Option(names = "--lease", defaultValue = "5s", paramLabel = "T", converter = Durations.Converter.class,
            description = "Lease time of each lock; the watchdog renews it while a section runs"
                    + " (default: ${DEFAULT-VALUE}).")
    Duration lease;

    @Option(names = "--nodes", split = ",", paramLabel = "URI", converter = NodeUriConverter.class,
            description = "Use these running, independent Redis masters (an odd number, comma-separated"
                    + " redis:// or rediss:// URIs) instead of starting " + EMBEDDED_NODES
                    + " embedded redis-server nodes. Needs --data.")
    List<String> nodes;

    @Option(names = "--data", paramLabel = "URI", converter = NodeUriConverter.class,
            description = "The Redis that keeps the counters (keys " + Workload.COUNTER_PREFIX + "*, reset at the"
                    + " start); never one of the lock nodes, so that losing lock nodes cannot break the check."
                    + " Required with --nodes (any spare Redis will do). Without --nodes the demo starts one more"
                    + " embedded redis-server for it.")
    String data;

    @Option(names = "--chaos",
            description = "Faults during the run, on the embedded nodes only: every 1.5-3 s one lock node is killed"
                    + " (restarted on the same port 1-2.5 s later), paused with SIGSTOP for 0.5-2.5 s, or restarted at"
                    + " once, forgetting its locks. At most (N-1)/2 nodes (2 of " + EMBEDDED_NODES + ") are out at"
                    + " once, counting a restarted node until the restart guard lets it vote again (after the lease"
                    + " time), so a quorum remains and the lock goes on; the run must still PASS.")
    boolean chaos;

    @Option(names = "--chaos-seed", paramLabel = "SEED",
            description = "Seed of the --chaos choices (default: random; the run prints it), to repeat a run's"
                    + " faults.")
    Long chaosSeed;

    @Option(names = "--restart-guard", defaultValue = "STRICT", paramLabel = "MODE",
            description = "Restart guard for --nodes: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}, which does"
                    + " not count a node younger than the maximum lease time; RUN_ID trusts nodes on first contact,"
                    + " safe only when none can have forgotten a lease). The embedded nodes always use RUN_ID: the"
                    + " demo started them itself and is their only client, so their maximum lease time is --lease and"
                    + " a restarted one is held out that long.")
    RestartGuard restartGuard;

    @Option(names = "--monitor-port", defaultValue = "9464", paramLabel = "PORT",
            description = "Port of the monitoring server on 127.0.0.1: the live dashboard at /dashboard, /health,"
                    + " /stats, /events and /metrics (Prometheus) while the demo runs; 0 picks a free port, and so"
                    + " does a taken default (default: ${DEFAULT-VALUE}).")
    int monitorPort;

    @Option(names = "--no-monitor", description = "Do not start the monitoring server.")
    boolean noMonitor;

    @Spec
    CommandSpec spec;

    /** The monitoring server's figures, made with the client ({@link #instrument}) and served by {@link #observe}. */
    private PrometheusMeterRegistry prometheus;
    private LockStats stats;

    private final PrintStream out;
    private final PrintStream err;

    private Demo(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /** Runs the demo and exits with its exit code. */
    public static void main(String[] args) {
        System.exit(run(System.out, System.err, args));
    }

    /**
     * Runs the demo in this JVM and returns the exit code: {@link #PASS}, {@link #FAIL} or {@link #USAGE}. Blocks
     * the calling thread, which must not be a Reactor or Netty thread.
     */
    public static int run(PrintStream out, PrintStream err, String... args) {
        CommandLine cmd = new CommandLine(new Demo(out, err));
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        cmd.setParameterExceptionHandler((ex, ignoredArgs) -> {
            PrintWriter w = ex.getCommandLine().getErr();
            w.println("redlock-demo: " + ex.getMessage());
            w.println(HINT);
            w.flush();
            return USAGE;
        });
        cmd.setExecutionExceptionHandler((ex, ignoredCmd, ignoredParse) -> {
            err.println("redlock-demo: error: " + describe(ex));
            err.flush();
            out.println("RESULT: FAIL (" + ex.getClass().getSimpleName() + ", see the error above)");
            out.flush();
            return FAIL;
        });
        return cmd.execute(args);
    }

    // == The run ==

    @Override
    public Integer call() {
        LockOptions options = checkOptions();
        if (chaos) {
            quietExpectedWarnings();
        }
        ReactiveRedLock external = nodes == null ? null : client(nodes, options, "--nodes", restartGuard, false);

        Resources resources = new Resources();
        resources.redlock = external;
        AtomicBoolean interrupted = new AtomicBoolean();
        CountDownLatch finished = new CountDownLatch(1);
        Thread hook = new Thread(() -> onInterrupt(resources, interrupted, finished), "redlock-demo-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return execute(options, resources, interrupted);
        } finally {
            resources.close(err);
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running (Ctrl-C); it waits for the latch above
            }
        }
    }

    private int execute(LockOptions options, Resources resources, AtomicBoolean interrupted) {
        out.printf(Locale.ROOT, "reactive-redlock demo: %d worker%s, %d hot key%s, %s, hold %s, lease %s (watchdog on),"
                        + " max wait %s%s%n",
                workers, workers == 1 ? "" : "s", keys, keys == 1 ? "" : "s", Durations.format(duration), Durations.format(hold),
                Durations.format(lease), Durations.format(MAX_WAIT), chaos ? ", chaos on" : "");
        boolean embedded = nodes == null;
        List<RedisServer> lockServers = List.of();
        String dataUri = data;
        if (embedded) {
            boolean ownDataNode = data == null;
            out.printf("Starting %d embedded redis-server nodes%s on 127.0.0.1 ...%n", EMBEDDED_NODES,
                    ownDataNode ? " and a data node" : "");
            out.flush();
            long t0 = System.nanoTime();
            resources.servers = RedisServers.start(EMBEDDED_NODES + (ownDataNode ? 1 : 0));
            lockServers = resources.servers.list().subList(0, EMBEDDED_NODES);
            if (ownDataNode) {
                dataUri = resources.servers.get(EMBEDDED_NODES).uri();
            }
            out.printf(Locale.ROOT, "Started in %.1f s%n", (System.nanoTime() - t0) / 1e9);
            List<String> uris = lockServers.stream().map(RedisServer::uri).collect(Collectors.toList());
            resources.redlock = client(uris, options, "embedded nodes", RestartGuard.RUN_ID, true);
        }
        ReactiveRedLock redlock = resources.redlock;
        String nodeList = redlock.nodes().stream().map(RedisNode::toString).collect(Collectors.joining(", "));
        out.printf("Nodes: %s (quorum %d of %d)%n", nodeList, redlock.quorum(), redlock.nodes().size());

        String dataNode = RedisNode.of(dataUri).toString();
        RedisURI counterUri = RedisURI.create(dataUri.trim());
        counterUri.setTimeout(DATA_TIMEOUT);
        resources.counterClient = RedisClient.create(counterUri);
        StatefulRedisConnection<String, String> counterConnection = resources.counterClient.connect();
        Workload workload = new Workload(redlock, options, counterConnection, keys, workers, hold);
        resources.workload = workload;
        if (interrupted.get()) {
            out.println("RESULT: FAIL (interrupted before the start)");
            return FAIL;
        }
        workload.resetCounters();
        workload.warmUp(WARM_UP_TIMEOUT);
        out.printf("Counters: %s%s on %s, the data node, not a lock node (reset to 0)%n", Workload.COUNTER_PREFIX,
                keys == 1 ? "hot-0" : "hot-{0.." + (keys - 1) + "}", dataNode);
        resources.observer = observe(redlock);
        long seed = chaosSeed != null ? chaosSeed : ThreadLocalRandom.current().nextLong(1, 1_000_000); // easy to type
        if (chaos) {
            out.printf(Locale.ROOT, "Chaos: from %s on, a fault every 1.5-3s on at most %d of %d lock nodes at once;"
                            + " seed %d (--chaos-seed %d repeats the choices)%n",
                    Durations.format(Chaos.FIRST_FAULT), (EMBEDDED_NODES - 1) / 2, EMBEDDED_NODES, seed, seed);
        }
        out.println();
        out.flush();

        long start = System.nanoTime();
        long elapsedNanos;
        try (Progress progress = new Progress(out, isTerminal(out), workload.stats(), () -> countingNodes(redlock),
                start, duration)) {
            progress.start();
            if (chaos) {
                resources.chaos = new Chaos(lockServers, redlock, seed, redlock.maxLeaseTime(), progress::event, start);
                resources.chaos.start();
            }
            try {
                workload.run(start + duration.toNanos(), END_GRACE);
            } finally {
                elapsedNanos = System.nanoTime() - start;
                Chaos c = resources.chaos;
                if (c != null) {
                    c.stop(); // resumes paused nodes, so that the releases at the end are answered
                }
            }
        }
        int unanswered = workload.awaitWrites(DATA_TIMEOUT);
        return summarize(workload, redlock, embedded, dataNode, resources.chaos, unanswered, elapsedNanos,
                interrupted.get());
    }

    /**
     * Where the monitoring server plugs in, step 1 of 2: what it needs on the client's builder (such as a metrics
     * recorder) goes here, for the embedded nodes and {@code --nodes} alike. Adds nothing yet.
     */
    private RedLockBuilder instrument(RedLockBuilder builder) {
        if (noMonitor) {
            return builder;
        }
        // one group per hot key (few: --keys), so the dashboard and the meters show each key
        prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        stats = LockStats.groupedBy(key -> key);
        RedlockMetrics metrics = RedlockMetrics.builder(prometheus).groupBy(key -> key).build();
        return builder.metricsRecorder(LockMetricsRecorder.composite(metrics, stats));
    }

    /**
     * Step 2 of 2: called once the lock client is built and a quorum answers, before the workers start. Starts what
     * watches the client (the monitoring server), prints where to find it (the dashboard URL), and returns what to
     * close at exit; it is closed before the client. Starts nothing yet.
     */
    private AutoCloseable observe(ReactiveRedLock redlock) {
        if (noMonitor) {
            return () -> { };
        }
        MonitorServer server;
        try {
            server = startMonitor(redlock, monitorPort);
        } catch (RuntimeException e) {
            if (monitorPort == 0 || !isAddressInUse(e)) {
                throw e;
            }
            out.printf("Monitor: port %d is taken, using a free one%n", monitorPort);
            server = startMonitor(redlock, 0);
        }
        out.printf("Dashboard: %s   (also /health, /stats, /events, /metrics; live while the demo runs)%n",
                server.dashboardUrl());
        return server;
    }

    private MonitorServer startMonitor(ReactiveRedLock redlock, int port) {
        return RedlockMonitor.builder(redlock).stats(stats).prometheus(prometheus).port(port).build().start()
                .block(MONITOR_START_TIMEOUT);
    }

    private static boolean isAddressInUse(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BindException
                    || String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT).contains("address already in use")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Under {@code --chaos} every fault is printed as it happens, and the warnings it causes are expected: Lettuce
     * failing to reconnect to a killed node (on every attempt) or using a connection the lock client closed, the
     * lock client holding out a restarted node or reconnecting to a paused one. They would only repeat the chaos lines on stderr, breaking the progress line, so
     * they are raised to errors. Set before the first of those loggers exists; a {@code -D} setting of the same
     * property wins.
     */
    private static void quietExpectedWarnings() {
        for (String logger : List.of("io.lettuce.core.protocol.ConnectionWatchdog", "io.lettuce.core.RedisChannelHandler",
                "dev.redlock.internal.node")) {
            String key = "org.slf4j.simpleLogger.log." + logger;
            if (System.getProperty(key) == null) {
                System.setProperty(key, "error");
            }
        }
    }

    /** How many lock nodes count toward a quorum now, e.g. {@code 4/5}. Non-blocking. */
    private static String countingNodes(ReactiveRedLock redlock) {
        List<NodeStatus> status = redlock.nodeStatus();
        return status.stream().filter(NodeStatus::counts).count() + "/" + status.size();
    }

    private int summarize(Workload w, ReactiveRedLock redlock, boolean embedded, String dataNode, Chaos chaosRun,
            int unanswered, long elapsedNanos, boolean interrupted) {
        Stats stats = w.stats();
        stats.interval(); // drain the last partial second into the totals
        Histogram waits = stats.total();
        Long[] counters = null;
        String counterFailure = null;
        if (!interrupted) {
            try {
                counters = w.readCounters();
            } catch (RuntimeException e) {
                counterFailure = describe(e);
            }
        }

        List<String> problems = new ArrayList<>();
        double seconds = elapsedNanos / 1e9;
        out.println();
        out.printf(Locale.ROOT, "Summary after %.1f s%s%n", seconds, interrupted ? " (interrupted)" : "");
        out.printf("  %-10s %12s %12s  %s%n", "key", "sections", "counter", "check");
        int mismatches = 0;
        int uncertain = 0;
        for (int i = 0; i < w.keys(); i++) {
            long done = stats.completedOf(i);
            long unknown = stats.unknownWritesOf(i);
            String counterText;
            String check;
            if (counters == null) {
                counterText = "?";
                check = "NOT CHECKED";
            } else {
                long value = counters[i] == null ? 0 : counters[i];
                counterText = Long.toString(value);
                if (value == done && unknown == 0) {
                    check = "OK";
                } else if (value >= done && value <= done + unknown) {
                    uncertain++;
                    check = "UNCERTAIN (" + unknown + " SET" + (unknown == 1 ? "" : "s") + " with unknown outcome)";
                } else {
                    mismatches++;
                    long lostUpdates = done - value;
                    check = lostUpdates > 0
                            ? "MISMATCH (" + lostUpdates + (lostUpdates == 1 ? " lost update" : " lost updates") + ")"
                            : "MISMATCH (" + -lostUpdates + " more than the sections wrote)";
                }
            }
            out.printf("  %-10s %12d %12s  %s%n", w.lockKey(i), done, counterText, check);
        }
        long total = stats.completedTotal();
        out.printf(Locale.ROOT, "  %-10s %12d%n", "total", total);
        out.printf(Locale.ROOT, "Throughput:   %.1f sections/s (%d worker%s on %d key%s)%n",
                total / Math.max(seconds, 1e-9), workers, workers == 1 ? "" : "s", w.keys(), w.keys() == 1 ? "" : "s");
        out.printf("Lock wait:    p50 %s  p90 %s  p99 %s  max %s  (lock requested -> section entered)%n",
                Progress.millis(waits, 50).trim(), Progress.millis(waits, 90).trim(),
                Progress.millis(waits, 99).trim(),
                waits.getTotalCount() == 0 ? "- ms" : Progress.millis(waits.getMaxValue()).trim());
        out.printf("Leases lost:  %d%n", stats.lost());
        if (chaosRun != null || stats.unavailable() > 0) {
            out.printf("Unavailable:  %d (sections that found no quorum of lock nodes: reported, not a failure)%n",
                    stats.unavailable());
        }
        out.printf("Errors:       %d%n", stats.errors());
        for (String sample : stats.errorSamples()) {
            out.println("  " + oneLine(sample));
        }
        if (w.cutOff() > 0) {
            out.printf("Cut off:      %d section%s still in flight %s after the end, cancelled (locks released; a SET"
                    + " already sent counts once acknowledged)%n", w.cutOff(), w.cutOff() == 1 ? "" : "s",
                    Durations.format(END_GRACE));
        }
        if (chaosRun != null) {
            out.printf("Chaos:        %s%n", chaosRun.summary());
        }
        out.printf("Nodes:        %s%s%n",
                redlock.nodes().stream().map(RedisNode::toString).collect(Collectors.joining(", ")),
                embedded ? " (embedded, stopped at exit)" : "");
        out.printf("Data node:    %s%s%n", dataNode, embedded && data == null ? " (embedded, stopped at exit)" : "");

        if (interrupted) {
            problems.add("interrupted before the end; counters not checked");
        } else if (counterFailure != null) {
            problems.add("cannot read the counters: " + counterFailure);
        }
        if (mismatches > 0) {
            problems.add(mismatches + (mismatches == 1 ? " key has" : " keys have") + " lost updates");
        }
        if (uncertain > 0) {
            problems.add(uncertain + (uncertain == 1 ? " key" : " keys") + " not checkable exactly (SET outcomes"
                    + " unknown)");
        }
        if (unanswered > 0) {
            problems.add(unanswered + (unanswered == 1 ? " SET" : " SETs") + " unanswered after "
                    + Durations.format(DATA_TIMEOUT) + "; counters not checkable exactly");
        }
        if (stats.errors() > 0) {
            problems.add(stats.errors() + (stats.errors() == 1 ? " error" : " errors"));
        }
        if (total == 0 && !interrupted) {
            problems.add("no critical section completed");
        }
        if (problems.isEmpty()) {
            out.println("RESULT: PASS");
            out.flush();
            return PASS;
        }
        out.println("RESULT: FAIL (" + String.join("; ", problems) + ")");
        out.flush();
        return FAIL;
    }

    // == Options ==

    /** Checks what the parser cannot; throws {@link ParameterException}, which picocli turns into exit code 2. */
    private LockOptions checkOptions() {
        if (workers < 1) {
            throw usage("--workers must be at least 1, got " + workers);
        }
        if (keys < 1) {
            throw usage("--keys must be at least 1, got " + keys);
        }
        if (duration.isNegative() || duration.isZero()) {
            throw usage("--duration must be positive, got " + Durations.format(duration));
        }
        if (hold.isNegative()) {
            throw usage("--hold must not be negative, got " + Durations.format(hold));
        }
        if (lease.isNegative() || lease.isZero()) {
            throw usage("--lease must be positive, got " + Durations.format(lease));
        }
        if (chaos && nodes != null) {
            throw usage("--chaos kills, pauses and restarts lock nodes, so it runs only on the embedded nodes the demo"
                    + " starts itself, not with --nodes");
        }
        if (chaosSeed != null && !chaos) {
            throw usage("--chaos-seed needs --chaos");
        }
        if (monitorPort < 0 || monitorPort > 65_535) {
            throw usage("--monitor-port must be between 0 (a free port) and 65535, got " + monitorPort);
        }
        if (nodes != null && data == null) {
            throw usage("--nodes needs --data redis://host:port, a Redis for the counters that is not a lock node,"
                    + " so that losing a lock node cannot break the check");
        }
        if (nodes != null) {
            String dataNode = RedisNode.of(data).name();
            if (nodes.stream().anyMatch(n -> RedisNode.of(n).name().equals(dataNode))) {
                throw usage("--data " + dataNode + " is one of the --nodes; the counters need a Redis that is not a"
                        + " lock node");
            }
        }
        try {
            return LockOptions.builder().leaseTime(lease).maxWait(MAX_WAIT).watchdog(true).build();
        } catch (IllegalArgumentException e) {
            throw usage("--lease " + Durations.format(lease) + ": " + e.getMessage());
        }
    }

    /**
     * Builds the client; the library's {@link IllegalArgumentException} (even node count, ...) is a usage error. The
     * demo's own embedded nodes are trusted on first contact ({@link RestartGuard#RUN_ID}): it started them itself, so
     * no lease can exist that they could have forgotten; and since the demo is their only client, their maximum lease
     * time is {@code --lease}, so the restart guard holds a restarted node out for that long (not the library's
     * default 60 s). Nodes given with {@code --nodes} get {@code --restart-guard}: by default the library's safe
     * default, which holds out a node younger than the maximum lease time; other clients may share them, so the
     * maximum lease time stays the default unless {@code --lease} is longer.
     */
    private ReactiveRedLock client(List<String> uris, LockOptions options, String what, RestartGuard guard,
            boolean onlyClient) {
        try {
            RedLockBuilder builder = ReactiveRedLock.builder()
                    .nodes(uris.stream().map(String::trim).toArray(String[]::new))
                    .restartGuard(guard)
                    .defaults(options);
            if (onlyClient || lease.compareTo(RedLockBuilder.DEFAULT_MAX_LEASE_TIME) > 0) {
                builder.maxLeaseTime(lease);
            }
            return instrument(builder).build();
        } catch (IllegalArgumentException e) {
            throw usage(what + ": " + e.getMessage());
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** Checks each {@code --nodes} URI as the library will parse it. */
    static final class NodeUriConverter implements CommandLine.ITypeConverter<String> {
        @Override
        public String convert(String value) {
            try {
                RedisNode.of(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
            return value.trim();
        }
    }

    /** The version from the jar manifest. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Demo.class.getPackage().getImplementationVersion();
            return new String[] {"redlock-demo " + (v == null ? "(development build)" : v)};
        }
    }

    // == Lifecycle ==

    /** Everything to close, whatever happened; closed by the main path or, on Ctrl-C, by the shutdown hook. */
    private static final class Resources {
        volatile RedisServers servers;
        volatile ReactiveRedLock redlock;
        volatile RedisClient counterClient;
        volatile Workload workload;
        volatile Chaos chaos;
        volatile AutoCloseable observer;
        private final AtomicBoolean closed = new AtomicBoolean();

        void close(PrintStream err) {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            Workload w = workload;
            if (w != null) {
                w.abort();
            }
            closeQuietly(err, "stopping the chaos", chaos);
            closeQuietly(err, "closing the monitoring", observer);
            closeQuietly(err, "closing the lock client", redlock);
            RedisClient c = counterClient;
            closeQuietly(err, "closing the counter connection",
                    c == null ? null : () -> c.shutdown(Duration.ZERO, Duration.ofSeconds(2)));
            closeQuietly(err, "stopping the embedded nodes", servers);
        }

        private static void closeQuietly(PrintStream err, String what, AutoCloseable resource) {
            if (resource == null) {
                return;
            }
            try {
                resource.close();
            } catch (Exception e) {
                err.println("redlock-demo: warning: " + what + " failed: " + describe(e));
            }
        }
    }

    /** Ctrl-C: stop the workers, let the main thread print what it has, and make sure the nodes are stopped. */
    private void onInterrupt(Resources resources, AtomicBoolean interrupted, CountDownLatch finished) {
        interrupted.set(true);
        err.println();
        err.println("redlock-demo: interrupted; stopping the workers and the nodes ...");
        err.flush();
        Workload w = resources.workload;
        if (w != null) {
            w.abort();
        }
        try {
            if (finished.await(INTERRUPT_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        resources.close(err);
    }

    // == Helpers ==

    /** Whether progress can be rewritten in place: stdout itself, attached to a terminal. */
    private static boolean isTerminal(PrintStream stream) {
        if (stream != System.out) {
            return false;
        }
        Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            // JDK 22+ returns a Console even when redirected; isTerminal() tells the truth there
            Method isTerminal = Console.class.getMethod("isTerminal");
            return (Boolean) isTerminal.invoke(console);
        } catch (NoSuchMethodException e) {
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    /** The message and the chain of causes, on one line. */
    static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder();
        Throwable t = e;
        for (int depth = 0; t != null && depth < 4; depth++, t = t.getCause()) {
            if (depth > 0) {
                sb.append(" <- ");
            }
            String msg = t.getMessage();
            sb.append(msg == null || msg.isBlank() ? t.getClass().getSimpleName() : msg);
            if (t.getCause() == t) {
                break;
            }
        }
        return oneLine(sb.toString());
    }

    private static String oneLine(String s) {
        return s.replaceAll("\\s*\\R\\s*", " ");
    }
}
