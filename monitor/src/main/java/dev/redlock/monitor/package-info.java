/**
 * A monitoring server for a {@link dev.redlock.ReactiveRedLock} client, on Reactor Netty: {@code /health},
 * {@code /stats}, {@code /events} (server-sent events), {@code /metrics} (Prometheus) and a live {@code /dashboard}
 * page. {@link dev.redlock.monitor.LockStats} gathers the figures behind {@code /stats};
 * {@link dev.redlock.monitor.RedlockMonitor} configures and starts the server.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.redlock.monitor;

import org.jspecify.annotations.NullMarked;
