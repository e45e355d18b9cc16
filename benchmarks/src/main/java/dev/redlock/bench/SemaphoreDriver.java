package dev.redlock.bench;

import dev.redlock.ReactiveRedLock;
import dev.redlock.RestartGuard;
import dev.redlock.semaphore.PermitLease;
import dev.redlock.semaphore.RedSemaphore;
import dev.redlock.testkit.RedisServer;
import dev.redlock.testkit.RedisServers;
import io.lettuce.core.api.sync.RedisCommands;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.redisson.Redisson;
import org.redisson.api.RPermitExpirableSemaphoreReactive;
import org.redisson.api.RSemaphoreReactive;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;
import reactor.core.publisher.Mono;

/**
 * One semaphore implementation as {@link SemaphoreBenchmark} drives it: one semaphore of {@code permits} permits
 * shared by all workers, created (and its permits declared) in setup; {@link #cycle()} acquires one permit and
 * releases it. The {@code impl} parameter names:
 *
 * <ul>
 *   <li>{@code redlock}: this library, {@code ReactiveRedLock.semaphore(name, permits)} with the default options
 *       (30 s lease), over all the trial's nodes (P slots, each a Redlock mutex, granted by a quorum);
 *   <li>{@code redisson-permit-expirable}: Redisson {@code RPermitExpirableSemaphore} (reactive API): permits with
 *       ids and a lease time (30 s), {@code trySetPermits} once, {@code acquire(30, SECONDS)} then
 *       {@code release(permitId)};
 *   <li>{@code redisson-semaphore}: Redisson {@code RSemaphore} (reactive API): a counter, {@code acquire()} then
 *       {@code release()}; no lease, a crashed holder's permit is lost for good.
 * </ul>
 *
 * Redisson has no multi-master semaphore: on N > 1 nodes its semaphores run on the first node only (one master).
 */
interface SemaphoreDriver extends AutoCloseable {

    String NAME = "bench:sem";

    /** One acquire of one permit, then its release. */
    Mono<Void> cycle();

    /**
     * Permits still held on the nodes after the trial's releases: 0 when every acquire was released. Blocking;
     * teardown only.
     */
    int heldPermits();

    @Override
    void close();

    static SemaphoreDriver start(String impl, RedisServers servers, int permits) {
        List<String> uris = servers.uris();
        switch (impl.toLowerCase(Locale.ROOT)) {
            case "redlock":
                return new RedlockSemaphore(servers, permits);
            case "redisson-permit-expirable":
                return new RedissonSemaphore(uris.get(0), permits, true);
            case "redisson-semaphore":
                return new RedissonSemaphore(uris.get(0), permits, false);
            default:
                throw new IllegalArgumentException("unknown semaphore impl '" + impl
                        + "': use redlock, redisson-permit-expirable or redisson-semaphore");
        }
    }

    /** This library: one client for all workers, one semaphore handle. */
    final class RedlockSemaphore implements SemaphoreDriver {
        private final ReactiveRedLock client;
        private final RedSemaphore semaphore;
        private final RedisServers servers;

        RedlockSemaphore(RedisServers servers, int permits) {
            this.servers = servers;
            this.client = ReactiveRedLock.builder()
                    .nodes(servers.uris().toArray(String[]::new))
                    // every trial starts its own nodes: no lease can exist that they could have forgotten
                    .restartGuard(RestartGuard.RUN_ID)
                    .build();
            client.connect().block(Duration.ofSeconds(10));
            this.semaphore = client.semaphore(NAME, permits);
        }

        @Override
        public Mono<Void> cycle() {
            return semaphore.acquire(1).flatMap(PermitLease::release);
        }

        /** Slot fields ({@code s<i>}) and lease fields ({@code t:<token>}) left in the semaphore's hash, all nodes. */
        @Override
        public int heldPermits() {
            int held = 0;
            for (RedisServer server : servers) {
                RedisCommands<String, String> node = server.admin();
                for (String key : node.keys("*" + NAME + "*")) {
                    for (String field : node.hkeys(key)) {
                        if (field.startsWith("t:") || (field.length() > 1 && field.charAt(0) == 's'
                                && Character.isDigit(field.charAt(1)))) {
                            held++;
                        }
                    }
                }
            }
            return held;
        }

        @Override
        public void close() {
            client.close();
        }
    }

    /**
     * Redisson on one node, with its defaults except the Netty event-loop group of {@code max(2, cores)} threads
     * (as Lettuce's default {@code ClientResources}, and as {@link RedissonDriver}).
     */
    final class RedissonSemaphore implements SemaphoreDriver {
        static final long LEASE_SECONDS = 30;

        private final EventLoopGroup eventLoops;
        private final RedissonClient client;
        private final int permits;
        private final RPermitExpirableSemaphoreReactive expirable;
        private final RSemaphoreReactive plain;

        RedissonSemaphore(String uri, int permits, boolean permitExpirable) {
            this.permits = permits;
            this.eventLoops = new MultiThreadIoEventLoopGroup(
                    Math.max(2, Runtime.getRuntime().availableProcessors()), NioIoHandler.newFactory());
            Config config = new Config();
            config.setEventLoopGroup(eventLoops);
            config.useSingleServer().setAddress(uri);
            this.client = Redisson.create(config);
            if (permitExpirable) {
                this.expirable = client.reactive().getPermitExpirableSemaphore(NAME);
                this.plain = null;
                expirable.trySetPermits(permits).block(Duration.ofSeconds(10));
            } else {
                this.expirable = null;
                this.plain = client.reactive().getSemaphore(NAME);
                plain.trySetPermits(permits).block(Duration.ofSeconds(10));
            }
        }

        @Override
        public Mono<Void> cycle() {
            if (expirable != null) {
                RPermitExpirableSemaphoreReactive s = expirable;
                return s.acquire(LEASE_SECONDS, TimeUnit.SECONDS).flatMap(s::release);
            }
            RSemaphoreReactive s = plain;
            return s.acquire().then(Mono.defer(s::release));
        }

        /** P minus the permits Redisson counts as available. */
        @Override
        public int heldPermits() {
            Integer available = (expirable != null ? expirable.availablePermits() : plain.availablePermits())
                    .block(Duration.ofSeconds(10));
            return permits - (available == null ? 0 : available);
        }

        @Override
        public void close() {
            client.shutdown();
            eventLoops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
