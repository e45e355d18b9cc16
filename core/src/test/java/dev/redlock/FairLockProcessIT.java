package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.redlock.fair.RedFairLock;
import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServers;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * Queue hygiene across processes: a client JVM with queued fair-lock waiters, killed with SIGKILL (no shutdown hook,
 * no leave), leaves entries at the head of every node's queue; they are pruned once their heartbeats lapse, the
 * waiters of this JVM behind them proceed, and no queue key is left after the run.
 */
class FairLockProcessIT {

    private static long queued(RedisServers servers) {
        return servers.list().stream().mapToLong(s -> s.admin().zcard("lock:{crash}:queue")).sum();
    }

    @Test
    void waitersOfAKilledClientArePrunedWithinTheirHeartbeatTimeoutAndTheOthersProceed(
            @RedisNodes(3) RedisServers servers) throws Exception {
        LockOptions options = LockOptions.builder().maxWait(Duration.ofSeconds(20)).build();
        try (ReactiveRedLock redlock = RedisFixtures.client(servers, options)) {
            RedFairLock lock = redlock.fairLock("crash").withHeartbeatTimeout(Duration.ofSeconds(1));
            Lease holder = lock.acquire().block(Duration.ofSeconds(5));

            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"),
                    FairWaiterChild.class.getName(), "crash", "4"));
            command.addAll(servers.uris());
            Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try {
                BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
                assertThat(out.readLine()).isEqualTo("QUEUED");
                await().atMost(Duration.ofSeconds(10)).until(() -> queued(servers) == 4L * servers.size());

                List<Long> grantedAt = new CopyOnWriteArrayList<>();
                for (int i = 0; i < 2; i++) {
                    lock.withLockMono(lease -> Mono.fromRunnable(() -> grantedAt.add(System.nanoTime()))).subscribe();
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> queued(servers) == 6L * servers.size());

                child.destroyForcibly(); // SIGKILL: its waiters never leave
                assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
                long killed = System.nanoTime();
                holder.release().block(Duration.ofSeconds(5));

                await().atMost(Duration.ofSeconds(10)).until(() -> grantedAt.size() == 2);
                long waitedMs = TimeUnit.NANOSECONDS.toMillis(grantedAt.get(0) - killed);
                // the dead entries lapse at most 1 s after their last heartbeat; the waiters behind them retry at the
                // latest every third of their own heartbeat timeout; and not before the dead entries lapsed (their
                // last heartbeat was at most a backoff, 250 ms, before the kill)
                assertThat(waitedMs).as("first grant after the kill (ms)").isBetween(500L, 1000L + 333 + 700);
                await().atMost(Duration.ofSeconds(3)).until(() -> servers.keys("lock:{crash}*").stream()
                        .allMatch(keys -> keys.stream().allMatch(k -> k.endsWith(":fence"))));
            } finally {
                child.destroyForcibly();
            }
        }
    }
}
