package dev.redlock.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Asks {@link RedisServersExtension} for a {@link RedisServers} group on a test method, lifecycle method or test
 * constructor parameter. The annotation registers the extension by itself, so no {@code @ExtendWith} is needed,
 * though registering it on the class works too (and makes the clean-up before each test apply to every test).
 *
 * <pre>{@code
 * @Test
 * void quorum(@RedisNodes(5) RedisServers servers) {
 *     servers.get(0).kill();
 *     // ... lock through servers.uris() ...
 * }
 * }</pre>
 *
 * <p>Parameters with the same {@code value}, {@code persistence} and {@code clusterMode} in one test class get the
 * same group; a
 * {@link RedisServers} parameter without this annotation gets {@code @RedisNodes(1)}.
 *
 * @since 0.1.0
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.PARAMETER)
@ExtendWith(RedisServersExtension.class)
public @interface RedisNodes {

    /**
     * Number of independent nodes.
     *
     * @return the node count, at least 1
     */
    int value() default 1;

    /**
     * Whether nodes persist writes (AOF with {@code appendfsync always}) so data survives
     * {@link RedisServer#restart()}; without it a restarted node comes back empty.
     *
     * @return whether the nodes persist writes
     */
    boolean persistence() default false;

    /**
     * Whether every node runs in cluster mode ({@code --cluster-enabled yes}) as its own one-node Redis Cluster that
     * owns all 16384 hash slots: the nodes stay independent masters, but each rejects a command or script whose keys
     * span hash slots with {@code CROSSSLOT}, like any cluster-mode endpoint. Such nodes take about 2 s to start and
     * to restart; see {@link NodeOptions#withClusterMode(boolean)}.
     *
     * @return whether the nodes run in cluster mode
     */
    boolean clusterMode() default false;
}
