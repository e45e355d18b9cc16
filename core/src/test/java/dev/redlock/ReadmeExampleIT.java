package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.rw.RedReadWriteLock;
import dev.redlock.semaphore.PermitLease;
import dev.redlock.semaphore.RedSemaphore;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** The README's snippets (the quick start, semaphores, modes), verbatim, so they stay true. */
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

    @Test
    void modes() {
        String price;
        boolean tenantFree;
        try (RedisServers servers = RedisServers.start(3);
                ReactiveRedLock redlock = ReactiveRedLock.builder()
                        .nodes(servers.uris().toArray(String[]::new))
                        .restartGuard(RestartGuard.RUN_ID)
                        .build()) {

            RedReadWriteLock prices = redlock.readWriteLock("prices");            // many readers or one writer
            price = prices.withReadLockMono(lease -> Mono.just("9.99")).block();
            prices.withWriteLockMono(lease -> Mono.fromRunnable(() -> System.out.println("reloaded"))).block();

            RedLock order42 = redlock.hierarchicalLock("acme/orders/42").exclusive();   // IX on acme, acme/orders; X on 42
            RedLock order43 = redlock.hierarchicalLock("acme/orders/43").exclusive();   // runs beside order 42
            RedLock tenant = redlock.hierarchicalLock("acme").exclusive();              // excludes both
            Lease a = order42.tryAcquire().block(), b = order43.tryAcquire().block();   // both granted
            tenantFree = tenant.tryAcquire().blockOptional().isPresent();               // false
            a.release().then(b.release()).block();

            RedLock transfer = redlock.multiLock("account:7", "account:9");       // both plain locks, all or nothing
            transfer.withLockMono(lease -> Mono.fromRunnable(() -> System.out.println("moved"))).block();
        }
        assertThat(price).isEqualTo("9.99");
        assertThat(tenantFree).isFalse();
    }

    @Test
    void semaphore() {
        String quoted;
        Integer available;
        try (RedisServers servers = RedisServers.start(3);
                ReactiveRedLock redlock = ReactiveRedLock.builder()
                        .nodes(servers.uris().toArray(String[]::new))
                        .restartGuard(RestartGuard.RUN_ID)
                        .build()) {

            RedSemaphore partner = redlock.semaphore("partner-api", 10);          // P = 10, the same in every client

            Mono<String> quote = partner.withPermits(1, Mono.fromSupplier(() -> "quote from the partner"));
            quoted = quote.block(Duration.ofSeconds(5));                          // held 1 permit while it ran

            PermitLease batch = partner.acquire(4).block(Duration.ofSeconds(5));  // a lease of 4 permits
            available = partner.availablePermits().block();                       // 6
            batch.release().block();
        }
        assertThat(quoted).isEqualTo("quote from the partner");
        assertThat(available).isEqualTo(6);
    }
}
