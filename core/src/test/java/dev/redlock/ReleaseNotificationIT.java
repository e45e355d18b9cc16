package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.internal.event.EventBus;
import dev.redlock.internal.node.HoldOutTime;
import dev.redlock.internal.node.LettuceNode;
import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServers;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Schedulers;

/** Release-notification subscriptions on a real node. */
class ReleaseNotificationIT {

    private static final int ROUNDS = 5_000;

    /**
     * A channel torn down on one thread while it is subscribed again on another (what a waiter arriving just as the
     * channel's linger ends does) must end subscribed on the node: an UNSUBSCRIBE that overtakes the SUBSCRIBE on
     * the connection would leave the waiter listening to nothing, waking only on its backoff.
     */
    @Test
    void aResubscribeRacingTheTeardownEndsSubscribed(@RedisNodes(1) RedisServers servers) throws Exception {
        ClientResources resources = DefaultClientResources.create();
        ExecutorService threads = Executors.newFixedThreadPool(2);
        LettuceNode node = new LettuceNode(RedisNode.of(servers.get(0).uri()), resources, Schedulers.parallel(),
                RestartGuard.OFF, new HoldOutTime(Duration.ofSeconds(1)), "lock:", Duration.ofSeconds(1), null, new EventBus(Schedulers.parallel(), Schedulers.boundedElastic()));
        try {
            Runnable previous = new Handler();
            node.subscribe("ch", previous).toCompletableFuture().get(5, TimeUnit.SECONDS);
            CyclicBarrier start = new CyclicBarrier(2);
            for (int round = 0; round < ROUNDS; round++) {
                Runnable old = previous;
                Runnable fresh = new Handler(); // one per channel generation, as each release channel has its own
                CompletableFuture<Void> teardown = CompletableFuture.runAsync(() -> {
                    awaitQuietly(start);
                    node.unsubscribe("ch", old);
                }, threads);
                CompletableFuture<Void> resubscribe = CompletableFuture.supplyAsync(() -> {
                    awaitQuietly(start);
                    return node.subscribe("ch", fresh);
                }, threads).thenCompose(stage -> stage);
                teardown.get(5, TimeUnit.SECONDS);
                resubscribe.get(5, TimeUnit.SECONDS);
                previous = fresh;
                // a SUBSCRIBE written after both racing commands: once it is confirmed, the node has run them
                Runnable marker = new Handler();
                node.subscribe("marker", marker).toCompletableFuture().get(5, TimeUnit.SECONDS);
                node.unsubscribe("marker", marker);
                assertThat(servers.get(0).admin().publish("ch", "x")).as("receivers after round %d", round).isEqualTo(1);
            }
        } finally {
            node.closeAsync().toCompletableFuture().get(5, TimeUnit.SECONDS);
            threads.shutdownNow();
            resources.shutdown(0, 1, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS);
        }
    }

    /** A distinct handler object (a non-capturing lambda would be one shared instance). */
    private static final class Handler implements Runnable {
        @Override
        public void run() {}
    }

    private static void awaitQuietly(CyclicBarrier barrier) {
        try {
            barrier.await(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
