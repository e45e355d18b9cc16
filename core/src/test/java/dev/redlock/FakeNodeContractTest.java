package dev.redlock;

import dev.redlock.internal.node.NodeChannel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import reactor.test.scheduler.VirtualTimeScheduler;

/** The node contract over the in-memory {@link FakeNode}, in virtual time with no latency. */
class FakeNodeContractTest extends NodeContract {

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final FakeNode node = new FakeNode("127.0.0.1:7001", vts);

    FakeNodeContractTest() {
        // a clock that reads like a real one: a day past its epoch, so the clock floor is not 0
        vts.advanceTimeBy(Duration.ofDays(1));
    }

    @Override
    NodeChannel node() {
        return node;
    }

    @Override
    void setRaw(String key, String value) {
        node.set(key, value, 0);
    }

    @Override
    String getRaw(String key) {
        return node.get(key);
    }

    @Override
    long pttlRaw(String key) {
        return node.pttl(key);
    }

    @Override
    long clockMicros() {
        return vts.now(TimeUnit.MICROSECONDS);
    }

    @Override
    void letExpire(String key, long leaseMs) {
        vts.advanceTimeBy(Duration.ofMillis(leaseMs + 1));
    }
}
