package dev.redlock.chaos;

import static java.util.concurrent.TimeUnit.MILLISECONDS;

import dev.redlock.EngineAccess;
import dev.redlock.LockOptions;
import dev.redlock.NodeStatus;
import dev.redlock.ReactiveRedLock;
import dev.redlock.RestartGuard;
import dev.redlock.testkit.FaultProxies;
import dev.redlock.testkit.RedisServer;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * N real nodes and several lock clients, each behind its OWN set of fault proxies (one per node), so a partition can
 * cut one client off from some nodes while the other still reaches them. Also holds the run's {@link History} and
 * {@link GuardedStore}, and does the hygiene checks. Blocking methods are for test threads only.
 */
final class Cluster implements AutoCloseable {

    /**
     * One client slot: its proxies and the lock client behind them. The nemesis may replace the lock client during
     * traffic ({@link #replace}); operations read {@link #lock} when they start.
     */
    static final class Client {
        final int index;
        final FaultProxies proxies;
        volatile ReactiveRedLock lock;
        volatile EngineAccess.Hooks hooks;
        volatile Duration maxLeaseTime;
        volatile RestartGuard guard;
        /** Long holds in progress (the nemesis aims renewal-breaking partitions at their client). */
        final AtomicInteger longHolds = new AtomicInteger();
        /** How many lock clients this slot has had before the current one. */
        final AtomicInteger replaced = new AtomicInteger();

        Client(int index, FaultProxies proxies, ReactiveRedLock lock, Duration maxLeaseTime, RestartGuard guard) {
            this.index = index;
            this.proxies = proxies;
            this.lock = lock;
            this.hooks = EngineAccess.installHooks(lock);
            this.maxLeaseTime = maxLeaseTime;
            this.guard = guard;
        }
    }

    final RedisServers servers;
    final List<Client> clients = new ArrayList<>();
    /** Lock clients closed during the run (replaced): still checked for watchdogs and leases after quiescence. */
    final List<ReactiveRedLock> retired = new CopyOnWriteArrayList<>();
    final History history = new History();
    final GuardedStore store = new GuardedStore(history);
    final LockOptions defaults;
    private final long[] baselineConnections;
    private boolean clientsClosed;

    private Cluster(RedisServers servers, LockOptions defaults) {
        this.servers = servers;
        this.defaults = defaults;
        this.baselineConnections = new long[servers.size()];
        for (int i = 0; i < servers.size(); i++) {
            baselineConnections[i] = connections(servers.get(i));
        }
    }

    /**
     * Starts proxies and builds {@code clients} clients over running nodes; measures the per-node connection
     * baseline first. {@code maxLeaseTime} is also the restart guard's hold-out time.
     */
    static Cluster open(RedisServers servers, int clients, LockOptions defaults, Duration maxLeaseTime,
            RestartGuard guard) {
        Duration[] max = new Duration[clients];
        java.util.Arrays.fill(max, maxLeaseTime);
        return open(servers, defaults, guard, max);
    }

    /** As above, one client per entry of {@code maxLeaseTimes}, each with that maximum lease time. */
    static Cluster open(RedisServers servers, LockOptions defaults, RestartGuard guard, Duration... maxLeaseTimes) {
        Cluster cluster = new Cluster(servers, defaults);
        try {
            for (int c = 0; c < maxLeaseTimes.length; c++) {
                FaultProxies proxies = FaultProxies.inFrontOf(servers);
                ReactiveRedLock lock;
                try {
                    lock = cluster.build(proxies, maxLeaseTimes[c], guard);
                } catch (RuntimeException e) {
                    proxies.close();
                    throw e;
                }
                cluster.clients.add(new Client(c, proxies, lock, maxLeaseTimes[c], guard));
            }
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
        return cluster;
    }

    /** A lock client over {@code proxies}; its default lease time is at most its maximum lease time. */
    private ReactiveRedLock build(FaultProxies proxies, Duration maxLeaseTime, RestartGuard guard) {
        LockOptions options = defaults.leaseTime().compareTo(maxLeaseTime) > 0
                ? defaults.mutate().leaseTime(maxLeaseTime).build()
                : defaults;
        return ReactiveRedLock.builder()
                .nodes(proxies.uris().toArray(String[]::new))
                .defaults(options)
                .maxLeaseTime(maxLeaseTime)
                .restartGuard(guard)
                .build();
    }

    /**
     * A fresh lock client (same proxies and settings, never connected, test hooks off) takes slot {@code i}'s place,
     * then the old one is closed while operations still run on it ({@link #retire}). Blocking; returns how long the
     * old client's {@code close()} took, in nanoseconds.
     */
    long replace(int i) {
        Client c = client(i);
        return replace(i, c.guard, c.maxLeaseTime);
    }

    /** As {@link #replace(int)}, with another restart guard and maximum lease time for the fresh client. */
    long replace(int i, RestartGuard guard, Duration maxLeaseTime) {
        Client c = client(i);
        ReactiveRedLock old = c.lock;
        renew(i, guard, maxLeaseTime);
        return retire(c, old);
    }

    /** Closes slot {@code i}'s lock client now (blocking) without a successor yet; see {@link #renew}. */
    long retire(int i) {
        Client c = client(i);
        return retire(c, c.lock);
    }

    /** Gives slot {@code i} a fresh lock client (never connected, test hooks off) with these settings. */
    void renew(int i, RestartGuard guard, Duration maxLeaseTime) {
        Client c = client(i);
        ReactiveRedLock fresh = build(c.proxies, maxLeaseTime, guard);
        c.hooks = EngineAccess.installHooks(fresh);
        c.maxLeaseTime = maxLeaseTime;
        c.guard = guard;
        c.lock = fresh;
        c.replaced.incrementAndGet();
    }

    private long retire(Client c, ReactiveRedLock old) {
        if (!retired.contains(old)) {
            retired.add(old);
        }
        long start = System.nanoTime();
        try {
            old.close();
        } catch (RuntimeException e) {
            history.append(new Event(Event.NEMESIS, "error").value("closing a lock client of slot " + c.index
                    + " failed after " + Checker.ms(System.nanoTime() - start) + ": " + e + "; threads: "
                    + threadDump()));
        }
        return System.nanoTime() - start;
    }

    Client client(int i) {
        return clients.get(i);
    }

    /**
     * Connects every client to every node (scripts loaded, run_ids seen) with acquires and releases, retried while a
     * loaded machine makes first contacts slow, then waits (up to 15 s) until every node counts for every client
     * (up, circuit breaker not open, not held out), so a run or scenario starts from a healthy state.
     */
    void warmUp() {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        for (Client c : clients) {
            for (int i = 0; i < 3; i++) {
                c.lock.acquire("warm-up-" + c.index + "-" + i)
                        .flatMap(lease -> lease.release())
                        .retryWhen(reactor.util.retry.Retry.backoff(20, Duration.ofMillis(50)))
                        .block(Duration.ofSeconds(15));
            }
        }
        while (true) {
            List<String> notCounting = new ArrayList<>();
            for (Client c : clients) {
                for (dev.redlock.NodeStatus status : c.lock.nodeStatus()) {
                    if (!status.counts()) {
                        notCounting.add("client " + c.index + ": " + status);
                    }
                }
            }
            if (notCounting.isEmpty()) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("nodes still not counting after the warm-up: " + notCounting);
            }
            for (Client c : clients) {
                c.lock.acquire("warm-up-" + c.index).flatMap(lease -> lease.release()).onErrorResume(e -> reactor.core
                        .publisher.Mono.empty()).block(Duration.ofSeconds(15));
            }
            sleep(100);
        }
    }

    /**
     * Lock keys ({@code lock:*} but not {@code :fence} counters; semaphore hashes, fair-lock queues and the hashes of
     * locks with modes included) on
     * running nodes, as {@code node<i>:<key>(pttl=<ms>,tok=<hash>)}: the token hash matches the history's {@code tok}
     * of a lease.
     */
    List<String> lockKeys() {
        List<String> found = new ArrayList<>();
        List<List<String>> perNode = servers.keys("lock:{*");
        for (int i = 0; i < perNode.size(); i++) {
            for (String key : perNode.get(i)) {
                if (!key.endsWith(":fence")) {
                    String detail;
                    try {
                        if (key.endsWith(":permits")) {
                            // a semaphore's hash: gone one lease time after its last grant or renewal
                            found.add("node" + i + ":" + key + "(pttl=" + servers.get(i).admin().pttl(key)
                                    + ",slots held=" + heldSlots(servers.get(i), key).size() + ")");
                            continue;
                        }
                        if (key.endsWith(":queue") || key.endsWith(":heartbeats")) {
                            // a fair lock's waiters: gone with the last heartbeat
                            found.add("node" + i + ":" + key + "(pttl=" + servers.get(i).admin().pttl(key)
                                    + ",waiters=" + servers.get(i).admin().zcard(key) + ")");
                            continue;
                        }
                        if (key.endsWith(":rw") || key.contains("}:tree:")) {
                            // a lock with modes' hash of one resource: holders (token hashes), claims (w:) and its
                            // expiry field (m)
                            List<String> fields = new ArrayList<>();
                            for (String f : servers.get(i).admin().hkeys(key)) {
                                fields.add(f.equals("m") ? f : f.startsWith("w:") ? "w:" + GuardedStore.tokenHash(
                                        f.substring(2)) : GuardedStore.tokenHash(f));
                            }
                            found.add("node" + i + ":" + key + "(pttl=" + servers.get(i).admin().pttl(key)
                                    + ",fields=" + fields + ")");
                            continue;
                        }
                        String value = servers.get(i).admin().get(key);
                        detail = "(pttl=" + servers.get(i).admin().pttl(key) + ",tok="
                                + (value == null ? "gone" : GuardedStore.tokenHash(value)) + ")";
                    } catch (RuntimeException e) {
                        detail = "(" + e.getMessage() + ")";
                    }
                    found.add("node" + i + ":" + key + detail);
                }
            }
        }
        return found;
    }

    /**
     * Semaphore slots held now on running nodes: in every {@code lock:{*}:permits} hash, the slots {@code s<i>} whose
     * deadline {@code e<i>} is after the node's {@code TIME}, as {@code node<i>:<key>:s<i>(<ms> left,tok=<hash>)}.
     */
    List<String> heldSlots() {
        List<String> found = new ArrayList<>();
        List<List<String>> perNode = servers.keys("lock:{*}:permits");
        for (int i = 0; i < perNode.size(); i++) {
            for (String key : perNode.get(i)) {
                try {
                    for (String slot : heldSlots(servers.get(i), key)) {
                        found.add("node" + i + ":" + key + ":" + slot);
                    }
                } catch (RuntimeException e) {
                    found.add("node" + i + ":" + key + "(" + e.getMessage() + ")");
                }
            }
        }
        return found;
    }

    private static List<String> heldSlots(RedisServer server, String key) {
        List<String> time = server.admin().time();
        long now = Long.parseLong(time.get(0)) * 1000 + Long.parseLong(time.get(1)) / 1000;
        java.util.Map<String, String> hash = server.admin().hgetall(key);
        List<String> held = new ArrayList<>();
        hash.forEach((field, token) -> {
            if (field.matches("s\\d+")) {
                String e = hash.get("e" + field.substring(1));
                long left = e == null ? 0 : Long.parseLong(e) - now;
                if (left > 0) {
                    held.add(field + "(" + left + " ms left,tok=" + GuardedStore.tokenHash(token) + ")");
                }
            }
        });
        return held;
    }

    /** Semaphore slots held now, recorded as {@code kind}. */
    List<String> checkHeldSlots(Violation kind, String when) {
        List<String> slots = heldSlots();
        hygiene(kind, slots.size(), when + (slots.isEmpty() ? "" : ": " + abbreviate(slots)));
        return slots;
    }

    void hygiene(Violation kind, long count, String detail) {
        history.append(new Event(Event.HYGIENE, kind.label()).count(count).value(detail));
    }

    /**
     * After quiescence: no client (replaced ones included) runs a watchdog or tracks an active lease (waits up to
     * {@code within} for them to wind down), recorded in the history.
     */
    void checkClientsIdle(Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        int watchdogs;
        int active;
        while (true) {
            watchdogs = 0;
            active = 0;
            for (Client c : clients) {
                watchdogs += EngineAccess.runningWatchdogs(c.lock);
                active += c.lock.activeLeases();
            }
            for (ReactiveRedLock old : retired) {
                watchdogs += EngineAccess.runningWatchdogs(old);
                active += old.activeLeases();
            }
            if ((watchdogs == 0 && active == 0) || System.nanoTime() - deadline > 0) {
                break;
            }
            sleep(20);
        }
        hygiene(Violation.WATCHDOGS, watchdogs, "running watchdogs after quiescence");
        hygiene(Violation.ACTIVE_LEASES, active, "active leases after quiescence");
    }

    /** Lock keys left now, recorded as {@code kind} (leaked_keys or leaked_keys_early). */
    List<String> checkLockKeys(Violation kind, String when) {
        List<String> keys = lockKeys();
        hygiene(kind, keys.size(), when + (keys.isEmpty() ? "" : ": " + abbreviate(keys)));
        return keys;
    }

    /** Closes the clients, then waits (up to 5 s) for every node's connection count to return to its baseline. */
    void closeClientsAndCheckConnections() {
        closeClients();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        long excess;
        StringBuilder detail;
        while (true) {
            excess = 0;
            detail = new StringBuilder();
            for (int i = 0; i < servers.size(); i++) {
                long now = connections(servers.get(i));
                if (now > baselineConnections[i]) {
                    excess += now - baselineConnections[i];
                    detail.append(" node").append(i).append(": ").append(now).append(" > ")
                            .append(baselineConnections[i]);
                }
            }
            if (excess == 0 || System.nanoTime() - deadline > 0) {
                break;
            }
            sleep(50);
        }
        hygiene(Violation.CONNECTIONS, excess, excess == 0 ? "back to baseline" : detail.toString().trim());
    }

    /** Client connections on a node ({@code CLIENT LIST} through the admin connection, which counts itself). */
    static long connections(RedisServer server) {
        String list = server.admin().clientList();
        return list.lines().filter(l -> !l.isBlank()).count();
    }

    private void closeClients() {
        if (clientsClosed) {
            return;
        }
        clientsClosed = true;
        for (Client c : clients) {
            long start = System.nanoTime();
            try {
                c.lock.close();
            } catch (RuntimeException e) {
                history.append(new Event(Event.NEMESIS, "error").value("closing client " + c.index + " failed after "
                        + Checker.ms(System.nanoTime() - start) + ": " + e + "; threads: " + threadDump()));
            }
        }
    }

    @Override
    public void close() {
        closeClients();
        for (Client c : clients) {
            c.proxies.close();
        }
    }

    static String threadDump() {
        StringBuilder b = new StringBuilder();
        Thread.getAllStackTraces().forEach((thread, stack) -> {
            b.append('\n').append(thread.getName()).append(' ').append(thread.getState());
            for (StackTraceElement e : stack) {
                b.append("\n    at ").append(e);
            }
        });
        return b.toString();
    }

    static String abbreviate(List<String> items) {
        return items.size() <= 10 ? items.toString()
                : items.subList(0, 10) + " and " + (items.size() - 10) + " more";
    }

    static void sleep(long millis) {
        try {
            MILLISECONDS.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
