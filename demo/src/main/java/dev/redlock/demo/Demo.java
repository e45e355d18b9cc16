package dev.redlock.demo;

import dev.redlock.LockOptions;
import dev.redlock.ReactiveRedLock;
import dev.redlock.RedLockBuilder;
import dev.redlock.RedisNode;
import dev.redlock.RestartGuard;
import dev.redlock.testkit.RedisServers;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.Console;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
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
 * update, so the run passes only if every counter equals the sections completed on its key.
 *
 * <p>{@code java -jar demo/target/redlock-demo.jar [--workers 16] [--duration 20s] [--keys 3] [--nodes redis://...]}
 *
 * <p>Exit codes: 0 pass, 1 fail (lost update, errors, or nodes unusable), 2 bad command line.
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
            "PASS (exit 0) when every counter equals the sections completed on its key; FAIL exits 1,"
                    + " a bad command line 2.",
            ""
        },
        footer = {
            "",
            "Examples:",
            "  java -jar demo/target/redlock-demo.jar",
            "  java -jar demo/target/redlock-demo.jar --workers 64 --keys 1 --duration 1m",
            "  java -jar demo/target/redlock-demo.jar --nodes redis://h1:6379,redis://h2:6379,redis://h3:6379"
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
    private static final Duration HUNG_GRACE = Duration.ofSeconds(10);
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
                    + " embedded redis-server nodes. The counters live on the first node.")
    List<String> nodes;

    @Option(names = "--restart-guard", defaultValue = "STRICT", paramLabel = "MODE",
            description = "Restart guard for --nodes: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}, which does"
                    + " not count a node younger than the maximum lease time; RUN_ID trusts nodes on first contact,"
                    + " safe only when none can have forgotten a lease). The embedded nodes always use RUN_ID: the"
                    + " demo started them itself.")
    RestartGuard restartGuard;

    @Spec
    CommandSpec spec;

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
        ReactiveRedLock external = nodes == null ? null : client(nodes, options, "--nodes", restartGuard);

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
                        + " max wait %s%n",
                workers, workers == 1 ? "" : "s", keys, keys == 1 ? "" : "s", Durations.format(duration), Durations.format(hold),
                Durations.format(lease), Durations.format(MAX_WAIT));
        List<String> uris;
        boolean embedded = nodes == null;
        if (embedded) {
            out.printf("Starting %d embedded redis-server nodes on 127.0.0.1 ...%n", EMBEDDED_NODES);
            out.flush();
            long t0 = System.nanoTime();
            resources.servers = RedisServers.start(EMBEDDED_NODES);
            uris = resources.servers.uris();
            out.printf(Locale.ROOT, "Started in %.1f s%n", (System.nanoTime() - t0) / 1e9);
            resources.redlock = client(uris, options, "embedded nodes", RestartGuard.RUN_ID);
        } else {
            uris = nodes;
        }
        ReactiveRedLock redlock = resources.redlock;
        String nodeList = redlock.nodes().stream().map(RedisNode::toString).collect(Collectors.joining(", "));
        out.printf("Nodes: %s (quorum %d of %d)%n", nodeList, redlock.quorum(), redlock.nodes().size());

        RedisURI counterUri = RedisURI.create(uris.get(0).trim());
        counterUri.setTimeout(Duration.ofSeconds(5));
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
        out.printf("Counters: %s%s on %s (reset to 0)%n", Workload.COUNTER_PREFIX,
                keys == 1 ? "hot-0" : "hot-{0.." + (keys - 1) + "}", redlock.nodes().get(0));
        out.println();
        out.flush();

        long start = System.nanoTime();
        try (Progress progress = new Progress(out, isTerminal(out), workload.stats(), start, duration)) {
            progress.start();
            workload.run(start + duration.toNanos(), MAX_WAIT.plus(HUNG_GRACE));
        }
        long elapsedNanos = System.nanoTime() - start;
        return summarize(workload, redlock, embedded, elapsedNanos, interrupted.get());
    }

    private int summarize(Workload w, ReactiveRedLock redlock, boolean embedded, long elapsedNanos, boolean interrupted) {
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
        for (int i = 0; i < w.keys(); i++) {
            long done = stats.completedOf(i);
            String counterText;
            String check;
            if (counters == null) {
                counterText = "?";
                check = "NOT CHECKED";
            } else {
                long value = counters[i] == null ? 0 : counters[i];
                counterText = Long.toString(value);
                if (value == done) {
                    check = "OK";
                } else {
                    mismatches++;
                    check = "MISMATCH (" + (done - value) + (done - value == 1 ? " lost update" : " lost updates") + ")";
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
        out.printf("Errors:       %d%n", stats.errors());
        if (w.hung() > 0) {
            out.printf("Hung:         %d sections had not finished %s after the end and were cancelled%n",
                    w.hung(), Durations.format(MAX_WAIT.plus(HUNG_GRACE)));
        }
        for (String sample : stats.errorSamples()) {
            out.println("  " + oneLine(sample));
        }
        out.printf("Nodes:        %s%s%n",
                redlock.nodes().stream().map(RedisNode::toString).collect(Collectors.joining(", ")),
                embedded ? " (embedded, stopped at exit)" : "");

        if (interrupted) {
            problems.add("interrupted before the end; counters not checked");
        } else if (counterFailure != null) {
            problems.add("cannot read the counters: " + counterFailure);
        }
        if (mismatches > 0) {
            problems.add(mismatches + (mismatches == 1 ? " key has" : " keys have") + " lost updates");
        }
        if (w.hung() > 0) {
            problems.add(w.hung() + (w.hung() == 1 ? " section hung" : " sections hung"));
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
        try {
            return LockOptions.builder().leaseTime(lease).maxWait(MAX_WAIT).watchdog(true).build();
        } catch (IllegalArgumentException e) {
            throw usage("--lease " + Durations.format(lease) + ": " + e.getMessage());
        }
    }

    /**
     * Builds the client; the library's {@link IllegalArgumentException} (even node count, ...) is a usage error. The
     * demo's own embedded nodes are trusted on first contact ({@link RestartGuard#RUN_ID}): it started them itself, so
     * no lease can exist that they could have forgotten. Nodes given with {@code --nodes} get
     * {@code --restart-guard}: by default the library's safe default, which holds out a node younger than the
     * maximum lease time.
     */
    private ReactiveRedLock client(List<String> uris, LockOptions options, String what, RestartGuard guard) {
        try {
            RedLockBuilder builder = ReactiveRedLock.builder()
                    .nodes(uris.stream().map(String::trim).toArray(String[]::new))
                    .restartGuard(guard)
                    .defaults(options);
            if (lease.compareTo(RedLockBuilder.DEFAULT_MAX_LEASE_TIME) > 0) {
                builder.maxLeaseTime(lease);
            }
            return builder.build();
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
        private final AtomicBoolean closed = new AtomicBoolean();

        void close(PrintStream err) {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            Workload w = workload;
            if (w != null) {
                w.abort();
            }
            quietly(err, "closing the lock client", () -> {
                ReactiveRedLock r = redlock;
                if (r != null) {
                    r.close();
                }
            });
            quietly(err, "closing the counter connection", () -> {
                RedisClient c = counterClient;
                if (c != null) {
                    c.shutdown(Duration.ZERO, Duration.ofSeconds(2));
                }
            });
            quietly(err, "stopping the embedded nodes", () -> {
                RedisServers s = servers;
                if (s != null) {
                    s.close();
                }
            });
        }

        private static void quietly(PrintStream err, String what, Runnable action) {
            try {
                action.run();
            } catch (RuntimeException e) {
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
