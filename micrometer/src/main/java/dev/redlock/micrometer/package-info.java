/**
 * The Micrometer binding of reactive-redlock: {@link dev.redlock.micrometer.RedlockMetrics}, a
 * {@link dev.redlock.metrics.LockMetricsRecorder} that records meters on a {@code MeterRegistry} and Observations on
 * an {@code ObservationRegistry}.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.redlock.micrometer;

import org.jspecify.annotations.NullMarked;
