/**
 * Reactor operators and higher-level primitives built on the core lock: {@link dev.redlock.reactor.LockOperator}
 * runs a publisher under a lock with {@code transformDeferred}.
 */
package dev.redlock.reactor;
