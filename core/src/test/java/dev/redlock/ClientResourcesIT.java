package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.testkit.RedisServers;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * Lettuce {@code ClientResources} the application hands in are shared, not owned: clients use its event loops, and
 * closing a client leaves them running for the application and its other clients.
 */
class ClientResourcesIT {

    @Test
    void closingAClientLeavesTheApplicationsResourcesToItsOtherUsers() throws Exception {
        ClientResources shared = DefaultClientResources.create();
        try (RedisServers servers = RedisServers.start(3)) {
            String[] uris = servers.uris().toArray(String[]::new);
            ReactiveRedLock first = ReactiveRedLock.builder().nodes(uris).restartGuard(RestartGuard.RUN_ID)
                    .clientResources(shared).build();
            ReactiveRedLock second = ReactiveRedLock.builder().nodes(uris).restartGuard(RestartGuard.RUN_ID)
                    .clientResources(shared).build();

            assertThat(first.withLock("shared:a", Mono.just("a")).block(Duration.ofSeconds(5)))
                    .isEqualTo("a");
            first.closeAsync().block(Duration.ofSeconds(10));

            assertThat(shared.eventExecutorGroup().isShuttingDown()).isFalse();
            // the second client still locks on the same event loops after the first one closed
            Lease lease = second.acquire("shared:b").block(Duration.ofSeconds(5));
            assertThat(second.isLocked("shared:b").block(Duration.ofSeconds(5))).isTrue();
            lease.release().block(Duration.ofSeconds(5));
            second.closeAsync().block(Duration.ofSeconds(10));
            assertThat(shared.eventExecutorGroup().isShuttingDown()).isFalse();
            // and a client built after both closed opens new connections on them
            try (ReactiveRedLock third = ReactiveRedLock.builder().nodes(uris).restartGuard(RestartGuard.RUN_ID)
                    .clientResources(shared).build()) {
                assertThat(third.withLock("shared:c", Mono.just("c")).block(Duration.ofSeconds(5))).isEqualTo("c");
            }
        } finally {
            shared.shutdown(0, 2, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
        }
    }
}
