/**
 * A JUnit Jupiter test kit that runs real, independent {@code redis-server} processes on {@code 127.0.0.1} and
 * injects process faults into them: SIGKILL, SIGSTOP/SIGCONT, restart (now or after a delay), with or without
 * persistence, standalone or each node its own one-node Redis Cluster ({@code @RedisNodes(clusterMode = true)},
 * {@link dev.redlock.testkit.NodeOptions}); and network faults between a client and them through in-JVM TCP
 * proxies: latency, blackhole, pause, refused and reset connections.
 *
 * <p>Entry points:
 * <ul>
 *   <li>{@link dev.redlock.testkit.RedisServers#start(int)}: start a group of nodes yourself and close it;</li>
 *   <li>{@link dev.redlock.testkit.RedisNodes} on a {@code RedisServers} parameter (handled by
 *       {@link dev.redlock.testkit.RedisServersExtension}): groups shared per test class, reset before each
 *       test;</li>
 *   <li>{@link dev.redlock.testkit.RedisServer}: one node, its faults and its admin connection;</li>
 *   <li>{@link dev.redlock.testkit.FaultProxy} and {@link dev.redlock.testkit.FaultProxies}: a TCP proxy in front of
 *       a node, or one in front of each node of a group, with network faults switchable while traffic flows.</li>
 * </ul>
 *
 * <pre>{@code
 * class FailoverTest {
 *     @Test
 *     void survivesOneNodeDown(@RedisNodes(3) RedisServers servers) {
 *         servers.get(0).kill();
 *         // ... acquire a lock through servers.uris(), expect success on 2 of 3 ...
 *         assertThat(servers.keys("lock:*").get(0)).isEmpty();
 *     }
 * }
 * }</pre>
 *
 * <p>The binary is selected with the system property {@code redlock.test.redis} (environment variable
 * {@code REDLOCK_TEST_REDIS}): {@code embedded} (default), {@code path}, a path containing {@code /}, or
 * {@code testcontainers}; see {@link dev.redlock.testkit.RedisServers}.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.redlock.testkit;

import org.jspecify.annotations.NullMarked;
