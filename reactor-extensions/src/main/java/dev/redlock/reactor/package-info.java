/**
 * Reactor operators and higher-level primitives built on the core lock: {@link dev.redlock.reactor.LockOperator}
 * runs a publisher under a lock with {@code transformDeferred}.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.redlock.reactor;

import org.jspecify.annotations.NullMarked;
