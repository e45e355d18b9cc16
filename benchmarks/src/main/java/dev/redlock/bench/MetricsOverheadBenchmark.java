package dev.redlock.bench;

import dev.redlock.LockOptions;
import dev.redlock.metrics.LockMetricsRecorder;
import dev.redlock.micrometer.RedlockMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Locale;
import org.openjdk.jmh.annotations.Param;

/**
 * What the Micrometer binding costs on the uncontended cycle ({@link LockCyclesBenchmark}, the workload of
 * {@link UncontendedBenchmark} for this library): {@code inFlight} workers, each on its own key, acquire with
 * {@code acquire(key)} and release, again and again, on one {@code ReactiveRedLock} client with default options and
 * one of these recorders ({@code metrics}):
 *
 * <ul>
 *   <li>{@code off}: none (the builder's default, {@code LockMetricsRecorder.NOOP});
 *   <li>{@code micrometer}: {@code RedlockMetrics.builder(registry).build()} on a {@code PrometheusMeterRegistry}
 *       with the defaults of both (the wait and hold timers with percentile histograms, no Observations): what
 *       issue 14's goal is about, at most 5 % slower than {@code off};
 *   <li>{@code micrometerObserved}: the same plus {@code observationRegistry(...)}, an {@code ObservationRegistry}
 *       whose only handler is a {@code DefaultMeterObservationHandler} on the same registry, so every acquire is
 *       also an Observation (timed as {@code redlock.lock.acquire}; no tracing bridge). It costs one more parameter
 *       value, so it is measured beside the others, without a goal.
 * </ul>
 *
 * After each trial: the {@code COMMANDS metrics ...} line (the binding must not change what the nodes run), a line
 * {@code METRICS metrics=... acquired=N released=N observed=N scrapeBytes=N} with what the registry counted over the
 * whole trial (setup, warm-up and measurement), which fails the trial when a binding that is on recorded no acquire,
 * and {@code LEFTOVER metrics ...}.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar MetricsOverheadBenchmark -p nodes=5 -prof gc
 * java -jar benchmarks/target/benchmarks.jar MetricsOverheadBenchmark -p nodes=5 -p inFlight=16 -p metrics=micrometer,off
 * </pre>
 */
public class MetricsOverheadBenchmark extends LockCyclesBenchmark {

    /** The recorder on the client: {@code off}, {@code micrometer} or {@code micrometerObserved}. */
    @Param({"off", "micrometer", "micrometerObserved"})
    public String metrics;

    private PrometheusMeterRegistry registry;

    @Override
    Env start() {
        LockMetricsRecorder recorder = recorder();
        return Env.start(nodes, "redlock",
                uris -> new RedlockDriver(uris, LockOptions.defaults(), RedlockDriver.Kind.PLAIN, recorder));
    }

    private LockMetricsRecorder recorder() {
        switch (metrics) {
            case "off":
                return LockMetricsRecorder.NOOP;
            case "micrometer":
                registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
                return RedlockMetrics.builder(registry).build();
            case "micrometerObserved":
                registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
                ObservationRegistry observations = ObservationRegistry.create();
                observations.observationConfig().observationHandler(new DefaultMeterObservationHandler(registry));
                return RedlockMetrics.builder(registry).observationRegistry(observations).build();
            default:
                throw new IllegalArgumentException("unknown metrics '" + metrics
                        + "': use off, micrometer or micrometerObserved");
        }
    }

    @Override
    Slot[] slots() {
        return Slot.distinct("bench:mo", inFlight);
    }

    @Override
    String label() {
        return "metrics";
    }

    @Override
    String params() {
        return "metrics=" + metrics + " nodes=" + nodes + " inFlight=" + inFlight;
    }

    /** The {@code METRICS} line: proof that the binding was on (or off) during the trial. */
    @Override
    void trialEnded() {
        if (registry == null) {
            System.out.println("METRICS " + params() + " acquired=0 released=0 observed=0 scrapeBytes=0");
            return;
        }
        long acquired = count(registry, "redlock.acquire", "acquired");
        long released = count(registry, "redlock.held", null);
        long observed = count(registry, "redlock.lock.acquire", null);
        int scrapeBytes = registry.scrape().length();
        System.out.println(String.format(Locale.ROOT, "METRICS %s acquired=%d released=%d observed=%d scrapeBytes=%d",
                params(), acquired, released, observed, scrapeBytes));
        registry.close();
        if (acquired == 0 || metrics.equals("micrometerObserved") && observed == 0) {
            throw new IllegalStateException("the binding recorded nothing: " + params());
        }
    }

    /** The count of the timers named {@code name} (those with tag outcome={@code outcome} if not null), summed. */
    private static long count(MeterRegistry registry, String name, String outcome) {
        long sum = 0;
        for (Timer timer : (outcome == null ? registry.find(name) : registry.find(name).tag("outcome", outcome)).timers()) {
            sum += timer.count();
        }
        return sum;
    }
}
