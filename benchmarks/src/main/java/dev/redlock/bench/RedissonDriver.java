package dev.redlock.bench;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.redisson.Redisson;
import org.redisson.api.RLock;
import org.redisson.api.RLockReactive;
import org.redisson.api.RReadWriteLockReactive;
import org.redisson.api.RedissonClient;
import org.redisson.api.RedissonReactiveClient;
import org.redisson.config.Config;
import reactor.core.publisher.Mono;

/**
 * Redisson, the peer most users compare with. One Redisson client per node (as RedLock/MultiLock require), all with
 * Redisson's defaults except that they share one Netty event-loop group of as many threads as Lettuce's default
 * {@code ClientResources} uses ({@code max(2, cores)}), so neither side gets more I/O threads on the same machine.
 * Locks are taken with an explicit lease time of 30 s (so Redisson runs no watchdog, like the engine's bare
 * {@code acquire}) and an explicit owner id per worker ("thread id"). Lock objects are created in setup.
 */
final class RedissonDriver implements LockDriver {

    /** Which Redisson lock. */
    enum Kind {
        /** {@code RLockReactive} on one node. */
        PLAIN,
        /** {@code RedissonRedLock} over all nodes (a quorum), through {@code RedissonReactiveClient.getRedLock}. */
        RED_LOCK,
        /** {@code RedissonMultiLock} over all nodes (all of them), through {@code getMultiLock}. */
        MULTI_LOCK,
        /** {@code RFairLock} ({@code getFairLock}) on one node: Redisson has no multi-node fair lock. */
        FAIR,
        /**
         * The read side of {@code RReadWriteLock} ({@code getReadWriteLock(key).readLock()}) on one node: Redisson
         * has no multi-node read-write lock.
         */
        READ,
        /** The write side of {@code RReadWriteLock} on one node. */
        WRITE,
        /**
         * {@code RedissonMultiLock} over one {@code RLock} per key of the slot ({@link Slot#multi}) on each of the
         * driver's nodes (all of them must grant): on one node, Redisson's multi-key lock; on N, every key on every
         * node.
         */
        MULTI_KEYS
    }

    static final long LEASE_SECONDS = 30;

    private final Kind kind;
    private final EventLoopGroup eventLoops;
    private final RedissonClient[] clients;
    private final RedissonReactiveClient reactive;

    RedissonDriver(List<String> uris, Kind kind) {
        if (kind != Kind.RED_LOCK && kind != Kind.MULTI_LOCK && kind != Kind.MULTI_KEYS && uris.size() != 1) {
            throw new IllegalArgumentException("a " + kind + " Redisson lock uses one node, got " + uris.size());
        }
        this.kind = kind;
        this.eventLoops = new MultiThreadIoEventLoopGroup(
                Math.max(2, Runtime.getRuntime().availableProcessors()), NioIoHandler.newFactory());
        this.clients = new RedissonClient[uris.size()];
        for (int i = 0; i < clients.length; i++) {
            Config config = new Config();
            config.setEventLoopGroup(eventLoops);
            config.useSingleServer().setAddress(uris.get(i));
            clients[i] = Redisson.create(config);
        }
        this.reactive = clients[0].reactive();
    }

    /** Redisson marks RedLock (and the RLock-array factories) deprecated; it is still the Redlock it ships. */
    @Override
    @SuppressWarnings("deprecation")
    public void prepare(Slot slot) {
        if (kind == Kind.PLAIN) {
            slot.handle = reactive.getLock(slot.key);
            return;
        }
        if (kind == Kind.FAIR) {
            slot.handle = reactive.getFairLock(slot.key);
            return;
        }
        if (kind == Kind.READ || kind == Kind.WRITE) {
            RReadWriteLockReactive rw = reactive.getReadWriteLock(slot.key);
            slot.handle = kind == Kind.READ ? rw.readLock() : rw.writeLock();
            return;
        }
        String[] keys = kind == Kind.MULTI_KEYS ? slot.keys : new String[] {slot.key};
        RLock[] locks = new RLock[keys.length * clients.length];
        for (int k = 0; k < keys.length; k++) {
            for (int i = 0; i < clients.length; i++) {
                locks[k * clients.length + i] = clients[i].getLock(keys[k]);
            }
        }
        slot.handle = kind == Kind.RED_LOCK ? reactive.getRedLock(locks) : reactive.getMultiLock(locks);
    }

    @Override
    public Mono<Object> acquire(Slot slot) {
        RLockReactive lock = (RLockReactive) slot.handle;
        return lock.lock(LEASE_SECONDS, TimeUnit.SECONDS, slot.ownerId).thenReturn(slot);
    }

    @Override
    public Mono<Void> release(Object held) {
        Slot slot = (Slot) held;
        return ((RLockReactive) slot.handle).unlock(slot.ownerId);
    }

    @Override
    public Mono<Void> cycle(Slot slot) {
        RLockReactive lock = (RLockReactive) slot.handle;
        return lock.lock(LEASE_SECONDS, TimeUnit.SECONDS, slot.ownerId).then(Mono.defer(() -> lock.unlock(slot.ownerId)));
    }

    @Override
    public void close() {
        for (RedissonClient client : clients) {
            client.shutdown();
        }
        eventLoops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
