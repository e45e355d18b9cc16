package dev.redlock;

import io.lettuce.core.RedisURI;
import java.util.Objects;

/**
 * One independent Redis master that takes part in the quorum.
 *
 * <p>Built from a {@code redis://} or {@code rediss://} (TLS) URI, with an optional password or ACL user and
 * password: {@code redis://user:secret@10.0.0.5:6379}. The node's {@link #name()} and {@link #toString()} show host
 * and port only, never the credentials. Immutable.
 */
public final class RedisNode {

    private final RedisURI uri;
    private final String name;

    private RedisNode(RedisURI uri) {
        this.uri = uri;
        this.name = uri.getHost() + ":" + uri.getPort();
    }

    /**
     * Parses a node URI.
     *
     * @throws IllegalArgumentException if the URI is null, blank, not {@code redis://} / {@code rediss://}, or has
     *     no host
     */
    public static RedisNode of(String uri) {
        if (uri == null || uri.isBlank()) {
            throw new IllegalArgumentException("node URI must not be null or blank, got " + (uri == null ? "null" : "'" + uri + "'"));
        }
        String trimmed = uri.trim();
        if (!(trimmed.startsWith("redis://") || trimmed.startsWith("rediss://"))) {
            throw new IllegalArgumentException("node URI must start with redis:// or rediss://, got '" + redact(trimmed) + "'");
        }
        RedisURI parsed;
        try {
            parsed = RedisURI.create(trimmed);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("node URI is malformed: '" + redact(trimmed) + "' (" + e.getMessage() + ")", e);
        }
        return of(parsed);
    }

    /**
     * Wraps a Lettuce URI (a standalone node; Sentinel and socket URIs are rejected).
     *
     * @throws IllegalArgumentException if the URI is null, has no host, or names Sentinels or a Unix socket
     */
    public static RedisNode of(RedisURI uri) {
        Checks.notNull(uri, "node URI");
        if (uri.getSocket() != null || !uri.getSentinels().isEmpty()) {
            throw new IllegalArgumentException(
                    "a node must be one standalone Redis master (host and port), got " + uri.toURI().getScheme() + " URI");
        }
        if (uri.getHost() == null || uri.getHost().isBlank()) {
            throw new IllegalArgumentException("node URI has no host");
        }
        return new RedisNode(RedisURI.builder(uri).build());
    }

    /** {@code host:port}, used in errors, events and metrics. */
    public String name() {
        return name;
    }

    /** Whether the connection uses TLS ({@code rediss://}). */
    public boolean tls() {
        return uri.isSsl();
    }

    RedisURI uri() {
        return uri;
    }

    private static String redact(String uri) {
        int at = uri.indexOf('@');
        int scheme = uri.indexOf("://");
        return at > 0 && scheme > 0 && at > scheme ? uri.substring(0, scheme + 3) + "***@" + uri.substring(at + 1) : uri;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RedisNode && ((RedisNode) o).name.equals(name) && ((RedisNode) o).tls() == tls();
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, tls());
    }

    @Override
    public String toString() {
        return (tls() ? "rediss://" : "redis://") + name;
    }
}
