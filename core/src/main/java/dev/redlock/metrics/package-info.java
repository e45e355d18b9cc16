/**
 * The metrics SPI: {@link dev.redlock.metrics.LockMetricsRecorder}, which a client calls where acquires end, leases
 * are renewed, lost and released, and nodes change state. No metrics library here; the Micrometer binding is a
 * module of its own.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.redlock.metrics;

import org.jspecify.annotations.NullMarked;
