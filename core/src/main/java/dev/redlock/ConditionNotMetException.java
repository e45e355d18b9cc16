package dev.redlock;

/**
 * The condition of a conditional scope ({@link RedLock#withLockIf}, {@link RedLock#withLockMonoIf}) answered
 * {@code false} (or nothing): the body did not run. {@link #stage()} tells whether the lock was taken first; when it
 * was, the lease had been released by the time this error was signalled.
 *
 * @since 0.1.0
 */
public final class ConditionNotMetException extends LockException {

    private static final long serialVersionUID = 1L;

    /**
     * When the condition was found not to hold.
     *
     * @since 0.1.0
     */
    public enum Stage {
        /** Before the acquire: nothing was sent to the nodes. */
        BEFORE_ACQUIRE,
        /** With the lease held: the lease was released before this error was signalled. */
        AFTER_ACQUIRE
    }

    /** When the condition was found not to hold. */
    private final Stage stage;

    /**
     * Creates the exception, as the client does.
     *
     * @param key the lock key
     * @param stage when the condition was found not to hold
     */
    public ConditionNotMetException(String key, Stage stage) {
        super(key, "condition of lock '" + key + "' did not hold "
                + (stage == Stage.BEFORE_ACQUIRE ? "before the acquire: the lock was not taken"
                        : "once the lock was held: the lease was released"), null);
        this.stage = stage;
    }

    /**
     * When the condition was found not to hold.
     *
     * @return {@link Stage#BEFORE_ACQUIRE} (no I/O happened) or {@link Stage#AFTER_ACQUIRE} (the lease was released)
     */
    public Stage stage() {
        return stage;
    }
}
