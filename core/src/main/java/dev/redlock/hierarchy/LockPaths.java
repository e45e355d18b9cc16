package dev.redlock.hierarchy;

/**
 * The four levels GLOBAL &gt; TENANT &gt; RESOURCE &gt; ENTITY as paths for
 * {@link dev.redlock.ReactiveRedLock#hierarchicalLock(String)}, under one root segment {@value #GLOBAL}: an
 * exclusive lock on {@link #global()} excludes every lock of these levels; one on {@code tenant("acme")} excludes
 * every lock of that tenant, and none of another's. Any other depth works with plain paths.
 *
 * <pre>{@code
 * redlock.hierarchicalLock(LockPaths.entity("acme", "orders", "42")).exclusive()  // global/acme/orders/42
 * }</pre>
 *
 * @since 0.1.0
 */
public final class LockPaths {

    /** The root segment of the four levels. */
    public static final String GLOBAL = "global";

    private LockPaths() {}

    /**
     * The GLOBAL level.
     *
     * @return {@code global}
     */
    public static String global() {
        return GLOBAL;
    }

    /**
     * The TENANT level.
     *
     * @param tenant the tenant's segment
     * @return {@code global/<tenant>}
     * @throws IllegalArgumentException for an empty segment or one with {@code '/'}
     */
    public static String tenant(String tenant) {
        return GLOBAL + '/' + segment(tenant, "tenant");
    }

    /**
     * The RESOURCE level.
     *
     * @param tenant the tenant's segment
     * @param resource the resource's segment ({@code orders})
     * @return {@code global/<tenant>/<resource>}
     * @throws IllegalArgumentException for an empty segment or one with {@code '/'}
     */
    public static String resource(String tenant, String resource) {
        return tenant(tenant) + '/' + segment(resource, "resource");
    }

    /**
     * The ENTITY level.
     *
     * @param tenant the tenant's segment
     * @param resource the resource's segment ({@code orders})
     * @param entity the entity's segment ({@code 42})
     * @return {@code global/<tenant>/<resource>/<entity>}
     * @throws IllegalArgumentException for an empty segment or one with {@code '/'}
     */
    public static String entity(String tenant, String resource, String entity) {
        return resource(tenant, resource) + '/' + segment(entity, "entity");
    }

    private static String segment(String value, String level) {
        if (value == null || value.isEmpty() || value.indexOf('/') >= 0) {
            throw new IllegalArgumentException(level + " must be a non-empty path segment without '/', got "
                    + (value == null ? "null" : "'" + value + "'"));
        }
        return value;
    }
}
