package dev.redlock.testkit;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Allows the brief lock waits inside Netty 4.2's adaptive buffer allocator, which Netty's own BlockHound
 * integration does not yet cover.
 *
 * <p>When several event loops allocate at once (typically the first connections of a JVM), the allocator's magazines
 * take a {@code StampedLock} write lock for a few instructions. BlockHound reports that park as blocking, the error
 * is swallowed inside Netty, and the connection handshake stalls until it times out: a false positive that would
 * otherwise make tests flaky. Loaded through {@link java.util.ServiceLoader} by BlockHound in any test JVM that has
 * this test kit on its class path; without BlockHound it is never loaded.
 */
public final class NettyAllocatorBlockHoundIntegration implements BlockHoundIntegration {

    @Override
    public void applyTo(BlockHound.Builder builder) {
        builder.allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$Magazine", "free");
        builder.allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$MagazineGroup", "free");
    }
}
