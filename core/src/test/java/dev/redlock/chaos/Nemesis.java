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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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
 * fault starts that hold itself) so renewals fail and the lease must be lost (F16, F7); latency with jitter below and
 * above the node timeout (F8, F9); connection resets (F14). Also: a lock client closed during traffic and replaced by
 * a fresh one, at any time or right after an immediate restart, so the fresh client meets a young node first; a
 * minority restart with a partition that, once the restarted node counts again, makes the next quorums use it and two
 * nodes that saw none of the tokens it forgot (fencing across a restart); and partitions (a proxy that
 * drops or holds the bytes) long enough that a client drops the stale connection and reconnects as they heal. At most
 * two nodes have a process fault at a time (three only for a pause), so no acknowledged write is forgotten by a
 * majority (the fencing tokens' assumption).
 */
final class Nemesis {

    enum Kind {
        KILL(10), RESTART_NOW(5), PAUSE(12), PARTITION(14), PARTITION_MAJORITY(4), HOLD_PARTITION(10), ASYMMETRIC(6),
        LATENCY_LOW(8), LATENCY_HIGH(9), RESET(10), REPLACE_CLIENT(4), RESTART_REPLACE(3), RESTART_FENCE(2),
        RECONNECT(6);

        final int weight;

        Kind(int weight) {
            this.weight = weight;
        }

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** How long the engine lets a connection answer nothing (with timeouts) before it drops it and reconnects. */
    static final Duration STALE_CONNECTION = Duration.ofSeconds(2);

    /** One planned fault. Times are offsets from the run's start. */
    static final class Fault {
        final long atNanos;
        final long durationNanos;
        final Kind kind;
        final int[] nodes;
        /** Clients whose proxies it hits (empty for process faults); for HOLD_PARTITION the preferred one. */
        final int[] clients;
        /** ASYMMETRIC: the nodes the second client is cut off from; RESTART_FENCE: the first cut. */
        final int[] nodes2;
        final long delayMillis;
        final long jitterMillis;
        final FaultProxy.Direction direction;
        /** RESTART_FENCE: the second cut. */
        final int[] nodes3;
        /** RESTART_FENCE: the offset of the restart (and of the move of the cut) from the fault's start. */
        final long[] phases;
        /** RECONNECT: {@code pause} (the proxy holds the bytes) or {@code blackhole} (it drops them). */
        final String mode;

        Fault(long atNanos, long durationNanos, Kind kind, int[] nodes, int[] clients, int[] nodes2, long delayMillis,
                long jitterMillis, FaultProxy.Direction direction) {
            this(atNanos, durationNanos, kind, nodes, clients, nodes2, delayMillis, jitterMillis, direction, new int[0],
                    new long[0], null);
        }

        Fault(long atNanos, long durationNanos, Kind kind, int[] nodes, int[] clients, int[] nodes2, long delayMillis,
                long jitterMillis, FaultProxy.Direction direction, int[] nodes3, long[] phases, String mode) {
            this.atNanos = atNanos;
            this.durationNanos = durationNanos;
            this.kind = kind;
            this.nodes = nodes;
            this.clients = clients;
            this.nodes2 = nodes2;
            this.delayMillis = delayMillis;
            this.jitterMillis = jitterMillis;
            this.direction = direction;
            this.nodes3 = nodes3;
            this.phases = phases;
            this.mode = mode;
        }

        String describe() {
            StringBuilder b = new StringBuilder(kind.label()).append(" nodes=").append(Arrays.toString(nodes));
            if (clients.length > 0) {
                b.append(" clients=").append(Arrays.toString(clients));
            }
            if (nodes2.length > 0) {
                b.append(" nodes2=").append(Arrays.toString(nodes2));
            }
            if (nodes3.length > 0) {
                b.append(" nodes3=").append(Arrays.toString(nodes3));
            }
            if (kind == Kind.LATENCY_LOW || kind == Kind.LATENCY_HIGH) {
                b.append(" delay=").append(delayMillis).append("ms jitter=").append(jitterMillis).append("ms dir=")
                        .append(direction);
            }
            if (mode != null) {
                b.append(" mode=").append(mode);
            }
            if (kind == Kind.RESTART_FENCE) {
                b.append(" restartAt=").append(TimeUnit.NANOSECONDS.toMillis(phases[0])).append("ms");
            }
            b.append(kind == Kind.KILL ? " restartAfter=" : kind == Kind.RESTART_REPLACE ? " replaceAfter=" : " for=")
                    .append(TimeUnit.NANOSECONDS.toMillis(durationNanos)).append("ms");
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
        Busy busy = new Busy(new long[nodeCount], new long[nodeCount], new long[clientCount][nodeCount],
                new long[clientCount]);
        int totalWeight = Arrays.stream(Kind.values()).mapToInt(k -> k.weight).sum();
        List<Fault> faults = new ArrayList<>();
        // Each run gets each kind of GUARANTEED once, at a seeded time in its own part of the run (retried 500 ms later
        // while what it needs is busy); they are also drawn at random like the others.
        List<Kind> guaranteed = new ArrayList<>();
        for (Kind k : GUARANTEED) {
            if (immediateRestarts || !restartsAtOnce(k)) {
                guaranteed.add(k);
            }
        }
        for (int i = guaranteed.size() - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            guaranteed.set(i, guaranteed.set(j, guaranteed.get(i)));
        }
        long[] due = new long[guaranteed.size()];
        long part = guaranteed.isEmpty() ? 0 : end * 9 / 10 / guaranteed.size();
        for (int i = 0; i < due.length; i++) {
            due[i] = end / 20 + i * part + r.nextLong(part / 2 + 1);
        }
        int nextGuaranteed = 0;
        long t = exp(r, mean.toNanos());
        while (true) {
            if (nextGuaranteed < due.length && due[nextGuaranteed] <= t && due[nextGuaranteed] < end) {
                Fault f = build(guaranteed.get(nextGuaranteed), due[nextGuaranteed], r, ttlNanos, maxLease.toNanos(),
                        busy, nodeCount, clientCount);
                if (f != null) {
                    faults.add(f);
                    nextGuaranteed++;
                } else {
                    due[nextGuaranteed] += Duration.ofMillis(500).toNanos();
                }
                continue;
            }
            if (t >= end) {
                break;
            }
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
                Fault f = restartsAtOnce(kind) && !immediateRestarts ? null
                        : build(kind, t, r, ttlNanos, maxLease.toNanos(), busy, nodeCount, clientCount);
                if (f != null) {
                    faults.add(f);
                    break;
                }
            }
            t += exp(r, mean.toNanos());
        }
        return faults;
    }

    /** Kinds every run gets at least once (see {@link #schedule}). */
    static final List<Kind> GUARANTEED = List.of(Kind.REPLACE_CLIENT, Kind.RESTART_REPLACE, Kind.RESTART_FENCE,
            Kind.RECONNECT);

    private static boolean restartsAtOnce(Kind kind) {
        return kind == Kind.RESTART_NOW || kind == Kind.RESTART_REPLACE;
    }

    /** What the faults planned so far occupy, as "busy until" times per node, proxy and client. */
    private static final class Busy {
        /** Nodes with a process fault (kill, pause, restart). */
        final long[] process;
        /** Nodes no process fault may hit (a fault needs them up). */
        final long[] reserved;
        final long[][] proxy;
        /** Client slots being replaced. */
        final long[] client;

        Busy(long[] process, long[] reserved, long[][] proxy, long[] client) {
            this.process = process;
            this.reserved = reserved;
            this.proxy = proxy;
            this.client = client;
        }
    }

    private static Fault build(Kind kind, long t, SplittableRandom r, long ttl, long maxLease, Busy occupied,
            int nodeCount, int clientCount) {
        long[] processBusy = occupied.process;
        long[][] proxyBusy = occupied.proxy;
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
                int[] nodes = pickFree(r, 1, occupied, t);
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
                int[] nodes = pickFree(r, 1, occupied, t);
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
                int[] nodes = pickFree(r, count, occupied, t);
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
            case REPLACE_CLIENT: {
                // close() during traffic; the fresh client takes over the slot's proxies and workers
                int c = r.nextInt(clientCount);
                if (occupied.client[c] > t) {
                    return null;
                }
                occupied.client[c] = t + Duration.ofSeconds(3).toNanos();
                return new Fault(t, 0, kind, none, new int[] {c}, none, 0, 0, null);
            }
            case RESTART_REPLACE: {
                // an immediate restart, then a fresh client within the hold-out: it meets the young node first
                if (busy > 1) {
                    return null;
                }
                int c = r.nextInt(clientCount);
                int[] nodes = pickFree(r, 1, occupied, t);
                if (nodes == null || occupied.client[c] > t) {
                    return null;
                }
                long delay = uniform(r, 0, maxLease * 3 / 4);
                processBusy[nodes[0]] = t + Duration.ofMillis(700).toNanos();
                occupied.client[c] = t + delay + Duration.ofSeconds(3).toNanos();
                return new Fault(t, delay, kind, nodes, new int[] {c}, none, 0, 0, null);
            }
            case RESTART_FENCE: {
                // Both clients cut off from A, B (grants use X, Y, Z and raise the fencing counters there only); then X
                // is restarted at once (it forgets the counters) and, at the same moment, the cut moves to Y, Z. X is
                // held out for the hold-out, so no quorum exists until it counts again; the first grants after that
                // use X, A, B: X has no counter and A, B never saw the latest tokens, so only X's clock floor keeps
                // the tokens increasing. The cut stays U(1 s, 2 s) past the hold-out (plus the uptime's 1 s
                // resolution and a margin).
                if (busy > 1 || nodeCount != 5) {
                    return null;
                }
                int[] clients = new int[clientCount];
                for (int i = 0; i < clientCount; i++) {
                    clients[i] = i;
                }
                int[] x = pickFree(r, 1, occupied, t);
                if (x == null) {
                    return null;
                }
                int[] five = pickFreeProxies(r, nodeCount, proxyBusy, clients, t);
                if (five == null) {
                    return null;
                }
                int[] others = Arrays.stream(five).filter(n -> n != x[0]).toArray();
                int[] first = sorted(Arrays.copyOfRange(others, 0, 2));
                int[] second = sorted(Arrays.copyOfRange(others, 2, 4));
                long restartAt = uniform(r, Duration.ofMillis(500).toNanos(), Duration.ofSeconds(1).toNanos());
                long end = restartAt + maxLease + Duration.ofMillis(1500).toNanos()
                        + uniform(r, Duration.ofSeconds(1).toNanos(), Duration.ofSeconds(2).toNanos());
                processBusy[x[0]] = t + restartAt + Duration.ofMillis(700).toNanos();
                for (int n : new int[] {x[0], first[0], first[1]}) {
                    occupied.reserved[n] = t + end;
                }
                occupy(proxyBusy, clients, five, t + end);
                return new Fault(t, end, kind, x, clients, first, 0, 0, null, second, new long[] {restartAt}, null);
            }
            case RECONNECT: {
                int[] clients = pickClients(r, clientCount, 0.2);
                int[] nodes = pickFreeProxies(r, r.nextDouble() < 0.7 ? 1 : 2, proxyBusy, clients, t);
                if (nodes == null) {
                    return null;
                }
                long stale = STALE_CONNECTION.toNanos();
                long d = uniform(r, stale + Duration.ofMillis(500).toNanos(), 2 * stale);
                String mode = r.nextBoolean() ? "pause" : "blackhole";
                occupy(proxyBusy, clients, nodes, t + d);
                return new Fault(t, d, kind, sorted(nodes), clients, none, 0, 0, null, none, new long[0], mode);
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

    private static int[] pickFree(SplittableRandom r, int count, Busy busy, long t) {
        List<Integer> picked = new ArrayList<>();
        for (int n : shuffled(r, busy.process.length)) {
            if (busy.process[n] <= t && busy.reserved[n] <= t && picked.size() < count) {
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
        /** Replaces lock clients; close() blocks for a while, so not on the nemesis thread (heals would wait). */
        private final ExecutorService replacer = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "chaos-replacer");
            t.setDaemon(true);
            return t;
        });

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

        /** A fault's start, with the time it is planned to heal (its effects may last a while longer). */
        private void started(Fault f, String value) {
            long now = System.nanoTime();
            cluster.history.append(new Event(Event.NEMESIS, "start").t(now).until(now + f.durationNanos).value(value));
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
                    case REPLACE_CLIENT:
                        replaceLater(f, f.clients[0], 0);
                        break;
                    case RESTART_REPLACE:
                        cluster.servers.get(f.nodes[0]).restart();
                        replaceLater(f, f.clients[0], f.durationNanos);
                        break;
                    case RESTART_FENCE:
                        blackhole(f.clients, f.nodes2, true);
                        later(f, f.phases[0], "restarted node " + f.nodes[0] + ", cut moved from "
                                + Arrays.toString(f.nodes2) + " to " + Arrays.toString(f.nodes3), () -> {
                                    cluster.servers.get(f.nodes[0]).restart();
                                    blackhole(f.clients, f.nodes2, false);
                                    blackhole(f.clients, f.nodes3, true);
                                });
                        healLater(f, () -> blackhole(f.clients, f.nodes3, false));
                        break;
                    case RECONNECT: {
                        boolean hold = "pause".equals(f.mode);
                        hold(f, hold, true);
                        healLater(f, () -> hold(f, hold, false));
                        break;
                    }
                    default:
                        throw new IllegalStateException(f.kind.toString());
                }
                applied.incrementAndGet();
                started(f, detail);
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
                started(f, f.describe() + " -> client " + target + (holding ? " while holding" : " (no hold)"));
            } catch (RuntimeException e) {
                record("error", f.describe() + ": " + e);
            }
        }

        /** RECONNECT: the proxies hold the bytes (pause, delivered late on heal) or drop them (blackhole). */
        private void hold(Fault f, boolean pause, boolean on) {
            for (int c : f.clients) {
                for (int n : f.nodes) {
                    FaultProxy p = cluster.client(c).proxies.get(n);
                    if (pause) {
                        p.pause(on);
                    } else {
                        p.blackhole(on);
                    }
                }
            }
        }

        /** A fresh lock client for slot {@code client} after {@code delayNanos}, the old one closed mid-traffic. */
        private void replaceLater(Fault f, int client, long delayNanos) {
            executor.schedule(() -> replacer.execute(() -> {
                try {
                    long closed = cluster.replace(client);
                    record("stop", f.kind.label() + " client=" + client + ": replaced; the old client's close() took "
                            + TimeUnit.NANOSECONDS.toMillis(closed) + " ms");
                } catch (RuntimeException e) {
                    record("error", "replacing client " + client + " for " + f.describe() + ": " + e);
                }
            }), delayNanos, TimeUnit.NANOSECONDS);
        }

        /** One step of a multi-phase fault, {@code offsetNanos} after its start. */
        private void later(Fault f, long offsetNanos, String what, Runnable step) {
            executor.schedule(() -> {
                try {
                    step.run();
                    record("step", f.kind.label() + ": " + what);
                } catch (RuntimeException e) {
                    record("error", f.describe() + ", " + what + ": " + e);
                }
            }, offsetNanos, TimeUnit.NANOSECONDS);
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
         * for the client replacements under way and the pending delayed restarts. Returns the nanoTime when
         * everything was healed. Blocking.
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
            replacer.shutdown();
            try {
                if (!replacer.awaitTermination(60, TimeUnit.SECONDS)) {
                    record("error", "client replacements did not finish within 60 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
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
