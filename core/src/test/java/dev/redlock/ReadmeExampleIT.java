package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** The README's quick start, verbatim, so it stays true. */
class ReadmeExampleIT {

    @Test
    void quickStart() {
        String result;
        boolean locked;
        try (RedisServers servers = RedisServers.start(3);
                ReactiveRedLock redlock = ReactiveRedLock.builder()
                        .nodes(servers.uris().toArray(String[]::new))
                        .restartGuard(RestartGuard.RUN_ID)                  // nodes this program just started: see below
                        .build()) {

            Mono<String> charged = redlock.withLock("orders:42", Mono.fromSupplier(() -> "charged order 42"));
            result = charged.block(Duration.ofSeconds(5));

            Lease lease = redlock.acquire("jobs:nightly").block(Duration.ofSeconds(5));
            locked = redlock.isLocked("jobs:nightly").block();
            lease.release().block();
        }
        assertThat(result).isEqualTo("charged order 42");
        assertThat(locked).isTrue();
    }
}
