package dev.redlock;

import dev.redlock.internal.node.NodeChannel;
import dev.redlock.internal.script.LockScript;
import dev.redlock.internal.script.Script;
import io.lettuce.core.RedisCommandExecutionException;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.scheduler.Scheduler;

/**
 * An in-memory stand-in for one Redis node, for virtual-time unit tests of the quorum, validity and watchdog logic.
 * It implements exactly the semantics of {@link LockScript}s (SET NX PX, compare-and-delete, compare-and-pexpire,
 * fence write-back, the maximum lease time record) with key expiry on the scheduler's clock, and can be slowed down,
 * taken down or blackholed. {@link NodeContract} holds it to the replies a real node gives to each script
 * ({@code FakeNodeContractTest} here, {@code LettuceNodeContractIT} on redis-server); every behaviour tested over it
 * is also tested against real Redis servers in the {@code *IT} tests.
 */
final class FakeNode implements NodeChannel {

    private final String name;
    private final Scheduler scheduler;
    private final Map<String, String> values = new HashMap<>();
    private final Map<String, Long> expiries = new HashMap<>();
    private final Map<String, Runnable> subscriptions = new ConcurrentHashMap<>();
    final AtomicInteger commands = new AtomicInteger();
    final AtomicInteger unsubscribes = new AtomicInteger();
    private final Map<Script, AtomicInteger> perScript = new ConcurrentHashMap<>();

    volatile long latencyNanos;
    volatile boolean down;
    volatile boolean blackhole;
    /** Commands run, but their replies never come back (lost on the way). */
    volatile boolean dropReplies;
    /** A command sent while an earlier one on the same connection has not run yet overtakes it. */
    volatile boolean overtaking;
    volatile NodeHeldOutException heldOut;

    FakeNode(String name, Scheduler scheduler) {
        this.name = name;
        this.scheduler = scheduler;
    }

    /** How many commands of this script reached this node. */
    int commands(Script script) {
        AtomicInteger c = perScript.get(script);
        return c == null ? 0 : c.get();
    }

    FakeNode latency(Duration latency) {
        this.latencyNanos = latency.toNanos();
        return this;
    }

    @Override
    public String name() {
        return name;
    }

    private long now() {
        return scheduler.now(TimeUnit.NANOSECONDS);
    }

    /** One connection: {@link #closeConnection()} closes it and the next command goes on a new one. */
    private final class FakeConnection implements NodeConnection {
        final CompletableFuture<Void> closed = new CompletableFuture<>();
        /** Commands handed over and not run yet. */
        final AtomicInteger unrun = new AtomicInteger();

        @Override
        public CompletionStage<Long> eval(Script script, String[] keys, String[] args) {
            commands.incrementAndGet();
            perScript.computeIfAbsent(script, x -> new AtomicInteger()).incrementAndGet();
            CompletableFuture<Long> reply = new CompletableFuture<>();
            if (down || closed.isDone()) {
                reply.completeExceptionally(new IOException("connection refused by " + name));
                return reply;
            }
            if (blackhole) {
                return reply; // never answers
            }
            // With overtaking on, a command handed over while an earlier one has not run yet runs first: what a write
            // queued for the event loop from another thread suffers from a later write made on the event loop itself.
            long delay = overtaking && unrun.get() > 0 ? 0 : latencyNanos;
            unrun.incrementAndGet();
            scheduler.schedule(() -> {
                unrun.decrementAndGet();
                try {
                    long value = run(script, keys, args);
                    if (!dropReplies) {
                        reply.complete(value);
                    }
                } catch (RuntimeException e) {
                    reply.completeExceptionally(e);
                }
            }, delay, TimeUnit.NANOSECONDS);
            return reply;
        }

        @Override
        public NodeHeldOutException heldOut(long nowNanos) {
            return heldOut;
        }

        @Override
        public CompletionStage<Void> closed() {
            return closed;
        }
    }

    private volatile FakeConnection connection = new FakeConnection();

    /** Closes the current connection (as a client does with a node that stopped answering); a new one follows. */
    void closeConnection() {
        FakeConnection old = connection;
        connection = new FakeConnection();
        old.closed.complete(null);
    }

    @Override
    public NodeConnection ready() {
        return connection;
    }

    /** When set, {@link #connect()} hands out this future (shared by every caller, as a real node's is). */
    volatile CompletableFuture<NodeConnection> connecting;

    @Override
    public CompletionStage<NodeConnection> connect() {
        CompletableFuture<NodeConnection> shared = connecting;
        if (shared != null) {
            return shared;
        }
        return CompletableFuture.completedFuture(connection);
    }

    @Override
    public CompletionStage<Void> subscribe(String channel, Runnable onMessage) {
        if (down) {
            return CompletableFuture.failedFuture(new IOException("pub/sub connection refused by " + name));
        }
        subscriptions.put(channel, onMessage);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void unsubscribe(String channel, Runnable onMessage) {
        if (subscriptions.remove(channel, onMessage)) {
            unsubscribes.incrementAndGet();
        }
    }

    /** Whether the client closed this node channel (its {@code close()} got that far). */
    volatile boolean closedByClient;

    @Override
    public CompletionStage<Void> closeAsync() {
        closedByClient = true;
        return CompletableFuture.completedFuture(null);
    }

    // == The data, with expiry on the scheduler clock ==

    synchronized String get(String key) {
        Long exp = expiries.get(key);
        if (exp != null && now() - exp >= 0) {
            values.remove(key);
            expiries.remove(key);
        }
        return values.get(key);
    }

    synchronized void set(String key, String value, long pxMillis) {
        values.put(key, value);
        if (pxMillis > 0) {
            expiries.put(key, now() + TimeUnit.MILLISECONDS.toNanos(pxMillis));
        } else {
            expiries.remove(key);
        }
    }

    synchronized void del(String key) {
        values.remove(key);
        expiries.remove(key);
    }

    synchronized long pttl(String key) {
        if (get(key) == null) {
            return -2;
        }
        Long exp = expiries.get(key);
        return exp == null ? -1 : TimeUnit.NANOSECONDS.toMillis(exp - now());
    }

    /** Keys (lock keys only, not fence counters) that are alive now. */
    synchronized long liveLockKeys() {
        return values.keySet().stream().filter(k -> !k.endsWith(":fence")).filter(k -> get(k) != null).count();
    }

    /** A release notification on {@code channel} ("" for none), delivered after the node's latency. */
    void publish(String channel) {
        Runnable handler = channel.isEmpty() ? null : subscriptions.get(channel);
        if (handler != null) {
            scheduler.schedule(handler, latencyNanos, TimeUnit.NANOSECONDS);
        }
    }

    private synchronized long run(Script script, String[] keys, String[] args) {
        switch (script.name()) {
            case "acquire": {
                if (get(keys[0]) == null) {
                    long lease = Long.parseLong(args[1]);
                    if (lease <= 0) {
                        // SET PX refuses it: no lock key without an expiry
                        throw new RedisCommandExecutionException("ERR invalid expire time in 'set' command");
                    }
                    set(keys[0], args[0], lease);
                    if ("1".equals(args[2])) {
                        String c = get(keys[1]);
                        return c == null ? TimeUnit.NANOSECONDS.toMicros(now()) : Long.parseLong(c);
                    }
                    return 0;
                }
                long pttl = pttl(keys[0]);
                return pttl == -1 ? LockScript.NO_EXPIRY : -1 - Math.max(0, pttl);
            }
            case "fair-acquire": {
                // the fair lock's key only, not its queue (the queue is tested on real nodes): granted while the key
                // is free, else refused with the waiter's score (the agreed one, or one from this node's clock)
                if (get(keys[0]) == null) {
                    set(keys[0], args[0], Long.parseLong(args[1]));
                    return 0;
                }
                long score = args[6].isEmpty()
                        ? (1000L - Long.parseLong(args[4])) * (1L << 42) + TimeUnit.NANOSECONDS.toMillis(now())
                        : Long.parseLong(args[6]);
                return -1 - score;
            }
            case "fair-release": {
                String v = args[0].isEmpty() ? null : get(keys[0]);
                if (v != null && v.equals(args[0])) {
                    del(keys[0]);
                    return 1;
                }
                return v == null ? 0 : -1;
            }
            case "release": {
                String v = get(keys[0]);
                if (args[0].equals(v)) {
                    del(keys[0]);
                    publish(args[1]);
                    return 1;
                }
                return v == null ? 0 : -1;
            }
            case "extend": {
                String v = get(keys[0]);
                if (args[0].equals(v)) {
                    expiries.put(keys[0], now() + TimeUnit.MILLISECONDS.toNanos(Long.parseLong(args[1])));
                    return 1;
                }
                return v == null ? 0 : -1;
            }
            case "extend-batch": {
                long renewed = 0;
                for (int i = 0; i < keys.length; i++) {
                    if (args[2 * i].equals(get(keys[i]))) {
                        expiries.put(keys[i], now() + TimeUnit.MILLISECONDS.toNanos(Long.parseLong(args[2 * i + 1])));
                        renewed |= 1L << i;
                    }
                }
                return renewed;
            }
            case "fence": {
                if (args[0].equals(get(keys[0]))) {
                    String c = get(keys[1]);
                    long current = c == null ? 0 : Long.parseLong(c);
                    long fence = Long.parseLong(args[1]);
                    if (fence > current) {
                        set(keys[1], Long.toString(fence), 0);
                    }
                    return 1;
                }
                return 0;
            }
            case "ping":
                return 1;
            case "release-unchecked": {
                del(keys[0]);
                publish(args[1]);
                return 1;
            }
            case "exists":
                return get(keys[0]) == null ? 0 : 1;
            case "max-lease": {
                String r = get(keys[0]);
                long recorded = r == null ? 0 : Long.parseLong(r);
                long mine = Long.parseLong(args[0]);
                if (mine > recorded) {
                    set(keys[0], args[0], 0);
                    return mine;
                }
                return recorded;
            }
            default:
                throw new IllegalStateException("unknown script " + script);
        }
    }
}
