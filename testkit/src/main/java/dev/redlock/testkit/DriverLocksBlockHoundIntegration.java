package dev.redlock.testkit;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Allows the short, bounded lock waits inside Netty's and Lettuce's own internals that their BlockHound support does
 * not cover yet, so BlockHound keeps guarding everything else (our code, user code) without false positives.
 *
 * <ul>
 *   <li>Netty 4.2's adaptive buffer allocator: when several event loops allocate at once, a magazine takes a
 *       {@code StampedLock} write lock for a few instructions.
 *   <li>Lettuce's {@code SharedLock}, which guards each connection's write path: a writer takes a
 *       {@code ReentrantLock} for a few instructions, so an event-loop thread writing a command (for example a
 *       release sent from a reply callback) can briefly wait for another thread writing to the same connection.
 * </ul>
 *
 * <p>Both are critical sections of a few instructions, not I/O. Reported as errors, they are thrown in the middle of
 * the driver's bookkeeping: Netty then stalls a handshake, and Lettuce leaves its writer count broken so every later
 * write to that connection spins forever. Loaded through {@link java.util.ServiceLoader} by BlockHound in any test
 * JVM that has this test kit on its class path; without BlockHound it is never loaded.
 */
public final class DriverLocksBlockHoundIntegration implements BlockHoundIntegration {

    @Override
    public void applyTo(BlockHound.Builder builder) {
        builder.allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$Magazine", "free");
        builder.allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$MagazineGroup", "free");
        builder.allowBlockingCallsInside("io.lettuce.core.protocol.SharedLock", "incrementWriters");
        builder.allowBlockingCallsInside("io.lettuce.core.protocol.SharedLock", "doExclusive");
        builder.allowBlockingCallsInside("io.lettuce.core.protocol.SharedLock", "lockWritersExclusive");
    }
}
