package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.internal.node.NodeChannel;
import dev.redlock.internal.notify.ReleaseNotifier;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.test.scheduler.VirtualTimeScheduler;

/** The release channels' lifetime, in virtual time: kept while in use, torn down after a whole idle linger. */
class ReleaseNotifierTest {

    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    private final FakeNode node = new FakeNode("n1", time);
    private final ReleaseNotifier notifier = new ReleaseNotifier(new NodeChannel[] {node}, time);

    @Test
    void aChannelInConstantUseIsNeverTornDownByTheInstantsWithoutWaiters() {
        // a waiter every 3 ms for 30 s, each waiting 1 ms: the channel has no waiter two thirds of the time, and a
        // check 5 s after a waiter left lands in such a gap
        for (int i = 0; i < 10_000; i++) {
            ReleaseNotifier.Listener listener = notifier.listen("k");
            time.advanceTimeBy(Duration.ofMillis(1));
            listener.close();
            time.advanceTimeBy(Duration.ofMillis(2));
        }
        assertThat(node.unsubscribes).hasValue(0);
        assertThat(notifier.channelCount()).isEqualTo(1);
    }

    @Test
    void anIdleChannelIsTornDownOnceAfterTheLinger() {
        notifier.listen("k").close();
        time.advanceTimeBy(ReleaseNotifier.LINGER.minusMillis(1));
        ReleaseNotifier.Listener back = notifier.listen("k"); // returns just before the linger ends
        time.advanceTimeBy(Duration.ofMillis(10));
        back.close();
        time.advanceTimeBy(ReleaseNotifier.LINGER.minusMillis(1));
        assertThat(node.unsubscribes).as("idle for less than the linger").hasValue(0);
        time.advanceTimeBy(Duration.ofMillis(1));
        assertThat(node.unsubscribes).hasValue(1);
        assertThat(notifier.channelCount()).isZero();
        time.advanceTimeBy(Duration.ofSeconds(30));
        assertThat(node.unsubscribes).hasValue(1);
    }

    @Test
    void aWaiterAfterTheTeardownGetsAFreshSubscription() {
        notifier.listen("k").close();
        time.advanceTimeBy(ReleaseNotifier.LINGER);
        assertThat(notifier.channelCount()).isZero();
        ReleaseNotifier.Listener listener = notifier.listen("k");
        listener.arm();
        boolean[] woken = new boolean[1];
        listener.await(Duration.ofSeconds(10).toNanos()).subscribe(v -> {}, e -> {}, () -> woken[0] = true);
        node.publish("k");
        time.advanceTime();
        assertThat(woken[0]).isTrue();
    }

    @Test
    void aNodeThatWasDownWhenTheChannelWasFirstSubscribedIsSubscribedOnceItIsBack() {
        FakeNode other = new FakeNode("n2", time);
        ReleaseNotifier two = new ReleaseNotifier(new NodeChannel[] {node, other}, time);
        other.down = true;
        ReleaseNotifier.Listener first = two.listen("k"); // subscribes on n1; n2 refuses
        other.down = false;
        time.advanceTimeBy(ReleaseNotifier.RESUBSCRIBE_INTERVAL);
        ReleaseNotifier.Listener next = two.listen("k"); // the channel is busy all along: a new waiter comes
        next.arm();
        boolean[] woken = new boolean[1];
        next.await(Duration.ofSeconds(10).toNanos()).subscribe(v -> {}, e -> {}, () -> woken[0] = true);
        other.publish("k"); // a release on n2
        time.advanceTime();
        assertThat(woken[0]).as("woken by n2's release").isTrue();
        first.close();
        next.close();
    }
}
