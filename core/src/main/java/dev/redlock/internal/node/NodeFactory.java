package dev.redlock.internal.node;

import dev.redlock.RedisNode;
import dev.redlock.internal.event.EventBus;

/** Creates the node channels of a client; the default makes Lettuce nodes. Tests use in-memory nodes. */
@FunctionalInterface
public interface NodeFactory {

    /** The channel to {@code node}; {@code events} takes its node events. */
    NodeChannel create(RedisNode node, EventBus events);
}
