package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.fair.RedFairLock;
import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Starvation-freedom across clients (issue 12): 3 clients × 8 workers loop on one fair lock, and the same workload on
 * one plain lock beside it, for 30 s on 5 nodes (10 s on 1 node): about 5,000 fair acquisitions, each checked. Every fair acquire must be served within its place
 * in the queue: waited ≤ (waiters ahead of it when it arrived + 1) × (the longest hold + a hand-off allowance) + a
 * fixed slack. The plain lock promises no order: its longest wait is reported next to the fair lock's, not asserted.
 */
class FairLockStarvationIT {

    private static final int CLIENTS = 3;
    private static final int WORKERS = 8;
    /** What each hand-off may add to a wait: the release, the wake-up, a split-vote retry on a busy CI machine. */
    private static final long HANDOFF_ALLOWANCE_MS = 60;
    /** Once per acquire: a first attempt that finds the queue empty on some nodes and busy on others, a GC pause. */
    private static final long SLACK_MS = 1000;

    /** The outcome of one workload. */
    private static final class Stats {
        final AtomicInteger waiting = new AtomicInteger();
        final AtomicLong acquisitions = new AtomicLong();
        final AtomicLong longestWaitNanos = new AtomicLong();
        final AtomicLong longestHoldNanos = new AtomicLong();
        final long[] perClient = new long[CLIENTS];
        /** Acquires whose wait exceeded the bound, with the figures that did. */
        final List<String> overBound = java.util.Collections.synchronizedList(new ArrayList<>());
        final List<long[]> waits = java.util.Collections.synchronizedList(new ArrayList<>());

        String summary(String label) {
            long total = acquisitions.get();
            StringBuilder shares = new StringBuilder();
            for (long c : perClient) {
                shares.append(shares.length() == 0 ? "" : "/").append(total == 0 ? 0 : Math.round(100.0 * c / total));
            }
            return label + ": acquisitions=" + total + " shares(%)=" + shares + " longest wait="
                    + TimeUnit.NANOSECONDS.toMillis(longestWaitNanos.get()) + " ms longest hold="
                    + TimeUnit.NANOSECONDS.toMillis(longestHoldNanos.get()) + " ms";
        }
    }

    /** One worker's loop: arrive (counting who waits ahead), acquire, hold 1–5 ms, release; until {@code end}. */
    private static Flux<Object> worker(Function<Mono<Object>, Mono<Object>> withLock, Stats stats, int client,
            long endNanos) {
        return Mono.defer(() -> {
                    long arrived = System.nanoTime();
                    int ahead = stats.waiting.getAndIncrement();
                    AtomicLong granted = new AtomicLong();
                    Mono<Object> hold = Mono.defer(() -> {
                        granted.set(System.nanoTime());
                        stats.waiting.decrementAndGet();
                        return Mono.delay(Duration.ofMillis(ThreadLocalRandom.current().nextLong(1, 6)));
                    }).cast(Object.class);
                    return withLock.apply(hold).doOnSuccess(v -> {
                        long now = System.nanoTime();
                        long waited = granted.get() - arrived;
                        stats.waits.add(new long[] {waited, ahead});
                        stats.longestWaitNanos.accumulateAndGet(waited, Math::max);
                        stats.longestHoldNanos.accumulateAndGet(now - granted.get(), Math::max);
                        stats.acquisitions.incrementAndGet();
                        synchronized (stats.perClient) {
                            stats.perClient[client]++;
                        }
                    });
                })
                .repeat(() -> System.nanoTime() < endNanos);
    }

    private static void run(RedisServers servers, Duration duration) {
        LockOptions options = LockOptions.builder().leaseTime(Duration.ofSeconds(5)).maxWait(Duration.ofSeconds(60)).build();
        List<ReactiveRedLock> clients = new ArrayList<>();
        Stats fair = new Stats();
        Stats plain = new Stats();
        try {
            for (int c = 0; c < CLIENTS; c++) {
                ReactiveRedLock client = RedisFixtures.client(servers, options);
                client.connect().block(Duration.ofSeconds(5));
                clients.add(client);
            }
            long end = System.nanoTime() + duration.toNanos();
            List<Flux<Object>> loops = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                RedFairLock fairLock = clients.get(c).fairLock("starve-fair");
                ReactiveRedLock client = clients.get(c);
                for (int w = 0; w < WORKERS; w++) {
                    loops.add(worker(hold -> fairLock.withLockMono(lease -> hold), fair, c, end));
                    loops.add(worker(hold -> client.withLock("starve-plain", hold), plain, c, end));
                }
            }
            Flux.merge(loops).blockLast(duration.plusSeconds(90));
        } finally {
            clients.forEach(ReactiveRedLock::close);
        }
        long longestHoldMs = TimeUnit.NANOSECONDS.toMillis(fair.longestHoldNanos.get());
        for (long[] w : fair.waits) {
            long bound = (w[1] + 1) * (longestHoldMs + HANDOFF_ALLOWANCE_MS) + SLACK_MS;
            if (TimeUnit.NANOSECONDS.toMillis(w[0]) > bound) {
                fair.overBound.add("waited " + TimeUnit.NANOSECONDS.toMillis(w[0]) + " ms with " + w[1] + " ahead (bound "
                        + bound + " ms)");
            }
        }
        String report = servers.size() + " nodes, " + duration.toSeconds() + " s, " + CLIENTS + " clients x " + WORKERS
                + " workers: " + fair.summary("fair lock") + "; " + plain.summary("plain lock");
        System.out.println("starvation " + report);
        assertThat(fair.acquisitions.get()).as(report).isGreaterThan(100);
        assertThat(fair.overBound).as(report).isEmpty();
        for (long perClient : fair.perClient) {
            assertThat(perClient).as("every client is served: " + report).isPositive();
        }
    }

    @Test
    void everyFairWaiterIsServedWithinItsPlaceOnFiveNodes(@RedisNodes(5) RedisServers servers) {
        run(servers, Duration.ofSeconds(30));
    }

    @Test
    void everyFairWaiterIsServedWithinItsPlaceOnOneNode(@RedisNodes(1) RedisServers servers) {
        run(servers, Duration.ofSeconds(10));
    }
}
