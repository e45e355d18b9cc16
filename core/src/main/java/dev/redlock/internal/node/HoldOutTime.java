package dev.redlock.internal.node;

import dev.redlock.internal.script.LockScript;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How long the restart guard holds out a node that may have forgotten its keys: the longest lease time any client
 * of this key space may take, not just this client's.
 *
 * <p>A client configured with a 10 s {@code maxLeaseTime} would otherwise count a restarted node again after 10 s
 * while another client's 60 s lease, which that node may have granted and forgotten, is still valid. So every
 * client records its maximum lease time on each node it connects to, in the key {@code <prefix>max-lease-ms}
 * (raised, never lowered, by {@link LockScript#MAX_LEASE}), and holds nodes out for the largest value it has seen
 * on any node. The documented rule stays: give every client of a key space the same {@code maxLeaseTime}; the
 * record is how a client that was given a shorter one finds out (it logs a warning) and stays safe anyway.
 */
public final class HoldOutTime {

    private static final Logger log = LoggerFactory.getLogger(HoldOutTime.class);

    private final long ownNanos;
    private final AtomicLong nanos;

    public HoldOutTime(Duration maxLeaseTime) {
        this.ownNanos = maxLeaseTime.toNanos();
        this.nanos = new AtomicLong(ownNanos);
    }

    /** The hold-out now, in nanoseconds. */
    public long nanos() {
        return nanos.get();
    }

    /** This client's own maximum lease time, in milliseconds (what it records on the nodes). */
    long ownMillis() {
        return TimeUnit.NANOSECONDS.toMillis(ownNanos);
    }

    /** A node's record says some client of this key space takes leases of up to {@code recordedMillis}. */
    void observe(long recordedMillis, String node) {
        long recorded = TimeUnit.MILLISECONDS.toNanos(recordedMillis);
        long current = nanos.get();
        while (recorded > current) {
            if (nanos.compareAndSet(current, recorded)) {
                log.warn("node {} records a maximum lease time of {} ms for this key space, longer than this client's "
                        + "maxLeaseTime ({} ms): the restart guard holds restarted nodes out for {} ms. Give every "
                        + "client of a key space the same maxLeaseTime.", node, recordedMillis, ownMillis(),
                        recordedMillis);
                return;
            }
            current = nanos.get();
        }
    }
}
