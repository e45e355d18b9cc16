package dev.redlock;

import dev.redlock.fair.RedFairLock;
import java.time.Duration;
import java.util.Arrays;
import reactor.core.publisher.Mono;

/**
 * A child JVM for {@link FairLockProcessIT}: queues {@code waiters} fair-lock waiters on {@code name} (heartbeat
 * timeout 1 s) at the given nodes, prints {@code QUEUED}, and waits to be killed.
 *
 * <p>Arguments: name, waiters, node URIs.
 */
public final class FairWaiterChild {

    private FairWaiterChild() {}

    public static void main(String[] args) throws Exception {
        String name = args[0];
        int waiters = Integer.parseInt(args[1]);
        String[] uris = Arrays.copyOfRange(args, 2, args.length);
        ReactiveRedLock redlock = ReactiveRedLock.builder().nodes(uris).restartGuard(RestartGuard.RUN_ID)
                .connectTimeout(Duration.ofSeconds(10)) // a cold JVM on a busy machine
                .defaults(LockOptions.builder().maxWait(Duration.ofMinutes(1)).build())
                .build();
        redlock.connect().block(Duration.ofSeconds(10));
        RedFairLock lock = redlock.fairLock(name).withHeartbeatTimeout(Duration.ofSeconds(1));
        for (int i = 0; i < waiters; i++) {
            lock.withLockMono(lease -> Mono.delay(Duration.ofMinutes(1))).subscribe();
        }
        System.out.println("QUEUED");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
