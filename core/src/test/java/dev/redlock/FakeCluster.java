package dev.redlock;

import dev.redlock.internal.lock.LockClient;
import java.util.ArrayList;
import java.util.List;
import reactor.core.scheduler.Scheduler;

/** N {@link FakeNode}s and a client over them, for virtual-time unit tests. */
final class FakeCluster {

    final List<FakeNode> nodes = new ArrayList<>();
    final Scheduler scheduler;

    FakeCluster(int n, Scheduler scheduler) {
        this.scheduler = scheduler;
        for (int i = 0; i < n; i++) {
            nodes.add(new FakeNode("127.0.0.1:" + (7001 + i), scheduler));
        }
    }

    FakeNode node(int i) {
        return nodes.get(i);
    }

    RedLockBuilder builder() {
        RedLockBuilder b = ReactiveRedLock.builder().scheduler(scheduler).eventScheduler(scheduler).nodeFactory((node, events) -> nodes.stream()
                .filter(f -> f.name().equals(node.name()))
                .findFirst()
                .orElseThrow());
        for (FakeNode n : nodes) {
            b.nodes("redis://" + n.name());
        }
        return b;
    }

    LockClient client(LockOptions defaults) {
        return (LockClient) builder().defaults(defaults).build();
    }

    long liveLockKeys() {
        return nodes.stream().mapToLong(FakeNode::liveLockKeys).sum();
    }

    int commands() {
        return nodes.stream().mapToInt(n -> n.commands.get()).sum();
    }
}
