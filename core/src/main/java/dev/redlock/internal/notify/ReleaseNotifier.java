package dev.redlock.internal.notify;

import dev.redlock.internal.node.NodeChannel;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.scheduler.Scheduler;

/**
 * Wakes waiters when a lease on their key is released. A release publishes on the key's channel on every node;
 * waiters subscribe (one Redis subscription per channel and node, shared by all local waiters) while they wait.
 * Pub/sub can lose messages, so every wait is also bounded by the waiter's backoff.
 *
 * <p>A channel stays subscribed for {@link #LINGER} after its last waiter left: under contention waiters come and go
 * all the time, and re-subscribing for each of them would cost a round trip per wait and could let an UNSUBSCRIBE
 * overtake the next SUBSCRIBE (they are written from different threads), silently losing notifications.
 */
public final class ReleaseNotifier {

    public static final Duration LINGER = Duration.ofSeconds(5);
    /** How often a busy channel tries again to subscribe on a node where subscribing failed. */
    public static final Duration RESUBSCRIBE_INTERVAL = Duration.ofSeconds(1);

    private final NodeChannel[] nodes;
    private final Scheduler scheduler;
    private final ConcurrentHashMap<String, Channel> channels = new ConcurrentHashMap<>();

    public ReleaseNotifier(NodeChannel[] nodes, Scheduler scheduler) {
        this.nodes = nodes;
        this.scheduler = scheduler;
    }

    /** Registers a waiter on a channel; close the listener when done waiting. */
    public Listener listen(String channelName) {
        while (true) {
            Channel channel = channels.computeIfAbsent(channelName, Channel::new);
            Listener listener = channel.add();
            if (listener != null) {
                return listener;
            }
            // the channel was being torn down; take a fresh one
            channels.remove(channelName, channel);
        }
    }

    /**
     * Wakes this client's own waiters on a channel at once, as a release of theirs was handed to every node's
     * connection: their next attempt is written to the same connections after it, so it need not wait for the
     * release's replies and the published message. Only an optimisation: if the attempt still finds the key (a write
     * from an event-loop thread can go ahead of one queued from another thread), the published message wakes them
     * again.
     */
    public void releasedLocally(String channelName) {
        Channel channel = channels.get(channelName);
        if (channel != null) {
            channel.onMessage();
        }
    }

    public int channelCount() {
        return channels.size();
    }

    /** One channel: subscribed on all nodes while at least one local waiter listens. */
    private final class Channel {
        private final String name;
        private final Set<Listener> listeners = ConcurrentHashMap.newKeySet();
        private final CompletableFuture<Void> subscribed = new CompletableFuture<>();
        /** Per node: the subscription (failed while the node's pub/sub connection could not be opened). */
        private final CompletableFuture<?>[] perNode = new CompletableFuture<?>[nodes.length];
        /** Per node: when a failed subscription may be tried again; guarded by this. */
        private final long[] retryAt = new long[nodes.length];
        private final Runnable handler = this::onMessage;
        private int refs;
        private boolean dead;
        private boolean subscribing;
        private boolean teardownScheduled;
        private long idleSinceNanos;

        Channel(String name) {
            this.name = name;
        }

        Listener add() {
            boolean first;
            Listener listener;
            synchronized (this) {
                if (dead) {
                    return null;
                }
                refs++;
                first = !subscribing;
                subscribing = true;
                listener = new Listener(this);
                listeners.add(listener);
            }
            if (first) {
                for (int i = 0; i < nodes.length; i++) {
                    subscribe(i);
                }
            } else {
                resubscribeWhereFailed();
            }
            return listener;
        }

        private void subscribe(int i) {
            CompletableFuture<Void> f = nodes[i].subscribe(name, handler).toCompletableFuture();
            perNode[i] = f;
            f.thenRun(() -> subscribed.complete(null));
        }

        /**
         * A node whose pub/sub connection failed when the channel was first subscribed (it was down) would otherwise
         * never be subscribed while the channel stays busy: its releases would wake nobody, and waiters would sleep
         * out their backoff. Each new waiter tries again, at most once per {@link #RESUBSCRIBE_INTERVAL} per node.
         */
        private void resubscribeWhereFailed() {
            long now = scheduler.now(TimeUnit.NANOSECONDS);
            for (int i = 0; i < nodes.length; i++) {
                CompletableFuture<?> f = perNode[i];
                if (f == null || !f.isCompletedExceptionally()) {
                    continue;
                }
                synchronized (this) {
                    if (dead || perNode[i] != f || now - retryAt[i] < 0) {
                        continue;
                    }
                    retryAt[i] = now + RESUBSCRIBE_INTERVAL.toNanos();
                }
                subscribe(i);
            }
        }

        void remove(Listener listener) {
            boolean schedule;
            synchronized (this) {
                if (!listeners.remove(listener)) {
                    return;
                }
                if (--refs > 0) {
                    return;
                }
                idleSinceNanos = scheduler.now(TimeUnit.NANOSECONDS);
                schedule = !teardownScheduled;
                teardownScheduled = true;
            }
            if (schedule) {
                scheduler.schedule(this::teardownIfUnused, LINGER.toNanos(), TimeUnit.NANOSECONDS);
            }
        }

        /**
         * Tears the channel down once it has had no waiter for a whole {@link #LINGER}. Under contention the
         * count drops to zero for an instant at every handoff; those instants must not tear down a busy channel.
         * One check is pending per channel at a time.
         */
        private void teardownIfUnused() {
            long again;
            synchronized (this) {
                if (dead) {
                    return;
                }
                if (refs > 0) {
                    teardownScheduled = false; // the next departure of the last waiter schedules the next check
                    return;
                }
                long idle = scheduler.now(TimeUnit.NANOSECONDS) - idleSinceNanos;
                again = LINGER.toNanos() - idle;
                if (again <= 0) {
                    dead = true;
                }
            }
            if (again > 0) {
                scheduler.schedule(this::teardownIfUnused, again, TimeUnit.NANOSECONDS);
                return;
            }
            channels.remove(name, this);
            for (NodeChannel node : nodes) {
                node.unsubscribe(name, handler);
            }
        }

        void onMessage() {
            for (Listener l : listeners) {
                l.signal();
            }
        }
    }

    /** One waiter's view of a channel. */
    public final class Listener implements AutoCloseable {
        private final Channel channel;
        private volatile boolean pending;
        private final AtomicReference<MonoSink<Void>> waiter = new AtomicReference<>();

        Listener(Channel channel) {
            this.channel = channel;
        }

        /** Completes once the subscription is confirmed by at least one node, or after {@code maxNanos}. */
        public Mono<Void> ready(long maxNanos) {
            return Mono.create(sink -> {
                if (channel.subscribed.isDone()) {
                    sink.success();
                    return;
                }
                Disposable timer = scheduler.schedule(sink::success, maxNanos, TimeUnit.NANOSECONDS);
                channel.subscribed.thenRun(sink::success);
                sink.onDispose(timer);
            });
        }

        /** Forgets notifications seen so far: called as an attempt starts, which sees the state after them. */
        public void arm() {
            pending = false;
        }

        /** Completes on the next notification since {@link #arm()}, or after {@code nanos}. */
        public Mono<Void> await(long nanos) {
            return Mono.create(sink -> {
                if (pending) {
                    sink.success();
                    return;
                }
                waiter.set(sink);
                if (pending && waiter.compareAndSet(sink, null)) {
                    sink.success();
                    return;
                }
                Disposable timer = scheduler.schedule(
                        () -> {
                            waiter.compareAndSet(sink, null);
                            sink.success();
                        },
                        nanos,
                        TimeUnit.NANOSECONDS);
                sink.onDispose(() -> {
                    timer.dispose();
                    waiter.compareAndSet(sink, null);
                });
            });
        }

        void signal() {
            pending = true;
            MonoSink<Void> w = waiter.getAndSet(null);
            if (w != null) {
                w.success();
            }
        }

        @Override
        public void close() {
            channel.remove(this);
        }
    }
}
