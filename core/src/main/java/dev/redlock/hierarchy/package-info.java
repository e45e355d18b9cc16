/**
 * Hierarchical (intention) locks on paths such as {@code tenant/orders/42}:
 * {@link dev.redlock.hierarchy.RedHierarchicalLock}, made by
 * {@link dev.redlock.ReactiveRedLock#hierarchicalLock(String)}.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.redlock.hierarchy;

import org.jspecify.annotations.NullMarked;
