/**
 * Leases (not API): {@link dev.redlock.internal.lease.DefaultLease} (validity, release, lost signal), the
 * {@link dev.redlock.internal.lease.Watchdog} that renews it, the {@link dev.redlock.internal.lease.RenewalBatcher}
 * that renews many leases in one script per node, and {@link dev.redlock.internal.lease.Scope}, the
 * {@code withLock} scope written once for {@code Flux} and {@code Mono}.
 */
package dev.redlock.internal.lease;
