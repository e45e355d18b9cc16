package dev.redlock.internal.acquire;

import dev.redlock.internal.lease.DefaultLease;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Local waiting lines, one per key: of the acquires in this client that wait for the same busy key, only the one at
 * the head of the line tries the nodes; the others wait for their turn.
 *
 * <p>Without it, every release wakes every local waiter at once; they all send their acquire to all nodes, which
 * then grant in different orders, and with several nodes nobody reaches a quorum (a split vote) and all of them
 * back off while the lock sits idle. With the line, one client adds at most one waiting contender per key, handoffs
 * stay one round trip after the release notification, and local waiters are served in arrival order.
 */
public final class LocalQueue {

    private final ConcurrentHashMap<String, ArrayDeque<Ticket>> lines = new ConcurrentHashMap<>();
    private final Scheduler scheduler;

    public LocalQueue(Scheduler scheduler) {
        this.scheduler = scheduler;
    }

    /** Whether local acquires are already waiting in line for this key (a new acquire then queues behind them). */
    boolean busy(String lockKey) {
        return lines.containsKey(lockKey);
    }

    /** Joins the line for a key; the ticket's turn comes once everyone ahead has left. */
    Ticket join(String lockKey) {
        Ticket ticket = new Ticket(lockKey);
        boolean[] head = new boolean[1];
        lines.compute(lockKey, (k, line) -> {
            ArrayDeque<Ticket> l = line == null ? new ArrayDeque<>() : line;
            l.addLast(ticket);
            head[0] = l.peekFirst() == ticket;
            return l;
        });
        if (head[0]) {
            ticket.headAtOnce = true;
            ticket.turn.complete(null);
        }
        return ticket;
    }

    /** Lets every waiting ticket go (the client is closing; their next step fails). */
    public void releaseAll() {
        java.util.List<Ticket> waiting = new java.util.ArrayList<>();
        for (String key : lines.keySet()) {
            lines.computeIfPresent(key, (k, line) -> {
                waiting.addAll(line);
                return line;
            });
        }
        // completed outside the map's lock: a completion runs the waiter's pipeline, which may touch the map
        waiting.forEach(t -> t.turn.complete(null));
    }

    /** A place in one key's line. */
    final class Ticket implements AutoCloseable {
        private final String lockKey;
        private final CompletableFuture<Void> turn = new CompletableFuture<>();
        private volatile boolean headAtOnce;
        /** The lease this ticket's acquire got, if it got one. */
        private volatile DefaultLease acquired;
        /** The lease of the head that left the line before this ticket's turn, if that head got the lock. */
        private volatile DefaultLease handedOverBy;

        Ticket(String lockKey) {
            this.lockKey = lockKey;
        }

        /** Whether this ticket was at the head as soon as it joined (nobody waited ahead of it). */
        boolean wasHeadAtOnce() {
            return headAtOnce;
        }

        /** Records the lease this ticket's acquire got, for the next ticket in line. */
        void acquired(DefaultLease lease) {
            acquired = lease;
        }

        /**
         * The lease of the head before this ticket when that head left the line holding the lock, else {@code null}.
         * Set before this ticket's turn comes.
         */
        DefaultLease handedOverBy() {
            return handedOverBy;
        }

        /** Completes when it is this ticket's turn, or with {@code false} if {@code maxWaitNanos} passes first. */
        Mono<Boolean> turn(long maxWaitNanos) {
            if (turn.isDone()) {
                return Mono.just(true);
            }
            return Mono.fromFuture(turn, true)
                    .thenReturn(true)
                    .timeout(Duration.ofNanos(Math.max(0, maxWaitNanos)), Mono.just(false), scheduler);
        }

        /** Leaves the line; if this was the head, the next ticket's turn comes. */
        @Override
        public void close() {
            Ticket[] next = new Ticket[1];
            lines.computeIfPresent(lockKey, (k, line) -> {
                boolean wasHead = line.peekFirst() == this;
                line.remove(this);
                if (wasHead) {
                    next[0] = line.peekFirst();
                }
                return line.isEmpty() ? null : line;
            });
            if (next[0] != null) {
                next[0].handedOverBy = acquired;
                next[0].turn.complete(null);
            }
        }
    }
}
