package dev.redlock;

import org.jspecify.annotations.Nullable;

/**
 * Root of the errors this library signals through {@code Mono}/{@code Flux} error signals. Each subtype carries the
 * values that explain it; {@link #key()} names the lock.
 *
 * @since 0.1.0
 */
public abstract class LockException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The lock key the failed operation was about. */
    private final String key;

    /**
     * For the primitives' own errors.
     *
     * @param key the key (name) the failed operation was about
     * @param message the detail message
     * @param cause the cause, or {@code null}
     */
    protected LockException(String key, String message, @Nullable Throwable cause) {
        super(message, cause);
        this.key = key;
    }

    /**
     * The lock key the failed operation was about.
     *
     * @return the lock key as the caller gave it; the resource's key for a {@link StaleFencingTokenException}, and
     *     {@code *} for {@link QuorumUnavailableException.Operation#CONNECT}, which concerns no key
     */
    public String key() {
        return key;
    }
}
