/**
 * Reactive, non-blocking distributed locks over independent Redis masters (Redlock): the public API.
 *
 * <p>Start at {@link dev.redlock.ReactiveRedLock#builder()}. A {@link dev.redlock.ReactiveRedLock} hands out
 * {@link dev.redlock.Lease}s for names, a {@link dev.redlock.RedLock} ({@code redlock.lock("orders:42")}) is one
 * lock by name, {@code withLock} runs a publisher while the lock is held, and
 * {@link dev.redlock.ReactiveRedLock#events()} reports what happens to leases and nodes. Per-call settings are
 * {@link dev.redlock.LockOptions}; errors are subtypes of {@link dev.redlock.LockException}.
 * {@link dev.redlock.FencedStore} lets data kept in Redis reject writes from superseded lease holders; metrics go to
 * a {@link dev.redlock.metrics.LockMetricsRecorder}.
 *
 * <h2>Layout</h2>
 * The API is this package and one package per primitive ({@code dev.redlock.semaphore}, ... as they arrive), all on
 * the same client. The engine lives in {@code dev.redlock.internal.*}, one home per part: {@code engine} (the wiring
 * and the SPI primitives build on), {@code acquire} (the acquire loop and the local waiting line), {@code quorum}
 * (the parallel call to every node and its vote count), {@code lease} (the lease, the watchdog that renews it and
 * the {@code withLock} scope), {@code node} (one Redis connection, its handshake, reconnects and the restart guard),
 * {@code notify} (release notifications), {@code health} (health checks and breakers), {@code script} (the Lua
 * scripts), {@code event} (events and the metrics feed) and {@code lock} (the lock: the first primitive).
 *
 * <p>{@code dev.redlock.internal} and its subpackages are not API: they may change in any release. The jar is the
 * automatic module {@code dev.redlock.core}, which exports every package, so the rule is stated instead of enforced:
 * do not use them.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.redlock;

import org.jspecify.annotations.NullMarked;
