package dev.redlock.rw;

/**
 * The modes of a lock that can be shared: the read-write lock's {@link #SHARED} (read) and {@link #EXCLUSIVE}
 * (write), and the intention modes a hierarchical lock takes on the ancestors of its path. Two holders may hold one
 * resource at the same time exactly when their modes are {@linkplain #compatibleWith compatible}, by the standard
 * matrix (Gray et al.):
 *
 * <pre>
 *            IS   IX   S    SIX  X
 *      IS    yes  yes  yes  yes  no
 *      IX    yes  yes  no   no   no
 *      S     yes  no   yes  no   no
 *      SIX   yes  no   no   no   no
 *      X     no   no   no   no   no
 * </pre>
 *
 * <p>The modes are declared in order of precedence: a request that waits blocks new requests of a lower precedence
 * that conflict with it (writer preference; see {@link RedReadWriteLock}).
 *
 * @since 0.1.0
 */
public enum LockMode {

    /** IS: the holder reads somewhere below this resource (taken on the ancestors of a {@link #SHARED} path). */
    INTENTION_SHARED("IS", 0b11110),
    /** IX: the holder writes somewhere below this resource (taken on the ancestors of an {@link #EXCLUSIVE} path). */
    INTENTION_EXCLUSIVE("IX", 0b11000),
    /** S: the holder reads this resource and everything below it (the read lock). */
    SHARED("S", 0b10100),
    /** SIX: the holder reads this resource and everything below it, and writes somewhere below it. */
    SHARED_INTENTION_EXCLUSIVE("SIX", 0b10000),
    /** X: the holder alone reads and writes this resource and everything below it (the write lock). */
    EXCLUSIVE("X", 0);

    private final String abbreviation;
    /** Bit {@code 4 - other.ordinal()} set when compatible with {@code other}: the row of the matrix. */
    private final int compatible;

    LockMode(String abbreviation, int compatible) {
        this.abbreviation = abbreviation;
        this.compatible = compatible;
    }

    /**
     * Whether a holder in this mode and a holder in {@code other} may hold one resource at the same time.
     *
     * @param other the other mode
     * @return the matrix's answer (symmetric)
     */
    public boolean compatibleWith(LockMode other) {
        return (compatible >> (4 - other.ordinal()) & 1) == 1;
    }

    /**
     * The mode a hierarchical lock in this mode takes on each ancestor of its path.
     *
     * @return {@link #INTENTION_SHARED} for the shared modes, {@link #INTENTION_EXCLUSIVE} for the others
     */
    public LockMode intention() {
        return this == INTENTION_SHARED || this == SHARED ? INTENTION_SHARED : INTENTION_EXCLUSIVE;
    }

    /**
     * Whether a holder in this mode already has every right of {@code other} on the same resource, so a nested scope
     * asking for {@code other} runs under this one's lease (a read inside a write).
     *
     * @param other the mode a nested scope asks for
     * @return true when this mode is at least as strong
     */
    public boolean covers(LockMode other) {
        return switch (this) {
            case EXCLUSIVE -> true;
            case SHARED_INTENTION_EXCLUSIVE -> other != EXCLUSIVE;
            case SHARED -> other == SHARED || other == INTENTION_SHARED;
            case INTENTION_EXCLUSIVE -> other == INTENTION_EXCLUSIVE || other == INTENTION_SHARED;
            case INTENTION_SHARED -> other == INTENTION_SHARED;
        };
    }

    /**
     * The mode's usual short name.
     *
     * @return IS, IX, S, SIX or X
     */
    public String abbreviation() {
        return abbreviation;
    }
}
