package dev.redlock.internal.lease;

import dev.redlock.Lease;
import dev.redlock.internal.engine.Engine;
import dev.redlock.internal.node.NodeChannel;
import dev.redlock.internal.quorum.QuorumCall;
import dev.redlock.internal.script.LockScript;
import dev.redlock.internal.script.Script;
import io.lettuce.core.cluster.SlotHash;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.MonoSink;

/**
 * Sends the watchdogs' renewals in batches: the renewals requested within {@link #WINDOW} go out together, as one
 * {@link LockScript#EXTEND_BATCH} per node for up to {@link #MAX_BATCH} leases, instead of one script per lease and
 * node. With many held leases this is what keeps renewals from outgrowing what the nodes (and this client) can serve:
 * 10,000 leases renewed every second on 5 nodes are about 1,000 scripts a second instead of 50,000.
 *
 * <p>Each lease is decided on its own, from its bit in every node's reply, exactly as a single renewal would be
 * (quorum, deadline, key lost); the batch only shares the round trip, the send time T1 and the timeout (the smallest
 * any of its leases allows).
 */
public final class RenewalBatcher {

    /** Leases per script: the renewal mask is a Lua number, a double, exact to 2^53. */
    static final int MAX_BATCH = 48;
    /** How long a renewal may wait for others to join its batch; small against any renewal interval. */
    static final Duration WINDOW = Duration.ofMillis(2);

    /** One lease's renewal, waiting to be sent. */
    static final class Request {
        final DefaultLease lease;
        final Duration leaseTime;
        final MonoSink<Lease> sink;
        long sequence;

        Request(DefaultLease lease, Duration leaseTime, MonoSink<Lease> sink) {
            this.lease = lease;
            this.leaseTime = leaseTime;
            this.sink = sink;
        }
    }

    private final Engine owner;
    private final ConcurrentLinkedQueue<Request> queue = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean flushScheduled = new AtomicBoolean();

    public RenewalBatcher(Engine owner) {
        this.owner = owner;
    }

    /** Queues a renewal; it is sent within {@link #WINDOW}. */
    void submit(Request request) {
        queue.add(request);
        if (flushScheduled.compareAndSet(false, true)) {
            owner.scheduler().schedule(this::flush, WINDOW.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    /**
     * Sends what is queued, in batches of one batched-renewal script each (leases of different primitives do not
     * share a script), and of one hash slot each where a node needs that ({@link NodeChannel#slotStrict()}: a
     * cluster-mode node or a proxy in front of one refuses a script whose keys span slots with {@code CROSSSLOT}).
     * Lock keys carry their user key as a hash tag, so different locks rarely share a slot, and on such nodes most
     * batches hold one lease.
     */
    private void flush() {
        // Reset before draining: a request queued after the drain schedules the next flush itself.
        flushScheduled.set(false);
        boolean bySlot = owner.slotStrict();
        Map<Object, List<Request>> groups = new HashMap<>();
        Request r;
        while ((r = queue.poll()) != null) {
            Script script = r.lease.spec().batchRenewScript();
            Object group = bySlot ? List.of(script, SlotHash.getSlot(r.lease.batchKey())) : script;
            List<Request> batch = groups.computeIfAbsent(group, g -> new ArrayList<>());
            batch.add(r);
            if (batch.size() == MAX_BATCH) {
                send(batch);
                batch.clear();
            }
        }
        for (List<Request> batch : groups.values()) {
            if (!batch.isEmpty()) {
                send(batch);
            }
        }
    }

    private void send(List<Request> requests) {
        long t1 = owner.now();
        List<Request> batch = new ArrayList<>(requests.size());
        for (Request request : requests) {
            // a lease released, lost or past its deadline meanwhile is answered now, without a round trip
            request.sequence = request.lease.beginRenewal(t1, request.leaseTime, request.sink);
            if (request.sequence >= 0) {
                batch.add(request);
            }
        }
        int k = batch.size();
        if (k == 0) {
            return;
        }
        String[] keys = new String[k];
        String[] args = new String[2 * k];
        long timeout = Long.MAX_VALUE;
        for (int i = 0; i < k; i++) {
            Request request = batch.get(i);
            keys[i] = request.lease.batchKey();
            args[2 * i] = request.lease.token();
            args[2 * i + 1] = Long.toString(request.leaseTime.toMillis());
            timeout = Math.min(timeout, request.lease.renewalTimeoutNanos(t1));
        }
        long all = (1L << k) - 1; // k <= MAX_BATCH < 63
        new QuorumCall(
                        owner,
                        batch.get(0).lease.spec().batchRenewScript(),
                        batch.get(0).lease.spec().quorumRule(),
                        keys,
                        args,
                        Duration.ofNanos(timeout),
                        // a node counts as yes when it renewed every lease of the batch: the usual case decides at
                        // the quorum. Otherwise QuorumCall waits for every node (or the timeout) before its "no",
                        // so that a lease whose key is gone cannot fail the others' renewals
                        v -> v == all,
                        true,
                        false,
                        (call, yes, at) -> {
                            for (int i = 0; i < k; i++) {
                                long bit = 1L << i;
                                Request request = batch.get(i);
                                request.lease.renewalDecided(call, request.sequence, t1, request.leaseTime,
                                        call.countReplies(v -> (v & bit) != 0),
                                        call.countReplies(v -> (v & bit) == 0), at, request.sink);
                            }
                        })
                .start(null);
    }
}
