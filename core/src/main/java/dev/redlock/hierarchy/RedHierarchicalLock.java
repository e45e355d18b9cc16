package dev.redlock.hierarchy;

import dev.redlock.LockOptions;
import dev.redlock.RedLock;
import dev.redlock.rw.LockMode;
import java.util.List;

/**
 * A lock on a path of a hierarchy ({@code tenant/orders/42}): holding {@code tenant/orders/42} exclusively lets
 * {@code tenant/orders/43} run beside it, while a holder of {@code tenant} excludes both.
 *
 * <pre>{@code
 * RedHierarchicalLock order = redlock.hierarchicalLock("acme/orders/42");
 * Mono<Receipt> paid = order.exclusive().withLockMono(lease -> pay(order42));
 * Flux<Row> audit = redlock.hierarchicalLock("acme").shared().withLock(lease -> exportTenant("acme"));
 * }</pre>
 *
 * <p><b>Intention locks.</b> A lock in mode M on a path takes M on the path's last node and M's
 * {@linkplain LockMode#intention() intention} (IS for the shared modes, IX for the others) on every ancestor; two
 * locks conflict exactly when they meet on a node in incompatible modes ({@link LockMode}'s matrix). So
 * {@code X acme/orders/42} (IX, IX, X) and {@code X acme/orders/43} (IX, IX, X) share only compatible IX nodes, and
 * {@code S acme} meets both on {@code acme} in S against IX. The whole path is taken in one script per node (all or
 * nothing, so no lock-ordering deadlock between paths), released in one script; the lease is granted by a majority of
 * nodes within its validity, as for the lock, and the safety argument is the {@link dev.redlock.rw.RedReadWriteLock
 * read-write lock's}, per node of the path. Waiting requests hold back new ones of a lower precedence that conflict
 * with them (writer preference, per node of the path).
 *
 * <p><b>Paths.</b> Segments separated by {@code '/'}, 1 to {@value #MAX_DEPTH} of them, none empty; the keys of a
 * path share the first segment as a Redis Cluster hash tag. {@link LockPaths} builds the four levels
 * GLOBAL &gt; TENANT &gt; RESOURCE &gt; ENTITY.
 *
 * <p><b>Nested scopes</b> (the Reactor {@code Context} carries the enclosing ones): a scope on the path an enclosing
 * scope holds, or on a path below it, runs under the enclosing lease when that mode covers the request (X covers
 * everything below it; S and SIX cover reads); under a SIX, a write below it takes only the nodes under the SIX node
 * (a new lease, released when the nested scope ends: the enclosing lease already holds the rest); under an S, a write
 * fails at once with {@link dev.redlock.rw.LockUpgradeException} (it could only wait for its own enclosing scope).
 *
 * <p>Handles are immutable and cost no I/O; every operation is lazy. Fencing tokens are not offered.
 *
 * @since 0.1.0
 */
public interface RedHierarchicalLock {

    /** The deepest path, in segments. */
    int MAX_DEPTH = 16;

    /**
     * The path.
     *
     * @return the path as given
     */
    String path();

    /**
     * The path's segments, from the root.
     *
     * @return the segments
     */
    List<String> segments();

    /**
     * The options of this handle's locks.
     *
     * @return the options
     */
    LockOptions options();

    /**
     * This path with other options.
     *
     * @param options the options; without fencing
     * @return a new handle
     * @throws IllegalArgumentException for null options, fencing, or a lease time above the client's maximum
     */
    RedHierarchicalLock withOptions(LockOptions options);

    /**
     * The lock on this path in {@code mode}.
     *
     * @param mode {@link LockMode#SHARED}, {@link LockMode#SHARED_INTENTION_EXCLUSIVE} or {@link LockMode#EXCLUSIVE}
     * @return the lock; its {@link RedLock#isLocked()} tells whether a quorum has a live holder of the path in this
     *     mode
     * @throws IllegalArgumentException for a null mode or an intention mode (those are taken on the ancestors
     *     automatically)
     */
    RedLock lock(LockMode mode);

    /**
     * {@code lock(LockMode.SHARED)}: read this subtree.
     *
     * @return the lock
     */
    default RedLock shared() {
        return lock(LockMode.SHARED);
    }

    /**
     * {@code lock(LockMode.EXCLUSIVE)}: own this subtree.
     *
     * @return the lock
     */
    default RedLock exclusive() {
        return lock(LockMode.EXCLUSIVE);
    }

    /**
     * A path below this one.
     *
     * @param segment the next segment: not empty, no {@code '/'}
     * @return the child's handle, with these options
     * @throws IllegalArgumentException for a bad segment or a path deeper than {@value #MAX_DEPTH}
     */
    RedHierarchicalLock child(String segment);
}
