package dev.redlock.testkit;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Allows the short, bounded lock waits inside Netty's, Reactor's and Lettuce's own internals that their BlockHound
 * support does not cover yet, so BlockHound keeps guarding everything else (our code, user code) without false
 * positives.
 *
 * <ul>
 *   <li>Netty 4.2's adaptive buffer allocator: when several event loops allocate at once, a magazine takes a
 *       {@code StampedLock} write lock for a few instructions.
 *   <li>Lettuce's {@code SharedLock}, which guards each connection's write path: a writer takes a
 *       {@code ReentrantLock} for a few instructions, so an event-loop thread writing a command (for example a
 *       release sent from a reply callback) can briefly wait for another thread writing to the same connection.
 *   <li>Lettuce's {@code AbstractInvocationHandler$MethodTranslator.of}, a static cache behind a lock, reached when
 *       a connection's command proxies are built (a pub/sub connection opened from an event loop).
 *   <li>Reactor's periodic tasks ({@code Flux.interval}, such as a lease watchdog disposed when a body completes on
 *       an event loop): cancelling one removes it from the {@code ScheduledThreadPoolExecutor} queue under the
 *       queue's lock. Reactor allows exactly this for {@code SchedulerTask} and {@code WorkerTask}
 *       (reactor/reactor-core#3210), not yet for the periodic classes.
 * </ul>
 *
 * <p>Both are critical sections of a few instructions, not I/O. Reported as errors, they are thrown in the middle of
 * the driver's bookkeeping: Netty then stalls a handshake, and Lettuce leaves its writer count broken so every later
 * write to that connection spins forever. Loaded through {@link java.util.ServiceLoader} by BlockHound in any test
 * JVM that has this test kit on its class path; without BlockHound it is never loaded.
 *
 * @since 0.1.0
 */
public final class DriverLocksBlockHoundIntegration implements BlockHoundIntegration {

    @Override
    public void applyTo(BlockHound.Builder builder) {
        builder.allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$Magazine", "free");
        builder.allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$MagazineGroup", "free");
        builder.allowBlockingCallsInside("io.lettuce.core.protocol.SharedLock", "incrementWriters");
        builder.allowBlockingCallsInside("io.lettuce.core.protocol.SharedLock", "doExclusive");
        builder.allowBlockingCallsInside("io.lettuce.core.protocol.SharedLock", "lockWritersExclusive");
        builder.allowBlockingCallsInside("io.lettuce.core.internal.AbstractInvocationHandler$MethodTranslator", "of");
        builder.allowBlockingCallsInside("reactor.core.scheduler.PeriodicWorkerTask", "dispose");
        builder.allowBlockingCallsInside("reactor.core.scheduler.InstantPeriodicWorkerTask", "dispose");
        builder.allowBlockingCallsInside("reactor.core.scheduler.PeriodicSchedulerTask", "dispose");
    }
}
