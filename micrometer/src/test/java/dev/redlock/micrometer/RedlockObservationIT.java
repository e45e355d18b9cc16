package dev.redlock.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.Lease;
import dev.redlock.LockOptions;
import dev.redlock.ReactiveRedLock;
import dev.redlock.RedLock;
import dev.redlock.RestartGuard;
import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServers;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.tck.TestObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistryAssert;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** The acquire and hold Observations: started and stopped, children of the caller's Observation, ended on cancel. */
class RedlockObservationIT {

    /** Where Reactor's Micrometer.observation finds the parent Observation: ObservationThreadLocalAccessor.KEY. */
    private static final String OBSERVATION_KEY = "micrometer.observation";

    private static ReactiveRedLock client(RedisServers servers, TestObservationRegistry observations) {
        RedlockMetrics metrics = RedlockMetrics.builder(new SimpleMeterRegistry())
                .groupBy(name -> name.substring(0, name.indexOf(':')))
                .observationRegistry(observations)
                .build();
        return ReactiveRedLock.builder()
                .nodes(servers.uris().toArray(String[]::new))
                .restartGuard(RestartGuard.RUN_ID)
                .metricsRecorder(metrics)
                .defaults(LockOptions.builder().maxWait(Duration.ofSeconds(5)).nodeTimeout(Duration.ofSeconds(1)).build())
                .build();
    }

    @Test
    void acquireAndHoldAreChildObservationsOfTheRequest(@RedisNodes(3) RedisServers servers) {
        TestObservationRegistry observations = TestObservationRegistry.create();
        Observation request;
        try (ReactiveRedLock redlock = client(servers, observations)) {
            request = Observation.start("http.request", observations);
            Mono<String> work = redlock.lock("orders:42").withLockMono(lease -> Mono.deferContextual(ctx -> {
                // the body runs inside the hold Observation
                Observation current = ctx.getOrDefault(OBSERVATION_KEY, null);
                return Mono.just(current == null ? "none" : current.getContext().getName());
            }));
            StepVerifier.create(work.contextWrite(c -> c.put(OBSERVATION_KEY, request)))
                    .expectNext("redlock.lock.hold")
                    .verifyComplete();
            request.stop();
        }
        TestObservationRegistryAssert.assertThat(observations)
                .hasObservationWithNameEqualTo("redlock.lock.acquire")
                .that()
                .hasBeenStarted()
                .hasBeenStopped()
                .hasLowCardinalityKeyValue("lock.group", "orders")
                .hasParentObservationEqualTo(request);
        TestObservationRegistryAssert.assertThat(observations)
                .hasObservationWithNameEqualTo("redlock.lock.hold")
                .that()
                .hasBeenStarted()
                .hasBeenStopped()
                .hasLowCardinalityKeyValue("lock.group", "orders")
                .hasParentObservationEqualTo(request);
    }

    @Test
    void aCancelledAcquireStopsItsObservation(@RedisNodes(1) RedisServers servers) {
        TestObservationRegistry observations = TestObservationRegistry.create();
        AtomicInteger started = new AtomicInteger();
        AtomicInteger stopped = new AtomicInteger();
        observations.observationConfig().observationHandler(new ObservationHandler<Observation.Context>() {
            @Override
            public void onStart(Observation.Context context) {
                if ("redlock.lock.acquire".equals(context.getName())) {
                    started.incrementAndGet();
                }
            }

            @Override
            public void onStop(Observation.Context context) {
                if ("redlock.lock.acquire".equals(context.getName())) {
                    stopped.incrementAndGet();
                }
            }

            @Override
            public boolean supportsContext(Observation.Context context) {
                return true;
            }
        });
        try (ReactiveRedLock redlock = client(servers, observations)) {
            RedLock lock = redlock.lock("orders:busy");
            Lease held = lock.acquire().block(Duration.ofSeconds(5));
            StepVerifier.create(lock.acquire())
                    .expectSubscription()
                    .thenAwait(Duration.ofMillis(100))
                    .thenCancel()
                    .verify(Duration.ofSeconds(5));
            held.release().block(Duration.ofSeconds(5));
        }
        assertThat(started).as("two acquires observed").hasValue(2);
        assertThat(stopped).as("the cancelled one stopped too").hasValue(2);
    }
}
