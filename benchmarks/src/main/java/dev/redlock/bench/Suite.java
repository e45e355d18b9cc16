package dev.redlock.bench;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatFactory;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormat;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Runs the suite and writes, into one directory, the JMH console log ({@code run.log}), the results
 * ({@code results.csv}) and the README tables with the ratios ({@code summary.md}, also printed at the end).
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.redlock.bench.Suite            # full suite, about 30 min
 * java -cp benchmarks/target/benchmarks.jar dev.redlock.bench.Suite --quick    # reduced set, under 3 min
 * java -cp benchmarks/target/benchmarks.jar dev.redlock.bench.Suite --out DIR [JMH options...]
 * </pre>
 *
 * The full suite uses each class's annotations (1 fork, 5 × 2 s warm-up, 5 × 2 s measurement, every parameter)
 * with {@code -prof gc}; further arguments are JMH command-line options (e.g. {@code -p nodes=5}, {@code -f 2},
 * a benchmark regex). The quick mode runs every benchmark once on a reduced parameter set, 1 × 1 s warm-up and
 * 1 × 1 s measurement, one fork per trial; it is also what {@code BenchmarksSmokeIT} runs in {@code ./mvnw verify}.
 */
public final class Suite {

    private Suite() {}

    private static final String USAGE = String.join("\n",
            "Usage: java -cp benchmarks/target/benchmarks.jar dev.redlock.bench.Suite [--quick] [--out DIR] [JMH options]",
            "",
            "  (no option)  the full suite: every benchmark and parameter, 5 x 2 s warm-up + 5 x 2 s, -prof gc (~30 min)",
            "  --quick      every benchmark once on a reduced parameter set, 1 x 1 s + 1 x 1 s (a smoke test, < 3 min)",
            "  --out DIR    where run.log, results.csv and summary.md go (default benchmarks/target/bench-<mode>-<time>)",
            "  --help       this text",
            "  JMH options  passed on, e.g. -p nodes=5, -f 2, or a benchmark regex such as ContendedBenchmark",
            "");

    public static void main(String[] args) throws Exception {
        List<String> rest = new ArrayList<>(Arrays.asList(args));
        if (rest.contains("--help") || rest.contains("-h")) {
            System.out.print(USAGE);
            return;
        }
        boolean quick = rest.remove("--quick");
        Path out = null;
        int at = rest.indexOf("--out");
        if (at >= 0) {
            if (at + 1 >= rest.size()) {
                System.err.println("--out needs a directory\n\n" + USAGE);
                System.exit(2);
            }
            out = Path.of(rest.get(at + 1));
            rest.remove(at + 1);
            rest.remove(at);
        }
        if (out == null) {
            String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").format(ZonedDateTime.now(ZoneOffset.UTC));
            Path base = Files.isDirectory(Path.of("benchmarks", "target")) ? Path.of("benchmarks", "target") : Path.of(".");
            out = base.resolve("bench-" + (quick ? "quick" : "full") + "-" + stamp);
        }
        String command = "java -cp benchmarks/target/benchmarks.jar " + Suite.class.getName()
                + (args.length == 0 ? "" : " " + String.join(" ", args));
        Collection<RunResult> results;
        try {
            results = run(quick, out, command, rest.toArray(String[]::new));
        } catch (CommandLineOptionException e) {
            System.err.println(e.getMessage() + "\n\n" + USAGE);
            System.exit(2);
            return;
        }
        System.out.println();
        System.out.println("Results: " + out.toAbsolutePath() + " (" + results.size() + " trials)");
    }

    /**
     * Runs the quick or full plan, writing run.log, results.csv and summary.md into {@code out}.
     *
     * @return the results of every trial
     */
    public static Collection<RunResult> run(boolean quick, Path out, String command, String... jmhArgs)
            throws IOException, RunnerException, CommandLineOptionException {
        Files.createDirectories(out);
        CommandLineOptions cli = new CommandLineOptions(jmhArgs);
        List<Collection<RunResult>> parts = new ArrayList<>();
        String header = machine(command, quick);
        PrintStream console = System.out;
        try (OutputStream logFile = Files.newOutputStream(out.resolve("run.log"));
                PrintStream tee = new PrintStream(new Tee(console, logFile), true, StandardCharsets.UTF_8)) {
            // JMH copies the forks' own output (the HANDOFF and WATCHDOG lines) to System.out, not to the format
            System.setOut(tee);
            tee.println(header);
            OutputFormat format = OutputFormatFactory.createFormatInstance(tee, VerboseMode.NORMAL);
            for (Options options : quick ? quickPlan(cli) : fullPlan(cli)) {
                try {
                    parts.add(new Runner(options, format).run());
                } catch (RunnerException e) {
                    if (quick) {
                        throw e; // the smoke test must fail
                    }
                    tee.println("# FAILED: " + options.getIncludes() + ": " + e);
                }
            }
            tee.println("# load average at the end: " + loadAverage());
        } finally {
            System.setOut(console);
        }
        List<RunResult> all = new ArrayList<>();
        parts.forEach(all::addAll);
        Path csv = out.resolve("results.csv");
        ResultFormatFactory.getInstance(ResultFormatType.CSV, csv.toString()).writeOut(all);
        List<String> log = Files.readAllLines(out.resolve("run.log"), StandardCharsets.UTF_8);
        String summary = header + "# load average at the end: " + loadAverage() + "\n\n" + Summary.render(csv, log);
        Files.writeString(out.resolve("summary.md"), summary, StandardCharsets.UTF_8);
        System.out.println();
        System.out.print(summary);
        return all;
    }

    /** The benchmark classes, in the order the full suite runs them. */
    static final List<String> CLASSES = List.of("UncontendedBenchmark", "CycleLatencyBenchmark", "ContendedBenchmark",
            "HandoffFloorBenchmark", "WithLockBenchmark", "FencingBenchmark", "WatchdogBenchmark",
            "SemaphoreBenchmark", "FairLockBenchmark", "ReadWriteLockBenchmark", "MultiLockBenchmark",
            "MetricsOverheadBenchmark");

    /**
     * Every benchmark with its annotated parameters and iterations, plus the GC profiler; one JMH run per class (or
     * one run of what the command line includes), and a failing trial does not stop the suite (the summary lists
     * it).
     */
    static List<Options> fullPlan(Options cli) {
        if (!cli.getIncludes().isEmpty()) {
            return List.of(new OptionsBuilder().parent(cli).addProfiler(GCProfiler.class).build());
        }
        List<Options> plan = new ArrayList<>();
        for (String benchmarkClass : CLASSES) {
            plan.add(new OptionsBuilder().parent(cli).include("\\." + benchmarkClass + "\\.")
                    .addProfiler(GCProfiler.class).build());
        }
        return plan;
    }

    /**
     * The quick plan: every benchmark method once, every implementation at least once (every lock on 5 nodes in the
     * uncontended run, the cycle latency of this library only; the plain Redisson lock on 1 node in the contended run;
     * the semaphore, rate limiter, read-write and multi-key lock benchmarks for this library only; the fair lock on
     * 5 nodes and Redisson's RFairLock on 1; the Micrometer binding on, 5 nodes), no warm-up iteration (each trial's
     * setup runs cycles that open the connections and load the scripts; a smoke test's figures are not for comparison
     * anyway) and 1 × 1 s measurement per trial, one fork per trial.
     */
    static List<Options> quickPlan(Options cli) {
        return List.of(
                quick(cli, "UncontendedBenchmark").param("nodes", "5").param("inFlight", "16")
                        .addProfiler(GCProfiler.class).build(),
                quick(cli, "CycleLatencyBenchmark").param("nodes", "1").param("impl", "redlock").build(),
                quick(cli, "ContendedBenchmark").param("nodes", "1").build(),
                quick(cli, "HandoffFloorBenchmark").param("nodes", "1").build(),
                quick(cli, "WithLockBenchmark").param("nodes", "1").param("inFlight", "16").build(),
                quick(cli, "WatchdogBenchmark").param("nodes", "1").param("held", "2000").build(),
                quick(cli, "FencingBenchmark").param("nodes", "5").param("inFlight", "16").param("fencing", "true")
                        .build(),
                // one trial (about 10 s): the engine's semaphore on 5 nodes and its permit check; the Redisson
                // semaphores only run in full runs
                quick(cli, "SemaphoreBenchmark").param("nodes", "5").param("inFlight", "16").param("impl", "redlock")
                        .build(),
                // two trials (about 15 s): the fair lock on 5 nodes (its queues checked for leftovers on every node)
                // and Redisson's RFairLock on 1; the plain lock's trial and the other node count only in full runs
                quick(cli, "FairLockBenchmark").param("nodes", "5").param("impl", "fair").build(),
                quick(cli, "FairLockBenchmark").param("nodes", "1").param("impl", "redissonFair").build(),
                // one trial (about 10 s): the engine's rate limiter on 1 node and its accuracy line; the peers and the
                // other modes run with the benchmark's own command (benchmarks/README.md), not in the suite
                quick(cli, "RateLimiterBenchmark").param("nodes", "1").param("impl", "redlock").build(),
                // one trial each, without a warm-up iteration (the setup's first cycles open the connections and load
                // the scripts), about 5 s each: this library's read lock on 1 node with 16 readers on one key, and its
                // multi-key lock on 5 nodes (3 keys, 16 in flight), each with its COMMANDS line and leftover check;
                // the write lock, the Redisson peers and the other parameters only in full runs
                quick(cli, "ReadWriteLockBenchmark").param("nodes", "1").param("inFlight", "16").param("lock", "read")
                        .param("impl", "redlock").build(),
                quick(cli, "MultiLockBenchmark").param("nodes", "5").param("inFlight", "16").param("keys", "3")
                        .param("impl", "redlock").build(),
                // one trial without a warm-up iteration (about 5 s): the Micrometer binding on a Prometheus registry,
                // 5 nodes, 16 in flight, with its METRICS line (the acquires it recorded); off and with Observations
                // only in full runs
                quick(cli, "MetricsOverheadBenchmark").param("nodes", "5").param("inFlight", "16")
                        .param("metrics", "micrometer").build());
    }

    private static ChainedOptionsBuilder quick(Options cli, String benchmarkClass) {
        return new OptionsBuilder()
                .parent(cli)
                .include("\\." + benchmarkClass + "\\.")
                .forks(1)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.seconds(1))
                .shouldFailOnError(true);
    }

    /** What the figures were measured on; goes at the top of run.log and summary.md. */
    static String machine(String command, boolean quick) {
        String cpu = "unknown CPU";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    cpu = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: leave it unknown
        }
        return String.format(Locale.ROOT,
                "# reactive-redlock benchmarks (%s)%n"
                        + "# date: %s%n"
                        + "# machine: %d cores (%s), %s %s, JDK %s (%s), max heap of this JVM %d MiB%n"
                        + "# load average at the start: %s%n"
                        + "# command: %s%n",
                quick ? "quick mode" : "full suite",
                ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ISO_LOCAL_DATE_TIME) + "Z",
                Runtime.getRuntime().availableProcessors(), cpu,
                System.getProperty("os.name"), System.getProperty("os.version"),
                System.getProperty("java.runtime.version"), System.getProperty("java.vm.name"),
                Runtime.getRuntime().maxMemory() >> 20,
                loadAverage(),
                command);
    }

    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException | RuntimeException e) {
            return String.format(Locale.ROOT, "%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }
    }

    /** Writes to two streams. */
    private static final class Tee extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        Tee(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int c) throws IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }

        @Override
        public void flush() throws IOException {
            a.flush();
            b.flush();
        }
    }
}
