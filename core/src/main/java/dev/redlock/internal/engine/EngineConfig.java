package dev.redlock.internal.engine;

import dev.redlock.BreakerOptions;
import dev.redlock.LockOptions;
import dev.redlock.RedisNode;
import dev.redlock.RestartGuard;
import dev.redlock.internal.node.NodeFactory;
import dev.redlock.metrics.LockMetricsRecorder;
import io.lettuce.core.SslOptions;
import io.lettuce.core.resource.ClientResources;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import reactor.core.scheduler.Scheduler;

/**
 * Everything an {@link Engine} is built from, checked by the public builder. {@code nodeFactory} (tests), {@code
 * sslOptions} and {@code clientResources} may be null: Lettuce nodes, the JDK's trust store, resources of the
 * engine's own. {@code adaptiveLeaseGroups} maps a lock name to the group whose hold times set its adaptive lease
 * time.
 */
public record EngineConfig(
        List<RedisNode> nodes,
        LockOptions defaults,
        String keyPrefix,
        Scheduler scheduler,
        Scheduler eventScheduler,
        RestartGuard restartGuard,
        Duration maxLeaseTime,
        Duration connectTimeout,
        NodeFactory nodeFactory,
        BreakerOptions breaker,
        Duration healthCheckInterval,
        SslOptions sslOptions,
        ClientResources clientResources,
        LockMetricsRecorder recorder,
        Function<String, String> adaptiveLeaseGroups) {}
