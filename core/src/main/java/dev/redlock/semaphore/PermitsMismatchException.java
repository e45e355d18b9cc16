package dev.redlock.semaphore;

import dev.redlock.LockException;

/**
 * A semaphore was used with another number of permits than the one the nodes know it by: two clients declared a
 * different P for the same name while permits of it were held (the nodes remember P as long as they hold permits or
 * a waiter's reservation). Never retried: fix the declaration.
 *
 * @since 0.1.0
 */
public final class PermitsMismatchException extends LockException {

    private static final long serialVersionUID = 1L;

    /** The number of permits this client declared. */
    private final int declared;
    /** The number of permits the nodes know the semaphore by. */
    private final int existing;

    /**
     * A mismatch found on a node.
     *
     * @param name the semaphore's name
     * @param declared the number of permits this client declared
     * @param existing the number the node knows the semaphore by
     */
    public PermitsMismatchException(String name, int declared, int existing) {
        super(name, "semaphore '" + name + "' was declared with " + declared + " permits here, but the nodes hold it "
                + "with " + existing + " permits (another client declared it so): every client must declare the same "
                + "number", null);
        this.declared = declared;
        this.existing = existing;
    }

    /**
     * The number of permits this client declared.
     *
     * @return the P of the failed call
     */
    public int declared() {
        return declared;
    }

    /**
     * The number of permits the nodes know the semaphore by.
     *
     * @return the P another client declared
     */
    public int existing() {
        return existing;
    }
}
