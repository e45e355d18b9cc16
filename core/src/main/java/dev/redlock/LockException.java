package dev.redlock;

/**
 * Root of the errors this library signals through {@code Mono}/{@code Flux} error signals. Each subtype carries the
 * values that explain it; {@link #key()} names the lock.
 */
public abstract class LockException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String key;

    LockException(String key, String message, Throwable cause) {
        super(message, cause);
        this.key = key;
    }

    /** The lock key the failed operation was about. */
    public String key() {
        return key;
    }
}
