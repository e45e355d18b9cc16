package dev.redlock.micrometer;

import dev.redlock.LeaseLostException;
import dev.redlock.metrics.LockMetricsRecorder.AcquireOutcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The meters of one group of locks. Meters of outcomes and reasons are registered on first use, so a group that
 * never times out has no timed_out series.
 */
final class GroupMeters {

    final String name;
    private final MeterRegistry registry;
    private final boolean percentileHistogram;
    private final Duration[] slos;
    private final AtomicReferenceArray<Timer> acquires = new AtomicReferenceArray<>(AcquireOutcome.values().length);
    private final AtomicReferenceArray<Counter> lost =
            new AtomicReferenceArray<>(LeaseLostException.Reason.values().length);
    private final Timer heldConfirmed;
    private final Timer heldUnconfirmed;
    private final Timer validity;
    private final Counter renewed;
    private final Counter renewalFailed;
    private final AtomicLong active = new AtomicLong();
    private final AtomicLong permits = new AtomicLong();
    private final AtomicLong leaseTimeMillis = new AtomicLong(-1);
    private volatile boolean permitsGauge;
    private volatile boolean leaseTimeGauge;
    private volatile Counter allowed;
    private volatile Counter rejected;

    GroupMeters(MeterRegistry registry, String name, boolean percentileHistogram, Duration[] slos) {
        this.registry = registry;
        this.name = name;
        this.percentileHistogram = percentileHistogram;
        this.slos = slos;
        this.heldConfirmed = distribution(Timer.builder("redlock.held")
                .description("How long leases were held, from the grant to the release")
                .tags("lock.group", name, "release", "confirmed"));
        this.heldUnconfirmed = distribution(Timer.builder("redlock.held")
                .description("How long leases were held, from the grant to the release")
                .tags("lock.group", name, "release", "unconfirmed"));
        this.validity = Timer.builder("redlock.lease.validity")
                .description("Validity left at each grant: the lease time minus the quorum's time and the drift")
                .tags("lock.group", name)
                .register(registry);
        this.renewed = renewals("ok");
        this.renewalFailed = renewals("failed");
        Gauge.builder("redlock.leases.active", active, AtomicLong::get)
                .description("Leases this client holds now")
                .tags("lock.group", name)
                .strongReference(true)
                .register(registry);
    }

    private Counter renewals(String result) {
        return Counter.builder("redlock.renewals")
                .description("Lease renewals by result")
                .tags("lock.group", name, "result", result)
                .register(registry);
    }

    private Timer distribution(Timer.Builder builder) {
        if (percentileHistogram) {
            builder.publishPercentileHistogram();
        }
        if (slos.length > 0) {
            builder.serviceLevelObjectives(slos);
        }
        return builder.register(registry);
    }

    void acquireEnded(AcquireOutcome outcome, Duration waited) {
        int i = outcome.ordinal();
        Timer timer = acquires.get(i);
        if (timer == null) {
            // registering twice returns the same meter: a race only costs a lookup
            timer = distribution(Timer.builder("redlock.acquire")
                    .description("How long acquires waited, by how they ended")
                    .tags("lock.group", name, "outcome", outcome.name().toLowerCase(Locale.ROOT)));
            acquires.set(i, timer);
        }
        timer.record(waited.toNanos(), TimeUnit.NANOSECONDS);
    }

    void leaseAcquired(Duration validityLeft) {
        active.incrementAndGet();
        validity.record(validityLeft.toNanos(), TimeUnit.NANOSECONDS);
    }

    void released(Duration held, boolean confirmed) {
        active.decrementAndGet();
        (confirmed ? heldConfirmed : heldUnconfirmed).record(held.toNanos(), TimeUnit.NANOSECONDS);
    }

    void lost(LeaseLostException.Reason reason) {
        active.decrementAndGet();
        int i = reason.ordinal();
        Counter counter = lost.get(i);
        if (counter == null) {
            counter = Counter.builder("redlock.leases.lost")
                    .description("Leases lost, by reason")
                    .tags("lock.group", name, "reason", reason.name().toLowerCase(Locale.ROOT))
                    .register(registry);
            lost.set(i, counter);
        }
        counter.increment();
    }

    void renewed(boolean ok) {
        (ok ? renewed : renewalFailed).increment();
    }

    void leaseTime(Duration leaseTime) {
        leaseTimeMillis.set(leaseTime.toMillis());
        if (!leaseTimeGauge) {
            Gauge.builder("redlock.lease.time", leaseTimeMillis, v -> v.get() / 1000.0)
                    .description("The adaptive lease time acquires of the group use now")
                    .tags("lock.group", name)
                    .baseUnit("seconds")
                    .strongReference(true)
                    .register(registry);
            leaseTimeGauge = true;
        }
    }

    void permits(int delta) {
        permits.addAndGet(delta);
        if (!permitsGauge) {
            Gauge.builder("redlock.semaphore.permits.held", permits, AtomicLong::get)
                    .description("Semaphore permits this client holds")
                    .tags("lock.group", name)
                    .strongReference(true)
                    .register(registry);
            permitsGauge = true;
        }
    }

    void decided(boolean ok) {
        Counter counter = ok ? allowed : rejected;
        if (counter == null) {
            counter = Counter.builder("redlock.ratelimit.decisions")
                    .description("Rate-limiter decisions")
                    .tags("lock.group", name, "decision", ok ? "allowed" : "rejected")
                    .register(registry);
            if (ok) {
                allowed = counter;
            } else {
                rejected = counter;
            }
        }
        counter.increment();
    }
}
