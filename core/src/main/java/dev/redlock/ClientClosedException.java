package dev.redlock;

import org.jspecify.annotations.Nullable;

/**
 * The client was closed: an operation called after {@link ReactiveRedLock#closeAsync()} started, or a wait for a
 * lock that the close ended. A lease that was already held when the client closed ends differently: its scope (or
 * {@link Lease#lost()}) gets a {@link LeaseLostException} with reason
 * {@link LeaseLostException.Reason#CLIENT_CLOSED}.
 *
 * <p>An {@link IllegalStateException}, as calls on a closed resource are in the JDK.
 *
 * @since 0.1.0
 */
public final class ClientClosedException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    /** The lock key of the operation; {@code null} for an operation on no key. */
    private final @Nullable String key;

    /**
     * Creates the exception, as the client does.
     *
     * @param key the lock key of the operation, or {@code null} for an operation on no key ({@code connect()})
     * @param message what was called on the closed client, with the key
     */
    public ClientClosedException(@Nullable String key, String message) {
        super(message);
        this.key = key;
    }

    /**
     * The lock key of the operation.
     *
     * @return the key as the caller gave it, or {@code null} for an operation on no key ({@code connect()})
     */
    public @Nullable String key() {
        return key;
    }
}
