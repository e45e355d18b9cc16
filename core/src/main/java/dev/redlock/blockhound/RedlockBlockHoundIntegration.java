package dev.redlock.blockhound;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Lets applications that run BlockHound use this library without false positives: it allows the short, bounded
 * lock waits inside the libraries the lock engine drives from non-blocking threads, which their own BlockHound
 * support does not cover yet. Everything else (the engine's code, the application's) stays guarded.
 *
 * <ul>
 *   <li>resilience4j: a node's circuit breaker moving from open to half-open takes a {@code ReentrantLock} for the
 *       transition (called when an acquire asks the breaker for permission).
 *   <li>Lettuce: allocating the shared event-loop group when the first connection of a client opens (connections
 *       open lazily, from whatever thread first needs them); the per-connection write lock ({@code SharedLock}); the
 *       command-proxy cache built with a new connection.
 *   <li>Lettuce, on close: a client shut down once its connections are closed (on the event loop that completed the
 *       close) gives its event loops back to the client's {@code DefaultEventLoopGroupProvider}, whose reference
 *       counts a {@code ReentrantLock} health for a few instructions; the nodes' clients share one provider and
 *       release at the same moment, so that lock can be contended.
 *   <li>Netty's DNS resolver (nodes given by a host name that is not in the hosts file): on the event loop, each
 *       query draws its id from a {@code SecureRandom}, which reads {@code /dev/urandom}; that never blocks, and the
 *       JDK's generator reads it again every 100 ms, so seeding it once elsewhere would not help. Only the id draws
 *       are allowed.
 *   <li>Netty 4.2's adaptive buffer allocator: magazines take a {@code StampedLock} for a few instructions when
 *       event loops allocate at once.
 *   <li>TLS ({@code rediss://} nodes): Lettuce builds an {@code SSLContext} for every new connection while the
 *       channel is set up on its event loop, and the JDK seeds it from {@code /dev/urandom}, which does not block.
 *       Only that seeding is allowed: trust and key material given to Lettuce as files would be read there too,
 *       and stays reported (the client loads its default trust store once; see {@code RedLockBuilder.sslOptions}).
 *   <li>Reactor: cancelling a periodic task (the lease watchdog's {@code Flux.interval}) removes it from the
 *       scheduler's queue under the queue's lock; Reactor allows this for its other task types
 *       (reactor/reactor-core#3210).
 * </ul>
 *
 * <p>Not API: loaded by {@code BlockHound.install()} through {@link java.util.ServiceLoader}, and only when
 * BlockHound is on the class path (it is an optional dependency of this module).
 *
 * @since 0.1.0
 */
public final class RedlockBlockHoundIntegration implements BlockHoundIntegration {

    @Override
    public void applyTo(BlockHound.Builder builder) {
        builder.allowBlockingCallsInside(
                "io.github.resilience4j.circuitbreaker.internal.CircuitBreakerStateMachine$OpenState", "toHalfOpenState");
        builder.allowBlockingCallsInside("io.lettuce.core.resource.DefaultEventLoopGroupProvider", "allocate");
        builder.allowBlockingCallsInside("io.lettuce.core.protocol.SharedLock", "incrementWriters");
        builder.allowBlockingCallsInside("io.lettuce.core.protocol.SharedLock", "doExclusive");
        builder.allowBlockingCallsInside("io.lettuce.core.protocol.SharedLock", "lockWritersExclusive");
        builder.allowBlockingCallsInside("io.lettuce.core.internal.AbstractInvocationHandler$MethodTranslator", "of");
        // both DefaultEventLoopGroupProvider.release methods: the public one, and the private one that takes the lock
        builder.allowBlockingCallsInside("io.lettuce.core.resource.DefaultEventLoopGroupProvider", "release");
        builder.allowBlockingCallsInside("io.netty.resolver.dns.DnsQueryIdSpace", "nextId");
        builder.allowBlockingCallsInside("io.netty.resolver.dns.DnsQueryIdSpace$DnsQueryIdRange", "pushId");
        builder.allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$Magazine", "free");
        builder.allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$MagazineGroup", "free");
        builder.allowBlockingCallsInside("sun.security.ssl.SSLContextImpl", "engineInit");
        builder.allowBlockingCallsInside("reactor.core.scheduler.PeriodicWorkerTask", "dispose");
        builder.allowBlockingCallsInside("reactor.core.scheduler.InstantPeriodicWorkerTask", "dispose");
        builder.allowBlockingCallsInside("reactor.core.scheduler.PeriodicSchedulerTask", "dispose");
    }
}
