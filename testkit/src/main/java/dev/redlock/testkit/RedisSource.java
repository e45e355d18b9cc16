package dev.redlock.testkit;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * Where the {@code redis-server} comes from, read from the system property {@value #PROPERTY} or, when that is
 * unset, the environment variable {@value #ENV}.
 *
 * <ul>
 *   <li>unset or {@code embedded}: the binary shipped inside the embedded-redis jar, extracted once per JVM;</li>
 *   <li>{@code path}: {@code redis-server} found on {@code PATH};</li>
 *   <li>any value containing {@code /}: that binary;</li>
 *   <li>{@code testcontainers}: a {@code redis:7.4-alpine} container per node (needs Docker).</li>
 * </ul>
 */
final class RedisSource {

    static final String PROPERTY = "redlock.test.redis";
    static final String ENV = "REDLOCK_TEST_REDIS";

    enum Kind { EMBEDDED, PATH, FILE, TESTCONTAINERS }

    private final Kind kind;
    private final String value;
    private final String origin;

    private RedisSource(Kind kind, String value, String origin) {
        this.kind = kind;
        this.value = value;
        this.origin = origin;
    }

    /** Reads the source from the system property, then the environment variable, defaulting to embedded. */
    static RedisSource fromEnvironment() {
        return parse(System.getProperty(PROPERTY), System.getenv(ENV));
    }

    /**
     * Parses the configured value; the system property wins over the environment variable, blank counts as unset.
     *
     * @throws RedisTestkitException for a value that is neither a keyword nor a path containing {@code /}
     */
    static RedisSource parse(String propertyValue, String envValue) {
        String value;
        String origin;
        if (propertyValue != null && !propertyValue.isBlank()) {
            value = propertyValue.trim();
            origin = "system property " + PROPERTY;
        } else if (envValue != null && !envValue.isBlank()) {
            value = envValue.trim();
            origin = "environment variable " + ENV;
        } else {
            return new RedisSource(Kind.EMBEDDED, "embedded", "default");
        }
        switch (value.toLowerCase(Locale.ROOT)) {
            case "embedded":
                return new RedisSource(Kind.EMBEDDED, value, origin);
            case "path":
                return new RedisSource(Kind.PATH, value, origin);
            case "testcontainers":
                return new RedisSource(Kind.TESTCONTAINERS, value, origin);
            default:
                if (value.indexOf('/') >= 0) {
                    return new RedisSource(Kind.FILE, value, origin);
                }
                throw new RedisTestkitException("Unsupported value '" + value + "' of " + origin
                        + ": expected 'embedded' (the default), 'path' (redis-server on PATH), 'testcontainers'"
                        + " or the path of a redis-server binary (a value containing '/')");
        }
    }

    Kind kind() {
        return kind;
    }

    /** The configured value as written (trimmed), {@code embedded} when unset. */
    String value() {
        return value;
    }

    /** The binary path of a {@link Kind#FILE} source. */
    Path file() {
        if (kind != Kind.FILE) {
            throw new IllegalStateException("not a file source: " + this);
        }
        return Path.of(value);
    }

    /** Describes the setting for error messages, e.g. {@code redlock.test.redis=path (system property ...)}. */
    String describe() {
        return PROPERTY + "=" + value + " (" + origin + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RedisSource && ((RedisSource) o).kind == kind && ((RedisSource) o).value.equals(value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, value);
    }

    @Override
    public String toString() {
        return describe();
    }
}
