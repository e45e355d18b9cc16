package dev.redlock.internal.lease;

import dev.redlock.LockOptions;
import dev.redlock.QuorumUnavailableException;
import dev.redlock.internal.engine.Engine;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;

/**
 * Keeps one lease alive inside a {@code withLock} scope: renews it every renewal period (its lease time ×
 * {@link LockOptions#renewalRatio()}), retries a failed renewal quickly while the lease is still valid, and stops
 * renewing after the maximum hold time (the lease then ends at its deadline and is lost with
 * {@code MAX_HOLD_TIME_EXCEEDED}).
 *
 * <p>The period follows the lease's <em>current</em> lease time: after {@code extend(1 s)} on a 9 s lease the next
 * renewal is due a third of a second after the last one, and it renews for 1 s. With a fixed period taken from the
 * options the shortened lease would run out long before the next renewal.
 *
 * <p>Renewals go through the {@link RenewalBatcher}. One renewal at a time: the next is scheduled when the previous
 * one has been decided. Stops on {@link #dispose()} (the scope ended), or when the lease is no longer held.
 */
public final class Watchdog implements Disposable {

    private final DefaultLease lease;
    private final Scheduler scheduler;
    private final Engine owner;
    private final long retryDelayNanos;
    private final long holdLimitAt;
    private final AtomicBoolean disposed = new AtomicBoolean();
    private final AtomicReference<Disposable> pending = new AtomicReference<>();
    /** Scheduler time the next renewal is due; {@code Long.MIN_VALUE} while a renewal is in flight. */
    private volatile long dueAt;
    /** Scheduler time the last renewal was started (or the watchdog, before the first one). */
    private volatile long lastStart;

    Watchdog(DefaultLease lease, Engine owner) {
        this.lease = lease;
        this.owner = owner;
        this.scheduler = owner.scheduler();
        LockOptions options = lease.options();
        this.retryDelayNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(1),
                Math.min(periodNanos(lease.leaseTime()) / 4, options.nodeTimeout().toNanos()));
        long now = owner.now();
        this.holdLimitAt = options.maxHoldTime().map(max -> now + max.toNanos()).orElse(Long.MAX_VALUE);
        this.lastStart = now;
    }

    /** The renewal period for a lease time: lease time × renewal ratio, at least 1 ms. */
    private long periodNanos(Duration leaseTime) {
        return Math.max(TimeUnit.MILLISECONDS.toNanos(1), (long) (leaseTime.toNanos() * lease.options().renewalRatio()));
    }

    Watchdog start() {
        owner.watchdogCounter().incrementAndGet();
        long period = periodNanos(lease.leaseTime());
        // The first renewal comes at a random point of the last tenth of the period, so many leases taken together
        // (a burst of scopes) do not all renew in the same instant.
        long first = period - ThreadLocalRandom.current().nextLong(period / 10 + 1);
        scheduleAt(lastStart + first);
        return this;
    }

    /** The lease's lease time changed (an {@code extend}): a renewal due later than the new period allows comes now. */
    void leaseTimeChanged() {
        long due = dueAt;
        if (due == Long.MIN_VALUE || disposed.get()) {
            return; // a renewal is in flight; the next one is scheduled from the new lease time
        }
        long newDue = lastStart + periodNanos(lease.leaseTime());
        if (newDue - due < 0) {
            scheduleAt(newDue);
        }
    }

    private void scheduleAt(long at) {
        if (at - holdLimitAt >= 0) {
            // past the maximum hold time: no more renewals; the lease ends at its deadline
            lease.holdLimitReached();
            stop();
            return;
        }
        dueAt = at;
        long delay = Math.max(0, at - owner.now());
        Disposable task = scheduler.schedule(() -> tick(at), delay, TimeUnit.NANOSECONDS);
        Disposable previous = pending.getAndSet(task);
        if (previous != null) {
            previous.dispose();
        }
        if (disposed.get()) {
            task.dispose();
        }
    }

    private void tick(long scheduledFor) {
        if (disposed.get() || dueAt != scheduledFor) {
            return; // stopped, or superseded by an earlier reschedule
        }
        if (!lease.isHeld()) {
            stop();
            return;
        }
        dueAt = Long.MIN_VALUE;
        lastStart = owner.now();
        renew();
    }

    private void renew() {
        lease.renewInBatch(lease.leaseTime()).subscribe(
                renewed -> {
                    if (!disposed.get()) {
                        scheduleAt(lastStart + periodNanos(lease.leaseTime()));
                    }
                },
                error -> {
                    if (disposed.get()) {
                        return;
                    }
                    if (error instanceof QuorumUnavailableException && lease.isHeld()) {
                        // still valid: try again soon (the lease is lost at its deadline if no retry gets through)
                        scheduleAt(owner.now() + retryDelayNanos);
                    } else {
                        stop(); // lost or released: the loss was signalled by the lease itself
                    }
                });
    }

    private void stop() {
        if (disposed.compareAndSet(false, true)) {
            Disposable task = pending.getAndSet(null);
            if (task != null) {
                task.dispose();
            }
            owner.watchdogCounter().decrementAndGet();
        }
    }

    @Override
    public void dispose() {
        stop();
    }

    @Override
    public boolean isDisposed() {
        return disposed.get();
    }
}
