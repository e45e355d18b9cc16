package dev.redlock.rw;

import dev.redlock.LockException;

/**
 * A scope asked for a stronger mode of a lock that an enclosing scope holds in a weaker one: a write inside a read
 * ({@link LockMode#EXCLUSIVE} inside {@link LockMode#SHARED}). Refused rather than waited for: two readers that both
 * try to upgrade would each wait for the other's read to end, forever. Release the read and take the write instead
 * (re-checking what was read), or take the write from the start. Never retried.
 *
 * @since 0.1.0
 */
public final class LockUpgradeException extends LockException {

    private static final long serialVersionUID = 1L;

    /** The mode the enclosing scope holds. */
    private final LockMode held;
    /** The mode the nested scope asked for. */
    private final LockMode requested;

    /**
     * An upgrade refused on {@code name}.
     *
     * @param name the lock's name (or path)
     * @param held the mode the enclosing scope holds
     * @param requested the mode the nested scope asked for
     */
    public LockUpgradeException(String name, LockMode held, LockMode requested) {
        this(name, name, held, requested);
    }

    /**
     * An upgrade refused on {@code name}, under an enclosing scope that holds {@code heldName}, the same resource or
     * one that contains it (an ancestor of a hierarchical lock's path).
     *
     * @param name the lock's name (or path) the nested scope asked for
     * @param heldName the name (or path) the enclosing scope holds
     * @param held the mode the enclosing scope holds
     * @param requested the mode the nested scope asked for
     */
    public LockUpgradeException(String name, String heldName, LockMode held, LockMode requested) {
        super(name, "'" + heldName + "' is held in mode " + held.abbreviation() + " by an enclosing scope, and a "
                + "nested scope asked for mode " + requested.abbreviation()
                + (heldName.equals(name) ? "" : " on '" + name + "' below it")
                + ": upgrades are refused (two upgraders would wait for each other forever); take the stronger mode "
                + "from the start", null);
        this.held = held;
        this.requested = requested;
    }

    /**
     * The mode the enclosing scope holds.
     *
     * @return the held mode
     */
    public LockMode held() {
        return held;
    }

    /**
     * The mode the nested scope asked for.
     *
     * @return the requested mode
     */
    public LockMode requested() {
        return requested;
    }
}
