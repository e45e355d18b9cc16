package dev.redlock.chaos;

import dev.redlock.LockOptions;
import dev.redlock.RestartGuard;
import dev.redlock.internal.mode.ModeAccess;
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
import java.util.function.IntFunction;
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
        Duration duration = Duration.ofSeconds(50);
        int clients = 2;
        int workersPerClient = 8;
        int keys = 3;
        /** The longest lease time of any client (client 0's maxLeaseTime): hold-outs and key checks wait for it. */
        Duration ttl = Duration.ofSeconds(2);
        /**
         * Each client's maxLeaseTime (client i takes entry i): different lease times on one key space. An operation
         * asks for its client's maximum (half of them) or a lease time uniform in [0.7, 1] of it.
         */
        Duration[] maxLeaseTimes = {Duration.ofSeconds(2), Duration.ofSeconds(1)};
        Duration nodeTimeout = Duration.ofMillis(100);
        Duration maxWait = Duration.ofSeconds(2);
        boolean fencing = true;
        RestartGuard guard = RestartGuard.STRICT;
        Duration csPauseMax = Duration.ofMillis(20);
        Duration margin = Duration.ofMillis(500);
        double longHoldProbability = 0.005;
        /** Operations that extend their lease to a shorter lease time inside the section (then write). */
        double extendProbability = 0.03;
        /** Operations cancelled at each of the three points (on ACQUIRED, after a delay, during the release). */
        double cancelProbability = 0.01;
        Duration cancelDelayMax = Duration.ofMillis(30);
        Duration meanFaultInterval = Duration.ofSeconds(3);
        /**
         * The semaphore run: this many workers per client on one semaphore of {@link #permits} (none: the lock
         * run); each asks for 1 permit (two thirds) or 2, holds them U(0, csPauseMax), long holds and cancellations
         * as the lock's operations. The nemesis' holds through a partition are then semaphore holds.
         */
        int semaphoreWorkersPerClient;
        int permits = 3;
        String semaphore = "chaos-sem";
        /**
         * The fair-lock run: this many workers per client on one fair lock (none: no fair run), worker w with
         * priority {@code fairPriorities[w % length]}, each waiter with the heartbeat timeout {@link #heartbeat};
         * their operations are the lock run's (sections on the guarded store, long holds, extends, cancels). The
         * nemesis' holds through a partition are then fair-lock holds.
         */
        int fairWorkersPerClient;
        int[] fairPriorities = {0, 0, 0, 5};
        String fairKey = "chaos-fair";
        Duration heartbeat = Duration.ofSeconds(dev.redlock.fair.RedFairLock.DEFAULT_HEARTBEAT_SECONDS);
        /**
         * The runs of locks with modes: this many workers per client (none: no such run) on {@link #modalKeys}, the
         * names of read-write locks or the paths of hierarchical locks ({@link #modal}), each operation in S
         * ({@link #sharedShare} of them) or X; their operations are the lock run's (sections on the guarded store, a
         * shared one writing nothing; long holds, extends, cancels), without fencing (these locks have none). The
         * nemesis' holds through a partition are then X holds on one of the keys.
         */
        int modalWorkersPerClient;
        OpSpec.Modal.Kind modal;
        String[] modalKeys = {};
        double sharedShare = 0.5;
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

        /** The semaphore run: {@code workersPerClient} contenders per client on P = {@code permits}, no lock workers. */
        Config semaphore(int workersPerClient, int permits) {
            this.semaphoreWorkersPerClient = workersPerClient;
            this.permits = permits;
            this.workersPerClient = 0;
            return this;
        }

        /** The fair-lock run: {@code workersPerClient} waiters per client on one fair lock, no other workers. */
        Config fair(int workersPerClient, int... priorities) {
            this.fairWorkersPerClient = workersPerClient;
            this.fairPriorities = priorities.clone();
            this.workersPerClient = 0;
            return this;
        }

        /** The read-write run: {@code workersPerClient} workers per client on the read-write locks {@code names}. */
        Config readWrite(int workersPerClient, String... names) {
            return modal(OpSpec.Modal.Kind.READ_WRITE, workersPerClient, names);
        }

        /** The hierarchy run: {@code workersPerClient} workers per client on the hierarchical locks of {@code paths}. */
        Config hierarchy(int workersPerClient, String... paths) {
            return modal(OpSpec.Modal.Kind.HIERARCHY, workersPerClient, paths);
        }

        private Config modal(OpSpec.Modal.Kind kind, int workersPerClient, String... keys) {
            this.modal = kind;
            this.modalWorkersPerClient = workersPerClient;
            this.modalKeys = keys.clone();
            this.workersPerClient = 0;
            this.fencing = false;
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

        Duration maxLeaseTime(int client) {
            return maxLeaseTimes[client % maxLeaseTimes.length];
        }

        String describe() {
            StringBuilder max = new StringBuilder();
            for (int c = 0; c < clients; c++) {
                max.append(c == 0 ? "" : ",").append(maxLeaseTime(c).toMillis()).append("ms");
            }
            return "clients=" + clients + " workers/client=" + workersPerClient + " keys=" + keys + " maxLeaseTime="
                    + max + " nodeTimeout=" + nodeTimeout + " maxWait=" + maxWait + " fencing=" + fencing + " guard="
                    + guard + " cs=U(0," + csPauseMax.toMillis() + "ms) margin=" + margin.toMillis() + "ms longHolds="
                    + longHoldProbability + " extends=" + extendProbability + " cancels=3x" + cancelProbability
                    + " meanFault=" + meanFaultInterval.toMillis() + "ms"
                    + (semaphoreWorkersPerClient > 0 ? " semaphore=" + semaphore + " P=" + permits
                            + " contenders/client=" + semaphoreWorkersPerClient + " n=1|2" : "")
                    + (fairWorkersPerClient > 0 ? " fair=" + fairKey + " waiters/client=" + fairWorkersPerClient
                            + " priorities=" + java.util.Arrays.toString(fairPriorities) + " heartbeat="
                            + heartbeat.toMillis() + "ms" : "")
                    + (modalWorkersPerClient > 0 ? " modal=" + modal + " keys=" + java.util.Arrays.toString(modalKeys)
                            + " workers/client=" + modalWorkersPerClient + " shared=" + sharedShare : "");
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
            String permits = verdict.permitGrants == 0 ? "" : String.format(Locale.ROOT,
                    " permits: P=%d grants=%d peak=%d", config.permits, verdict.permitGrants, verdict.permitPeak);
            String idle = String.format(Locale.ROOT, " longest idle with waiters=%.2fs (undisturbed %.2fs, stalls %d)",
                    verdict.maxIdleNanos / 1e9, verdict.maxQuietIdleNanos / 1e9, verdict.count(Violation.STALL));
            String fair = verdict.fairGrants == 0 ? "" : String.format(Locale.ROOT,
                    " fair: grants=%d overtakes=%d (undisturbed %d)", verdict.fairGrants, verdict.overtakes,
                    verdict.count(Violation.OVERTAKE)) + idle;
            String modes = verdict.modeGrants.isEmpty() ? "" : " modes: grants " + verdict.modeGrants
                    + " most holders of one node at once=" + verdict.modePeak + idle;
            return String.format(Locale.ROOT,
                    "chaos %s seed=%d duration=%ds cs=%d faults=%d lost=%d closed=%d violations=%d acquire p50=%.1fms "
                            + "p99=%.1fms",
                    config.name, config.seed, config.duration.toSeconds(), verdict.completedCs, verdict.faults,
                    verdict.lost, verdict.closed, violations(), percentileMillis(50), percentileMillis(99)) + permits
                    + fair + modes;
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
        String[] keys = new String[cfg.keys];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = "chaos-" + i;
        }

        Checker.Verdict verdict;
        int applied;
        long maxStall;
        String assumption = null;
        Duration[] maxLeaseTimes = new Duration[cfg.clients];
        for (int c = 0; c < cfg.clients; c++) {
            maxLeaseTimes[c] = cfg.maxLeaseTime(c);
        }
        Cluster cluster = Cluster.open(servers, options, cfg.guard, maxLeaseTimes);
        SemaphoreWorkload semaphores = cfg.semaphoreWorkersPerClient == 0 ? null : new SemaphoreWorkload(cluster,
                cfg.semaphore, cfg.permits, SemaphoreWorkload.Source.real(cfg.semaphore, cfg.permits));
        try (Workload workload = new Workload(cluster); Environment env = Environment.watch()) {
            cluster.warmUp();
            SplittableRandom seeds = new SplittableRandom(cfg.seed);
            List<Mono<Void>> workers = new ArrayList<>();
            for (Cluster.Client c : cluster.clients) {
                Function<SplittableRandom, OpSpec> next = operations(cfg, options, c.index);
                lockWorkers(workers, workload, c, 0, cfg.workersPerClient, seeds, keys, w -> next);
                lockWorkers(workers, workload, c, 40, cfg.fairWorkersPerClient, seeds, new String[] {cfg.fairKey},
                        w -> fairOperations(cfg, options, c.index, cfg.fairPriorities[w % cfg.fairPriorities.length]));
                lockWorkers(workers, workload, c, 60, cfg.modalWorkersPerClient, seeds, cfg.modalKeys,
                        w -> modalOperations(cfg, options, c.index));
                Function<SplittableRandom, SemaphoreWorkload.Spec> permitOps = permitOperations(cfg, options, c.index);
                for (int w = 0; w < cfg.semaphoreWorkersPerClient; w++) {
                    workers.add(semaphores.worker(c, c.index * 100 + 20 + w, seeds.split(), permitOps, () -> true));
                }
            }
            List<Mono<Void>> injected = java.util.Collections.synchronizedList(new ArrayList<>());
            Nemesis.HoldStarter holds = (client, holdSeed) -> {
                Duration max = cfg.maxLeaseTime(client);
                if (semaphores != null) {
                    SemaphoreWorkload.Spec heldThroughPartition = new SemaphoreWorkload.Spec(options.mutate()
                            .leaseTime(max).fencing(false).build(), 1, max.multipliedBy(2).plusSeconds(1), true, null);
                    Mono<Void> hold = semaphores.op(cluster.client(client), 900 + client, heldThroughPartition).cache();
                    injected.add(hold);
                    hold.subscribe();
                    return;
                }
                OpSpec heldThroughPartition = OpSpec.scoped(options.mutate().leaseTime(max).build(), cfg.csPauseMax,
                        cfg.margin).withHold(max.multipliedBy(2).plusSeconds(1), Duration.ofMillis(100));
                String[] holdKeys = keys;
                if (cfg.fairWorkersPerClient > 0) {
                    heldThroughPartition = heldThroughPartition.fair(0, cfg.heartbeat);
                    holdKeys = new String[] {cfg.fairKey};
                } else if (cfg.modalWorkersPerClient > 0) {
                    heldThroughPartition = heldThroughPartition.modal(OpSpec.Modal.of(cfg.modal, "X"));
                    holdKeys = cfg.modalKeys;
                }
                Mono<Void> hold = workload.op(cluster.client(client), 900 + client, holdKeys[holdSeed % holdKeys.length],
                        heldThroughPartition, new SplittableRandom(cfg.seed ^ holdSeed)).cache();
                injected.add(hold);
                hold.subscribe();
            };
            Nemesis.Runner nemesis = new Nemesis.Runner(cluster, schedule, holds);
            long start = System.nanoTime();
            Mono<Void> all = Flux.merge(workers).then().cache();
            all.subscribe(v -> {}, e -> cluster.history.append(new Event(Event.NEMESIS, "error").value("worker: " + e)));
            nemesis.start();
            Cluster.sleep(cfg.duration.toMillis()); // the scenario: the workload and the faults run this long

            workload.stop();
            if (semaphores != null) {
                semaphores.stop();
            }
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
            // a fair lock's queue keys expire with the last heartbeat, a lock with modes' hash with the last claim: a
            // waiter's late attempt (bytes a proxy held through a fault) may renew one up to the heal
            long queues = cfg.fairWorkersPerClient > 0 ? cfg.heartbeat.toNanos()
                    : cfg.modalWorkersPerClient > 0 ? ModeAccess.claimTime().toNanos() : 0;
            long keysAt = Math.max(healed, quiet) + cfg.ttl.toNanos() + queues + TimeUnit.MILLISECONDS.toNanos(500);
            long wait = keysAt - System.nanoTime();
            if (wait > 0) {
                // a deadline, not a wait for an event: what a lease left behind must be gone one lease time after
                // the last fault healed, and the check is made at that time
                Cluster.sleep(TimeUnit.NANOSECONDS.toMillis(wait) + 1);
            }
            cluster.checkLockKeys(Violation.LEAKED_KEYS, "lock keys (fair queues and mode hashes included) one lease"
                    + " time" + (queues > 0 ? " and heartbeat timeout or claim time" : "") + " after the last fault healed");
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

    /**
     * The operations of client {@code client}'s workers, drawn from each worker's seeded random: a scoped section
     * with one write, on a lease time of the client's maximum (half of them) or uniform in [0.7, 1] of it; 0.5 % long
     * holds (half to one and a half maximum lease times, writing every 100 ms); 3 % with a shortening extend inside
     * the section (to [0.5, 0.9] of the lease time, at least 600 ms; before the write, or after 1–5 writes of a long
     * hold); 1 % each cancelled on the key's ACQUIRED event, after U(0, 30 ms), or during the release.
     */
    static Function<SplittableRandom, OpSpec> operations(Config cfg, LockOptions options, int client) {
        Duration max = cfg.maxLeaseTime(client);
        long maxMillis = max.toMillis();
        long lowest = maxMillis * 7 / 10;
        LockOptions[] byMillis = new LockOptions[(int) (maxMillis - lowest + 1)];
        return r -> {
            long leaseMillis = r.nextBoolean() ? maxMillis : lowest + r.nextLong(maxMillis - lowest + 1);
            int i = (int) (leaseMillis - lowest);
            LockOptions o = byMillis[i];
            if (o == null) {
                o = options.mutate().leaseTime(Duration.ofMillis(leaseMillis)).build();
                byMillis[i] = o; // racy but idempotent: equal options
            }
            OpSpec op = OpSpec.scoped(o, cfg.csPauseMax, cfg.margin);
            boolean longHold = r.nextDouble() < cfg.longHoldProbability;
            if (longHold) {
                op = op.withHold(Duration.ofMillis(maxMillis / 2 + r.nextLong(maxMillis + 1)), Duration.ofMillis(100));
            }
            if (r.nextDouble() < cfg.extendProbability) {
                long shorter = Math.max(600, (long) (leaseMillis * (0.5 + 0.4 * r.nextDouble())));
                op = op.withExtend(Duration.ofMillis(shorter), longHold ? 1 + r.nextInt(5) : 0);
            }
            double u = r.nextDouble();
            if (u < 3 * cfg.cancelProbability) {
                OpSpec.Cancel at = u < cfg.cancelProbability ? OpSpec.Cancel.ON_ACQUIRED
                        : u < 2 * cfg.cancelProbability ? OpSpec.Cancel.AFTER_DELAY : OpSpec.Cancel.ON_RELEASE;
                op = op.withCancel(at, cfg.cancelDelayMax);
            }
            return op;
        };
    }

    /**
     * Adds {@code count} workers of client {@code c} on {@code keys} (worker ids from {@code c.index * 100 + base}),
     * worker {@code w} with the operations of {@code next.apply(w)} and a random split from {@code seeds}.
     */
    private static void lockWorkers(List<Mono<Void>> workers, Workload workload, Cluster.Client c, int base, int count,
            SplittableRandom seeds, String[] keys, IntFunction<Function<SplittableRandom, OpSpec>> next) {
        for (int w = 0; w < count; w++) {
            workers.add(workload.worker(c, c.index * 100 + base + w, seeds.split(), keys, next.apply(w), Duration.ZERO,
                    () -> true));
        }
    }

    /**
     * The operations of client {@code client}'s workers on locks with modes: the lock run's operations, each in S
     * ({@code sharedShare} of them) or X.
     */
    static Function<SplittableRandom, OpSpec> modalOperations(Config cfg, LockOptions options, int client) {
        Function<SplittableRandom, OpSpec> lock = operations(cfg, options, client);
        OpSpec.Modal shared = OpSpec.Modal.of(cfg.modal, "S");
        OpSpec.Modal exclusive = OpSpec.Modal.of(cfg.modal, "X");
        return r -> lock.apply(r).modal(r.nextDouble() < cfg.sharedShare ? shared : exclusive);
    }

    /** The fair-lock waiters of client {@code client} with {@code priority}: the lock run's operations, as waiters. */
    static Function<SplittableRandom, OpSpec> fairOperations(Config cfg, LockOptions options, int client,
            int priority) {
        Function<SplittableRandom, OpSpec> lock = operations(cfg, options, client);
        return r -> lock.apply(r).fair(priority, cfg.heartbeat);
    }

    /**
     * The semaphore operations of client {@code client}'s contenders: lease times as {@link #operations}; 1 permit
     * (two thirds) or 2; the permits held U(0, csPauseMax), or 0.5 % long holds (half to one and a half maximum lease
     * times, the watchdog renewing); 2 % cancelled from outside U(0, 30 ms) after the invoke.
     */
    static Function<SplittableRandom, SemaphoreWorkload.Spec> permitOperations(Config cfg, LockOptions options,
            int client) {
        Duration max = cfg.maxLeaseTime(client);
        long maxMillis = max.toMillis();
        long lowest = maxMillis * 7 / 10;
        LockOptions[] byMillis = new LockOptions[(int) (maxMillis - lowest + 1)];
        return r -> {
            long leaseMillis = r.nextBoolean() ? maxMillis : lowest + r.nextLong(maxMillis - lowest + 1);
            int i = (int) (leaseMillis - lowest);
            LockOptions o = byMillis[i];
            if (o == null) {
                o = options.mutate().leaseTime(Duration.ofMillis(leaseMillis)).fencing(false).build();
                byMillis[i] = o; // racy but idempotent: equal options
            }
            int n = r.nextInt(3) == 0 ? 2 : 1;
            boolean longHold = r.nextDouble() < cfg.longHoldProbability;
            Duration hold = longHold ? Duration.ofMillis(maxMillis / 2 + r.nextLong(maxMillis + 1))
                    : Duration.ofNanos(r.nextLong(cfg.csPauseMax.toNanos() + 1));
            Duration cancel = r.nextDouble() < 2 * cfg.cancelProbability
                    ? Duration.ofNanos(r.nextLong(cfg.cancelDelayMax.toNanos() + 1)) : null;
            return new SemaphoreWorkload.Spec(o, n, hold, longHold, cancel);
        };
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
