package dev.redlock.chaos;

import dev.redlock.testkit.FaultProxy;
import dev.redlock.testkit.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * The seeded nemesis: a fault schedule drawn from the seed before the run (faults about every {@code mean},
 * exponentially distributed), and a runner that applies it on its own thread and heals everything at the end.
 *
 * <p>Faults (reliability.md §3): kill -9 with a restart after at least maxLeaseTime + 1 s (F1, F2); an immediate
 * restart of one node, safe only with the restart guard (F3 with the guard); SIGSTOP/SIGCONT of 1–2 nodes, rarely 3
 * (F5, F4); blackhole partitions of a minority (F6) or, rarely, a majority (F7) for one or both clients, asymmetric
 * ones (each client cut off from different nodes), and majority partitions of a client while it holds a long lease (the
 * fault starts that hold itself) so renewals fail and the lease must be lost (F16, F7); latency with jitter below and above the node timeout (F8, F9); connection resets (F14). At most
 * two nodes have a process fault at a time (three only for a pause), so no acknowledged write is forgotten by a
 * majority (the fencing tokens' assumption).
 */
final class Nemesis {

    enum Kind {
        KILL(10), RESTART_NOW(5), PAUSE(12), PARTITION(14), PARTITION_MAJORITY(4), HOLD_PARTITION(10), ASYMMETRIC(6),
        LATENCY_LOW(8), LATENCY_HIGH(9), RESET(10);

        final int weight;

        Kind(int weight) {
            this.weight = weight;
        }

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One planned fault. Times are offsets from the run's start. */
    static final class Fault {
        final long atNanos;
        final long durationNanos;
        final Kind kind;
        final int[] nodes;
        /** Clients whose proxies it hits (empty for process faults); for HOLD_PARTITION the preferred one. */
        final int[] clients;
        /** ASYMMETRIC: the nodes the second client is cut off from. */
        final int[] nodes2;
        final long delayMillis;
        final long jitterMillis;
        final FaultProxy.Direction direction;

        Fault(long atNanos, long durationNanos, Kind kind, int[] nodes, int[] clients, int[] nodes2, long delayMillis,
                long jitterMillis, FaultProxy.Direction direction) {
            this.atNanos = atNanos;
            this.durationNanos = durationNanos;
            this.kind = kind;
            this.nodes = nodes;
            this.clients = clients;
            this.nodes2 = nodes2;
            this.delayMillis = delayMillis;
            this.jitterMillis = jitterMillis;
            this.direction = direction;
        }

        String describe() {
            StringBuilder b = new StringBuilder(kind.label()).append(" nodes=").append(Arrays.toString(nodes));
            if (clients.length > 0) {
                b.append(" clients=").append(Arrays.toString(clients));
            }
            if (nodes2.length > 0) {
                b.append(" nodes2=").append(Arrays.toString(nodes2));
            }
            if (kind == Kind.LATENCY_LOW || kind == Kind.LATENCY_HIGH) {
                b.append(" delay=").append(delayMillis).append("ms jitter=").append(jitterMillis).append("ms dir=")
                        .append(direction);
            }
            b.append(kind == Kind.KILL ? " restartAfter=" : " for=").append(TimeUnit.NANOSECONDS.toMillis(durationNanos))
                    .append("ms");
            return b.toString();
        }

        Event toEvent() {
            return new Event(Event.SCHEDULE, kind.label()).t(atNanos).value(describe());
        }
    }

    private Nemesis() {}

    /** The schedule for {@code seed}; the same inputs always give the same schedule. */
    static List<Fault> schedule(long seed, Duration runTime, Duration mean, Duration ttl, Duration maxLease,
            int nodeCount, int clientCount) {
        return schedule(seed, runTime, mean, ttl, maxLease, nodeCount, clientCount, true);
    }

    /** As above; without {@code immediateRestarts} (the restart guard is off) no node is restarted at once. */
    static List<Fault> schedule(long seed, Duration runTime, Duration mean, Duration ttl, Duration maxLease,
            int nodeCount, int clientCount, boolean immediateRestarts) {
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L);
        long end = runTime.toNanos() - Duration.ofMillis(500).toNanos();
        long ttlNanos = ttl.toNanos();
        long[] processBusy = new long[nodeCount];
        long[][] proxyBusy = new long[clientCount][nodeCount];
        int totalWeight = Arrays.stream(Kind.values()).mapToInt(k -> k.weight).sum();
        List<Fault> faults = new ArrayList<>();
        long t = exp(r, mean.toNanos());
        while (t < end) {
            for (int attempt = 0; attempt < 6; attempt++) {
                int pick = r.nextInt(totalWeight);
                Kind kind = null;
                for (Kind k : Kind.values()) {
                    pick -= k.weight;
                    if (pick < 0) {
                        kind = k;
                        break;
                    }
                }
                Fault f = kind == Kind.RESTART_NOW && !immediateRestarts ? null
                        : build(kind, t, r, ttlNanos, maxLease.toNanos(), processBusy, proxyBusy, nodeCount, clientCount);
                if (f != null) {
                    faults.add(f);
                    break;
                }
            }
            t += exp(r, mean.toNanos());
        }
        return faults;
    }

    private static Fault build(Kind kind, long t, SplittableRandom r, long ttl, long maxLease, long[] processBusy,
            long[][] proxyBusy, int nodeCount, int clientCount) {
        int busy = 0;
        for (long until : processBusy) {
            if (until > t) {
                busy++;
            }
        }
        int[] none = new int[0];
        switch (kind) {
            case KILL: {
                if (busy > 1) {
                    return null;
                }
                int[] nodes = pickFree(r, 1, processBusy, t);
                if (nodes == null) {
                    return null;
                }
                long delay = maxLease + Duration.ofSeconds(1).toNanos() + r.nextLong(Duration.ofSeconds(1).toNanos());
                processBusy[nodes[0]] = t + delay + Duration.ofMillis(1500).toNanos();
                return new Fault(t, delay, kind, nodes, none, none, 0, 0, null);
            }
            case RESTART_NOW: {
                if (busy > 1) {
                    return null;
                }
                int[] nodes = pickFree(r, 1, processBusy, t);
                if (nodes == null) {
                    return null;
                }
                processBusy[nodes[0]] = t + Duration.ofMillis(700).toNanos();
                return new Fault(t, 0, kind, nodes, none, none, 0, 0, null);
            }
            case PAUSE: {
                double u = r.nextDouble();
                int count = u < 0.70 ? 1 : u < 0.95 ? 2 : 3;
                if (busy + count > (count == 3 ? 3 : 2)) {
                    count = 1;
                    if (busy > 1) {
                        return null;
                    }
                }
                int[] nodes = pickFree(r, count, processBusy, t);
                if (nodes == null) {
                    return null;
                }
                long d = uniform(r, Duration.ofMillis(100).toNanos(), 2 * ttl);
                for (int n : nodes) {
                    processBusy[n] = t + d + Duration.ofMillis(300).toNanos();
                }
                return new Fault(t, d, kind, nodes, none, none, 0, 0, null);
            }
            case PARTITION: {
                int[] clients = pickClients(r, clientCount, 0.2);
                int[] nodes = pickFreeProxies(r, 1 + r.nextInt(2), proxyBusy, clients, t);
                if (nodes == null) {
                    return null;
                }
                long d = uniform(r, Duration.ofMillis(100).toNanos(), 2 * ttl);
                occupy(proxyBusy, clients, nodes, t + d);
                return new Fault(t, d, kind, nodes, clients, none, 0, 0, null);
            }
            case PARTITION_MAJORITY: {
                int[] clients = pickClients(r, clientCount, 0.2);
                int[] nodes = pickFreeProxies(r, nodeCount / 2 + 1, proxyBusy, clients, t);
                if (nodes == null) {
                    return null;
                }
                long d = uniform(r, Duration.ofMillis(500).toNanos(), 2 * ttl);
                occupy(proxyBusy, clients, nodes, t + d);
                return new Fault(t, d, kind, nodes, clients, none, 0, 0, null);
            }
            case HOLD_PARTITION: {
                int[] all = new int[clientCount];
                for (int i = 0; i < clientCount; i++) {
                    all[i] = i;
                }
                int[] nodes = pickFreeProxies(r, nodeCount / 2 + 1, proxyBusy, all, t);
                if (nodes == null) {
                    return null;
                }
                long d = uniform(r, ttl, 2 * ttl);
                occupy(proxyBusy, all, nodes, t + d);
                return new Fault(t, d, kind, nodes, new int[] {r.nextInt(clientCount)}, none, 0, 0, null);
            }
            case ASYMMETRIC: {
                if (clientCount < 2) {
                    return null;
                }
                int[] both = {0, 1};
                int[] four = pickFreeProxies(r, Math.min(4, nodeCount - 1), proxyBusy, both, t);
                if (four == null) {
                    return null;
                }
                int half = four.length / 2;
                int[] first = sorted(Arrays.copyOfRange(four, 0, half));
                int[] second = sorted(Arrays.copyOfRange(four, half, four.length));
                long d = uniform(r, Duration.ofMillis(500).toNanos(), 2 * ttl);
                occupy(proxyBusy, both, four, t + d);
                return new Fault(t, d, kind, first, both, second, 0, 0, null);
            }
            case LATENCY_LOW:
            case LATENCY_HIGH: {
                boolean high = kind == Kind.LATENCY_HIGH;
                int[] clients = pickClients(r, clientCount, 0.3);
                int count = high ? (r.nextDouble() < 0.1 ? 3 : 1 + r.nextInt(2)) : 1 + r.nextInt(3);
                int[] nodes = pickFreeProxies(r, count, proxyBusy, clients, t);
                if (nodes == null) {
                    return null;
                }
                long delay = high ? 100 + r.nextInt(301) : 5 + r.nextInt(56);
                long jitter = high ? r.nextInt(151) : r.nextInt(31);
                FaultProxy.Direction dir = FaultProxy.Direction.values()[r.nextInt(3)];
                long d = uniform(r, Duration.ofMillis(500).toNanos(), 2 * ttl);
                occupy(proxyBusy, clients, nodes, t + d);
                return new Fault(t, d, kind, nodes, clients, none, delay, jitter, dir);
            }
            case RESET: {
                int[] clients = pickClients(r, clientCount, 0.3);
                int count = 1 + r.nextInt(nodeCount);
                int[] nodes = sorted(Arrays.copyOf(shuffled(r, nodeCount), count));
                return new Fault(t, 0, kind, nodes, clients, none, 0, 0, null);
            }
            default:
                throw new IllegalStateException(kind.toString());
        }
    }

    private static long exp(SplittableRandom r, long mean) {
        return (long) (-Math.log(1.0 - r.nextDouble()) * mean);
    }

    private static long uniform(SplittableRandom r, long lo, long hi) {
        return lo + r.nextLong(hi - lo + 1);
    }

    private static int[] pickClients(SplittableRandom r, int clientCount, double bothProbability) {
        if (clientCount > 1 && r.nextDouble() < bothProbability) {
            int[] all = new int[clientCount];
            for (int i = 0; i < clientCount; i++) {
                all[i] = i;
            }
            return all;
        }
        return new int[] {r.nextInt(clientCount)};
    }

    private static int[] shuffled(SplittableRandom r, int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int x = a[i];
            a[i] = a[j];
            a[j] = x;
        }
        return a;
    }

    private static int[] sorted(int[] a) {
        Arrays.sort(a);
        return a;
    }

    private static int[] pickFree(SplittableRandom r, int count, long[] busy, long t) {
        List<Integer> picked = new ArrayList<>();
        for (int n : shuffled(r, busy.length)) {
            if (busy[n] <= t && picked.size() < count) {
                picked.add(n);
            }
        }
        return picked.size() < count ? null : sorted(picked.stream().mapToInt(Integer::intValue).toArray());
    }

    private static int[] pickFreeProxies(SplittableRandom r, int count, long[][] busy, int[] clients, long t) {
        List<Integer> picked = new ArrayList<>();
        for (int n : shuffled(r, busy[0].length)) {
            boolean free = true;
            for (int c : clients) {
                free &= busy[c][n] <= t;
            }
            if (free && picked.size() < count) {
                picked.add(n);
            }
        }
        return picked.size() < count ? null : picked.stream().mapToInt(Integer::intValue).toArray();
    }

    private static void occupy(long[][] busy, int[] clients, int[] nodes, long until) {
        for (int c : clients) {
            for (int n : nodes) {
                busy[c][n] = until + Duration.ofMillis(50).toNanos();
            }
        }
    }

    // == Runner ==

    /** Starts a long hold on a client (for the renewal-breaking partitions); must not block. */
    interface HoldStarter {
        void start(int client, int seed);
    }

    /** Applies a schedule to a cluster on one nemesis thread. */
    static final class Runner {
        private final Cluster cluster;
        private final List<Fault> schedule;
        private final ScheduledThreadPoolExecutor executor;
        private final List<CompletableFuture<Void>> restarts = new CopyOnWriteArrayList<>();
        private final AtomicInteger applied = new AtomicInteger();
        private final HoldStarter holds;

        Runner(Cluster cluster, List<Fault> schedule, HoldStarter holds) {
            this.cluster = cluster;
            this.schedule = schedule;
            this.holds = holds;
            this.executor = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "chaos-nemesis");
                t.setDaemon(true);
                return t;
            });
            executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
            executor.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
        }

        /** Schedules every fault relative to now. */
        void start() {
            for (Fault f : schedule) {
                executor.schedule(() -> apply(f), f.atNanos, TimeUnit.NANOSECONDS);
            }
        }

        int applied() {
            return applied.get();
        }

        private void record(String f, String value) {
            cluster.history.append(new Event(Event.NEMESIS, f).t(System.nanoTime()).value(value));
        }

        private void apply(Fault f) {
            try {
                String detail = f.describe();
                switch (f.kind) {
                    case KILL: {
                        RedisServer s = cluster.servers.get(f.nodes[0]);
                        CompletableFuture<Void> up = s.restartAfter(Duration.ofNanos(f.durationNanos));
                        restarts.add(up);
                        up.whenComplete((v, e) -> record("stop", "restarted node " + f.nodes[0]
                                + (e == null ? "" : " failed: " + e)));
                        break;
                    }
                    case RESTART_NOW:
                        cluster.servers.get(f.nodes[0]).restart();
                        break;
                    case PAUSE:
                        for (int n : f.nodes) {
                            cluster.servers.get(n).pause();
                        }
                        healLater(f, () -> {
                            for (int n : f.nodes) {
                                cluster.servers.get(n).resume();
                            }
                        });
                        break;
                    case PARTITION:
                    case PARTITION_MAJORITY:
                        blackhole(f.clients, f.nodes, true);
                        healLater(f, () -> blackhole(f.clients, f.nodes, false));
                        break;
                    case HOLD_PARTITION: {
                        // start a long hold on the target client, and cut that client off from a majority as soon as
                        // it holds (at most 2.5 s later): its renewals fail and the lease must be lost, not overlap
                        int target = f.clients[0];
                        holds.start(target, (int) Math.floorMod(f.atNanos, 1_000L));
                        long giveUp = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2500);
                        partitionWhenHolding(f, target, giveUp);
                        return; // recorded when the partition starts
                    }
                    case ASYMMETRIC:
                        blackhole(new int[] {0}, f.nodes, true);
                        blackhole(new int[] {1}, f.nodes2, true);
                        healLater(f, () -> {
                            blackhole(new int[] {0}, f.nodes, false);
                            blackhole(new int[] {1}, f.nodes2, false);
                        });
                        break;
                    case LATENCY_LOW:
                    case LATENCY_HIGH:
                        for (int c : f.clients) {
                            for (int n : f.nodes) {
                                cluster.client(c).proxies.get(n).latency(Duration.ofMillis(f.delayMillis),
                                        Duration.ofMillis(f.jitterMillis), f.direction);
                            }
                        }
                        healLater(f, () -> {
                            for (int c : f.clients) {
                                for (int n : f.nodes) {
                                    cluster.client(c).proxies.get(n).latency(Duration.ZERO, Duration.ZERO,
                                            FaultProxy.Direction.BOTH);
                                }
                            }
                        });
                        break;
                    case RESET:
                        for (int c : f.clients) {
                            for (int n : f.nodes) {
                                cluster.client(c).proxies.get(n).resetConnections();
                            }
                        }
                        break;
                    default:
                        throw new IllegalStateException(f.kind.toString());
                }
                applied.incrementAndGet();
                record("start", detail);
            } catch (RuntimeException e) {
                record("error", f.describe() + ": " + e);
            }
        }

        private void partitionWhenHolding(Fault f, int target, long giveUp) {
            boolean holding = cluster.client(target).longHolds.get() > 0;
            if (!holding && System.nanoTime() - giveUp < 0) {
                executor.schedule(() -> partitionWhenHolding(f, target, giveUp), 10, TimeUnit.MILLISECONDS);
                return;
            }
            try {
                int[] clients = {target};
                blackhole(clients, f.nodes, true);
                healLater(f, () -> blackhole(clients, f.nodes, false));
                applied.incrementAndGet();
                record("start", f.describe() + " -> client " + target + (holding ? " while holding" : " (no hold)"));
            } catch (RuntimeException e) {
                record("error", f.describe() + ": " + e);
            }
        }

        private void blackhole(int[] clients, int[] nodes, boolean on) {
            for (int c : clients) {
                for (int n : nodes) {
                    cluster.client(c).proxies.get(n).blackhole(on);
                }
            }
        }

        private void healLater(Fault f, Runnable heal) {
            executor.schedule(() -> {
                try {
                    heal.run();
                    record("stop", f.kind.label() + " nodes=" + Arrays.toString(f.nodes));
                } catch (RuntimeException e) {
                    record("error", "healing " + f.describe() + ": " + e);
                }
            }, f.durationNanos, TimeUnit.NANOSECONDS);
        }

        /**
         * Stops the schedule (pending faults and heals are dropped), heals every proxy, resumes paused nodes and waits
         * for the pending delayed restarts. Returns the nanoTime when everything was healed. Blocking.
         */
        long stopAndHealAll() {
            executor.shutdown();
            try {
                if (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
                    record("error", "nemesis thread did not stop within 30 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (Cluster.Client c : cluster.clients) {
                c.proxies.healAll();
            }
            for (RedisServer s : cluster.servers) {
                if (s.isPaused()) {
                    s.resume();
                }
            }
            for (CompletableFuture<Void> up : restarts) {
                try {
                    up.get(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    record("error", "delayed restart: " + e);
                }
            }
            for (RedisServer s : cluster.servers) {
                if (!s.isRunning()) {
                    s.restart();
                }
            }
            long healed = System.nanoTime();
            record("healed", "all faults healed: " + cluster.servers.list().stream()
                    .map(s -> s.isRunning() ? "up" : "down").collect(Collectors.joining(",")));
            return healed;
        }
    }
}
