package dev.redlock.testkit;

import org.jspecify.annotations.Nullable;

/**
 * Thrown when the test kit cannot provide or control a {@code redis-server}: the binary cannot be found or
 * extracted, a node does not start or become ready in time, a signal cannot be delivered, or the configured
 * source (see {@link RedisServers}) is unusable, for example {@code testcontainers} without Docker.
 *
 * <p>The message always carries the values that explain the failure (port, pid, configured value, the tail of the
 * {@code redis-server} log, ...). Wrong arguments raise {@link IllegalArgumentException} and calls that do not fit
 * the node's current state (for example {@code keys()} on a killed node) raise {@link IllegalStateException}
 * instead.
 *
 * @since 0.1.0
 */
public class RedisTestkitException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception with a message.
     *
     * @param message what failed, with the values that explain it
     */
    public RedisTestkitException(String message) {
        super(message);
    }

    /**
     * Creates an exception with a message and a cause.
     *
     * @param message what failed, with the values that explain it
     * @param cause the underlying failure, or {@code null} if none is known
     */
    public RedisTestkitException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
