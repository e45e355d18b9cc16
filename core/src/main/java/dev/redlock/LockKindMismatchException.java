package dev.redlock;

/**
 * A name was used as a plain lock and as a fair lock at the same time: an acquire of one kind found the key held by
 * the other kind (on a node), or a nested scope of one kind ran inside a scope of the other kind on the same name.
 * The two kinds still exclude each other (they share the key), but a plain acquire ignores the fair lock's queue, so
 * mixing them would silently void its order. Never retried: use one kind per name.
 *
 * @since 0.1.0
 */
public final class LockKindMismatchException extends LockException {

    private static final long serialVersionUID = 1L;

    /** What the failed operation asked for. */
    private final Kind requested;
    /** What the name is held as. */
    private final Kind held;

    /** The kinds of lock that share a name's key. */
    public enum Kind {
        /** {@link ReactiveRedLock#lock(String)} and the client's own {@code acquire} and {@code withLock}. */
        LOCK,
        /** {@link ReactiveRedLock#fairLock(String)}. */
        FAIR_LOCK
    }

    /**
     * A mismatch on {@code name}.
     *
     * @param name the lock's name
     * @param requested what the failed operation asked for
     * @param held what the name is held as
     */
    public LockKindMismatchException(String name, Kind requested, Kind held) {
        super(name, "'" + name + "' is held as a " + label(held) + ", and was asked for as a " + label(requested)
                + ": a name is either a plain lock or a fair lock, never both", null);
        this.requested = requested;
        this.held = held;
    }

    private static String label(Kind kind) {
        return kind == Kind.LOCK ? "plain lock" : "fair lock";
    }

    /**
     * What the failed operation asked for.
     *
     * @return the requested kind
     */
    public Kind requested() {
        return requested;
    }

    /**
     * What the name is held as.
     *
     * @return the other kind
     */
    public Kind held() {
        return held;
    }
}
