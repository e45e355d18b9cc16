package dev.redlock.chaos;

import dev.redlock.LockOptions;
import dev.redlock.RestartGuard;
import dev.redlock.testkit.RedisServers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.HdrHistogram.Histogram;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One seeded chaos run: 2 lock clients (each behind its own proxies) with several workers each on a few contended
 * keys, a nemesis firing a fault about every 3 s, then quiescence, hygiene checks and the {@link Checker}. Prints
 * exactly one summary line; writes the seed, the fault schedule and the history under {@code target/chaos/} when the
 * run fails (or when {@code -Dchaos.keepHistory=true}).
 */
final class ChaosRun {

    /** What a run does; the defaults are the CI gate's. */
    static final class Config {
        String name = "ci";
        long seed;
        Duration duration = Duration.ofSeconds(55);
        int clients = 2;
        int workersPerClient = 8;
        int keys = 3;
        Duration ttl = Duration.ofSeconds(2);
        Duration nodeTimeout = Duration.ofMillis(100);
        Duration maxWait = Duration.ofSeconds(2);
        boolean fencing = true;
        RestartGuard guard = RestartGuard.RUN_ID;
        Duration csPauseMax = Duration.ofMillis(20);
        Duration margin = Duration.ofMillis(500);
        double longHoldProbability = 0.005;
        Duration meanFaultInterval = Duration.ofSeconds(3);
        Path outDir = Paths.get(System.getProperty("chaos.dir", "target/chaos"));
        boolean keepHistory = Boolean.getBoolean("chaos.keepHistory");

        Config seed(long seed) {
            this.seed = seed;
            return this;
        }

        Config name(String name) {
            this.name = name;
            return this;
        }

        Config duration(Duration duration) {
            this.duration = duration;
            return this;
        }

        LockOptions options() {
            return LockOptions.builder()
                    .leaseTime(ttl)
                    .nodeTimeout(nodeTimeout)
                    .maxWait(maxWait)
                    .fencing(fencing)
                    .watchdog(true)
                    .build();
        }

        String describe() {
            return "clients=" + clients + " workers/client=" + workersPerClient + " keys=" + keys + " ttl=" + ttl
                    + " maxLeaseTime=" + ttl + " nodeTimeout=" + nodeTimeout + " maxWait=" + maxWait + " fencing="
                    + fencing + " guard=" + guard + " cs=U(0," + csPauseMax.toMillis() + "ms) margin="
                    + margin.toMillis() + "ms longHolds=" + longHoldProbability + " meanFault="
                    + meanFaultInterval.toMillis() + "ms";
        }
    }

    /** The outcome of a run. */
    static final class Result {
        final Config config;
        final Checker.Verdict verdict;
        final int faultsApplied;
        final long maxStallNanos;
        final String assumptionBroken;
        Path dir;

        Result(Config config, Checker.Verdict verdict, int faultsApplied, long maxStallNanos, String assumptionBroken) {
            this.config = config;
            this.verdict = verdict;
            this.faultsApplied = faultsApplied;
            this.maxStallNanos = maxStallNanos;
            this.assumptionBroken = assumptionBroken;
        }

        long violations() {
            return verdict.total();
        }

        double percentileMillis(double p) {
            if (verdict.acquireLatencies.length == 0) {
                return 0;
            }
            Histogram h = new Histogram(3);
            for (long nanos : verdict.acquireLatencies) {
                h.recordValue(Math.max(1, nanos / 1_000));
            }
            return h.getValueAtPercentile(p) / 1000.0;
        }

        String summaryLine() {
            return String.format(Locale.ROOT,
                    "chaos %s seed=%d duration=%ds cs=%d faults=%d lost=%d violations=%d acquire p50=%.1fms p99=%.1fms",
                    config.name, config.seed, config.duration.toSeconds(), verdict.completedCs, verdict.faults,
                    verdict.lost, violations(), percentileMillis(50), percentileMillis(99));
        }

        /** What went wrong and where the evidence is. */
        String report() {
            StringBuilder b = new StringBuilder(summaryLine()).append('\n')
                    .append("  violations: ").append(verdict.breakdown()).append('\n')
                    .append("  acquires ok/fail/info: ").append(verdict.acquireOk).append('/').append(verdict.acquireFail)
                    .append('/').append(verdict.acquireInfo).append(", faults applied: ").append(faultsApplied)
                    .append(", harness errors: ").append(verdict.harnessErrors)
                    .append(", max JVM stall: ").append(Checker.ms(maxStallNanos))
                    .append(", latest loss signal after the believed deadline: ")
                    .append(Checker.ms(verdict.maxLossLatenessNanos)).append('\n');
            if (assumptionBroken != null) {
                b.append("  assumption broken: ").append(assumptionBroken).append('\n');
            }
            for (String e : verdict.examples) {
                b.append("  ").append(e).append('\n');
            }
            if (dir != null) {
                b.append("  seed, fault schedule and history: ").append(dir.toAbsolutePath()).append('\n');
            }
            return b.toString();
        }
    }

    private ChaosRun() {}

    static Result run(RedisServers servers, Config cfg) {
        servers.reset();
        List<Event> header = new ArrayList<>();
        header.add(new Event(Event.META, "run").value("name=" + cfg.name + " seed=" + cfg.seed + " duration="
                + cfg.duration + " " + cfg.describe()));
        List<Nemesis.Fault> schedule = Nemesis.schedule(cfg.seed, cfg.duration, cfg.meanFaultInterval, cfg.ttl,
                cfg.ttl, servers.size(), cfg.clients, cfg.guard != RestartGuard.OFF);
        schedule.forEach(f -> header.add(f.toEvent()));

        LockOptions options = cfg.options();
        OpSpec shortOp = OpSpec.scoped(options, cfg.csPauseMax, cfg.margin);
        Function<SplittableRandom, OpSpec> next = r -> r.nextDouble() < cfg.longHoldProbability
                ? shortOp.withHold(Duration.ofMillis(cfg.ttl.toMillis() / 2 + r.nextLong(cfg.ttl.toMillis() + 1)),
                        Duration.ofMillis(100))
                : shortOp;
        String[] keys = new String[cfg.keys];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = "chaos-" + i;
        }

        Checker.Verdict verdict;
        int applied;
        long maxStall;
        String assumption = null;
        Cluster cluster = Cluster.open(servers, cfg.clients, options, cfg.ttl, cfg.guard);
        try (Workload workload = new Workload(cluster); Environment env = Environment.watch()) {
            cluster.warmUp();
            SplittableRandom seeds = new SplittableRandom(cfg.seed);
            List<Mono<Void>> workers = new ArrayList<>();
            for (Cluster.Client c : cluster.clients) {
                for (int w = 0; w < cfg.workersPerClient; w++) {
                    workers.add(workload.worker(c, c.index * 100 + w, seeds.split(), keys, next, Duration.ZERO, () -> true));
                }
            }
            OpSpec heldThroughPartition = shortOp.withHold(cfg.ttl.multipliedBy(2).plusSeconds(1), Duration.ofMillis(100));
            List<Mono<Void>> injected = java.util.Collections.synchronizedList(new ArrayList<>());
            Nemesis.HoldStarter holds = (client, holdSeed) -> {
                Mono<Void> hold = workload.op(cluster.client(client), 900 + client, keys[holdSeed % keys.length],
                        heldThroughPartition, new SplittableRandom(cfg.seed ^ holdSeed)).cache();
                injected.add(hold);
                hold.subscribe();
            };
            Nemesis.Runner nemesis = new Nemesis.Runner(cluster, schedule, holds);
            long start = System.nanoTime();
            Mono<Void> all = Flux.merge(workers).then().cache();
            all.subscribe(v -> {}, e -> cluster.history.append(new Event(Event.NEMESIS, "error").value("worker: " + e)));
            nemesis.start();
            Cluster.sleep(cfg.duration.toMillis());

            workload.stop();
            long healed = nemesis.stopAndHealAll();
            try {
                all.block(Duration.ofSeconds(60));
                Flux.merge(new ArrayList<>(injected)).then().block(Duration.ofSeconds(60));
                workload.awaitStalls();
            } catch (RuntimeException e) {
                // a hung operation: the checker reports it as malformed (no completion), and the history is kept
                cluster.history.append(new Event(Event.NEMESIS, "error").value("operations did not finish within 60 s"
                        + " of the end: " + e + "; threads: " + Cluster.threadDump()));
            }
            long quiet = System.nanoTime();
            cluster.history.append(new Event(Event.NEMESIS, "quiescent").t(quiet).value("workers stopped after "
                    + TimeUnit.NANOSECONDS.toMillis(quiet - start) + " ms"));
            cluster.checkClientsIdle(Duration.ofSeconds(5));
            long keysAt = Math.max(healed, quiet) + cfg.ttl.toNanos() + TimeUnit.MILLISECONDS.toNanos(500);
            long wait = keysAt - System.nanoTime();
            if (wait > 0) {
                Cluster.sleep(TimeUnit.NANOSECONDS.toMillis(wait) + 1);
            }
            cluster.checkLockKeys(Violation.LEAKED_KEYS, "lock keys one lease time after the last fault healed");
            cluster.closeClientsAndCheckConnections();
            applied = nemesis.applied();
            maxStall = env.maxStallNanos();
            if (env.clockAssumptionBroken()) {
                assumption = "A1: the wall clock moved " + Checker.ms(env.clockStepNanos())
                        + " against the monotonic clock during the run";
            }
        } finally {
            cluster.close();
        }
        verdict = Checker.check(cluster.history.events());
        if (assumption == null && maxStall >= cfg.margin.toNanos() - cfg.csPauseMax.toNanos() && onlyEffects(verdict)) {
            assumption = "A4: the JVM stalled for " + Checker.ms(maxStall) + ", longer than the write margin";
        }
        Result result = new Result(cfg, verdict, applied, maxStall, assumption);
        if (verdict.total() > 0 || cfg.keepHistory) {
            result.dir = write(cfg, header, cluster.history.events(), result);
        }
        System.out.println(result.summaryLine());
        appendSummary(cfg.outDir, result.summaryLine() + (verdict.total() > 0 ? "  [" + verdict.breakdown() + "]" : ""));
        return result;
    }

    /** Only violations a JVM stall past the margin explains (late effects), none of the lock's own. */
    private static boolean onlyEffects(Checker.Verdict v) {
        if (v.total() == 0) {
            return false;
        }
        for (Violation kind : v.counts.keySet()) {
            if (v.count(kind) > 0 && kind != Violation.LATE_WRITE && kind != Violation.STALE_WRITE
                    && kind != Violation.CAS_CONFLICT && kind != Violation.LOST_UPDATE) {
                return false;
            }
        }
        return true;
    }

    static Path write(Config cfg, List<Event> header, List<Event> events, Result result) {
        Path dir = cfg.outDir.resolve(cfg.name + "-" + cfg.seed);
        History.write(dir.resolve("history.jsonl"), header, events);
        try {
            Files.writeString(dir.resolve("summary.txt"), result.report(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    static void appendSummary(Path outDir, String line) {
        try {
            Files.createDirectories(outDir);
            Files.writeString(outDir.resolve("summaries.log"), line + System.lineSeparator(), StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
