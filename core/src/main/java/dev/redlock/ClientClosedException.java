package dev.redlock;

/**
 * The client was closed: an operation called after {@link ReactiveRedLock#closeAsync()} started, or a wait for a
 * lock that the close ended. A lease that was already held when the client closed ends differently: its scope (or
 * {@link Lease#lost()}) gets a {@link LeaseLostException} with reason
 * {@link LeaseLostException.Reason#CLIENT_CLOSED}.
 *
 * <p>An {@link IllegalStateException}, as calls on a closed resource are in the JDK.
 */
public final class ClientClosedException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    private final String key;

    public ClientClosedException(String key, String message) {
        super(message);
        this.key = key;
    }

    /** The lock key of the operation, or {@code null} for an operation on no key ({@code connect()}). */
    public String key() {
        return key;
    }
}
