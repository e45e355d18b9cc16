package dev.redlock.chaos;

import static org.awaitility.Awaitility.await;

import dev.redlock.Backoff;
import dev.redlock.LockOptions;
import dev.redlock.RestartGuard;
import dev.redlock.testkit.RedisServers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import reactor.core.publisher.Mono;

/**
 * A short, targeted, seeded scenario for the mutant and negative-control tests: 5 nodes, 2 clients (A = client 0,
 * B = client 1) with their own proxies, a handful of hand-placed operations, then the same {@link Checker} as the
 * chaos runs. A failed expectation leaves the history under {@code target/chaos/<name>-<seed>/}.
 */
final class Scenario implements AutoCloseable {

    static final Duration TTL = Duration.ofSeconds(1);
    static final Duration MARGIN = Duration.ofMillis(200);

    final String name;
    final long seed;
    final Duration ttl;
    final Cluster cluster;
    final Workload workload;
    private final SplittableRandom random;
    private final List<CompletableFuture<Void>> running = new ArrayList<>();
    private final long started = System.nanoTime();

    private Scenario(String name, long seed, Duration ttl, Cluster cluster) {
        this.name = name;
        this.seed = seed;
        this.ttl = ttl;
        this.cluster = cluster;
        this.workload = new Workload(cluster);
        this.random = new SplittableRandom(seed);
    }

    /** Resets the nodes, opens 2 clients (maxLeaseTime = ttl) and warms them up. Test hooks are all off. */
    static Scenario open(RedisServers servers, String name, long seed, Duration ttl, RestartGuard guard) {
        return open(servers, name, seed, ttl, guard, ttl, ttl);
    }

    /** As above, client A with maxLeaseTime {@code maxA}, client B with {@code maxB}. */
    static Scenario open(RedisServers servers, String name, long seed, Duration ttl, RestartGuard guard, Duration maxA,
            Duration maxB) {
        servers.reset();
        Cluster cluster = Cluster.open(servers, options(ttl), guard, maxA, maxB);
        try {
            cluster.warmUp();
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
        return new Scenario(name, seed, ttl, cluster);
    }

    /** Lease = ttl, node timeout 100 ms, waits up to 5 s with a fast backoff, watchdog on, no fencing. */
    static LockOptions options(Duration ttl) {
        return LockOptions.builder()
                .leaseTime(ttl)
                .nodeTimeout(Duration.ofMillis(100))
                .maxWait(Duration.ofSeconds(5))
                .backoff(Backoff.equalJitter(Duration.ofMillis(5), Duration.ofMillis(25)))
                .watchdog(true)
                .build();
    }

    Cluster.Client a() {
        return cluster.client(0);
    }

    Cluster.Client b() {
        return cluster.client(1);
    }

    /** One write, no pause, with the scenario's options. */
    OpSpec spec() {
        return OpSpec.scoped(options(ttl), Duration.ZERO, MARGIN);
    }

    /** Holds for {@code hold}, writing every 50 ms while at least the margin is left. */
    OpSpec hold(Duration hold) {
        return spec().withHold(hold, Duration.ofMillis(50));
    }

    /** Starts one operation after {@code delay}; it runs in the background. */
    CompletableFuture<Void> start(Cluster.Client c, int worker, String key, OpSpec spec, Duration delay) {
        SplittableRandom r = random.split();
        CompletableFuture<Void> f = Mono.delay(delay).then(workload.op(c, worker, key, spec, r)).toFuture();
        running.add(f);
        return f;
    }

    /** Starts a worker repeating operations, {@code think} apart, while {@code whileTrue} holds. */
    CompletableFuture<Void> worker(Cluster.Client c, int worker, String[] keys, OpSpec spec, Duration think,
            BooleanSupplier whileTrue) {
        CompletableFuture<Void> f = workload.worker(c, worker, random.split(), keys, r -> spec, think, whileTrue)
                .toFuture();
        running.add(f);
        return f;
    }

    /** Runs {@code op} (a semaphore operation, say) in the background; {@link #awaitAll()} waits for it. */
    CompletableFuture<Void> run(Mono<Void> op) {
        CompletableFuture<Void> f = op.toFuture();
        running.add(f);
        return f;
    }

    /** Waits until the history shows at least {@code count} semaphore grants (or fails after 5 s). */
    void awaitPermitGrants(long count) {
        await(name + ": " + count + " semaphore grants")
                .atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(5))
                .until(() -> cluster.history.events().stream()
                        .filter(e -> e.is(Event.OK, Event.ACQUIRE) && e.limit != null).count() >= count);
    }

    /** Waits until some operation of client {@code c} holds a lease in a long hold (or fails after 5 s). */
    void awaitHolding(Cluster.Client c) {
        await(name + ": client " + c.index + " holds the lease")
                .atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(5))
                .until(() -> c.longHolds.get() > 0);
    }

    /** Waits for every operation started so far, stalled writes included (at most 30 s). */
    void awaitAll() {
        CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).orTimeout(30, TimeUnit.SECONDS).join();
        workload.awaitStalls();
    }

    /** Waits for the operations, checks the history, prints one line and returns the verdict. */
    Checker.Verdict verdict() {
        awaitAll();
        Checker.Verdict v = Checker.check(cluster.history.events());
        String line = String.format(Locale.ROOT, "mutant %s seed=%d duration=%dms acquired=%d cs=%d lost=%d violations=%d [%s]",
                name, seed, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), v.acquireOk, v.completedCs,
                v.lost, v.total(), v.breakdown()) + (v.fairGrants == 0 ? "" : String.format(Locale.ROOT,
                " fair: grants=%d overtakes=%d", v.fairGrants, v.overtakes)) + (v.fairGrants == 0
                && v.modeGrants.isEmpty() ? "" : String.format(Locale.ROOT, " longest idle with waiters=%.2fs",
                v.maxIdleNanos / 1e9));
        System.out.println(line);
        ChaosRun.appendSummary(new ChaosRun.Config().outDir, line);
        return v;
    }

    /** Runs the assertions; if they fail, writes the history and says where. */
    void expect(Checker.Verdict v, Consumer<Checker.Verdict> assertions) {
        try {
            assertions.accept(v);
            if (Boolean.getBoolean("chaos.keepHistory")) {
                writeHistory();
            }
        } catch (AssertionError e) {
            Path dir = writeHistory();
            AssertionError wrapped = new AssertionError(name + " seed=" + seed + ": " + e.getMessage() + "\n  violations: "
                    + v.breakdown() + "\n  " + String.join("\n  ", v.examples) + "\n  history: " + dir.toAbsolutePath(), e);
            throw wrapped;
        }
    }

    private Path writeHistory() {
        Path dir = new ChaosRun.Config().outDir.resolve(name + "-" + seed);
        History.write(dir.resolve("history.jsonl"),
                List.of(new Event(Event.META, "scenario").value("name=" + name + " seed=" + seed + " ttl=" + ttl)),
                cluster.history.events());
        return dir;
    }

    /**
     * Waits for the operations, heals every proxy (so the clients' releases to nodes a scenario cut off are answered
     * instead of holding {@code close()} up for its bound), then closes the clients and proxies.
     */
    @Override
    public void close() {
        workload.stop();
        try {
            awaitAll();
        } catch (RuntimeException ignored) {
            // already reported through the verdict
        }
        for (Cluster.Client c : cluster.clients) {
            c.proxies.healAll();
        }
        workload.close();
        cluster.close();
    }
}
