package dev.redlock.internal.semaphore;

import dev.redlock.Lease;
import dev.redlock.LeaseLostException;
import dev.redlock.semaphore.PermitLease;
import java.time.Duration;
import java.time.Instant;
import java.util.OptionalLong;
import reactor.core.publisher.Mono;

/** {@link PermitLease}: the engine's lease of a {@link SemaphoreSpec} and its number of permits. */
final class Permits implements PermitLease {

    private final Lease lease;
    private final int permits;

    Permits(Lease lease, int permits) {
        this.lease = lease;
        this.permits = permits;
    }

    @Override
    public int permits() {
        return permits;
    }

    @Override
    public String key() {
        return lease.key();
    }

    @Override
    public String token() {
        return lease.token();
    }

    @Override
    public OptionalLong fencingToken() {
        return OptionalLong.empty();
    }

    @Override
    public Duration leaseTime() {
        return lease.leaseTime();
    }

    @Override
    public Instant deadline() {
        return lease.deadline();
    }

    @Override
    public Duration remaining() {
        return lease.remaining();
    }

    @Override
    public boolean isValid() {
        return lease.isValid();
    }

    @Override
    public int grantedNodes() {
        return lease.grantedNodes();
    }

    @Override
    public Mono<Lease> extend(Duration leaseTime) {
        return lease.extend(leaseTime).thenReturn(this);
    }

    @Override
    public Mono<Void> release() {
        return lease.release();
    }

    @Override
    public Mono<LeaseLostException> lost() {
        return lease.lost();
    }

    @Override
    public String toString() {
        return "PermitLease{" + key() + ", permits=" + permits + ", remaining=" + remaining() + "}";
    }
}
