package dev.redlock.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ReleaseQueueTest {

    @Test
    void itemIsDueAfterItsDelay() {
        ReleaseQueue<String> queue = new ReleaseQueue<>();
        assertThat(queue.offer("a", 1_000, 200)).isEqualTo(1_200);
        assertThat(queue.nextReleaseAt()).isEqualTo(1_200);
        assertThat(queue.pollDue(1_199)).isNull();
        assertThat(queue.pollDue(1_200)).isEqualTo("a");
        assertThat(queue.isEmpty()).isTrue();
        assertThat(queue.pollDue(5_000)).isNull();
    }

    @Test
    void shorterDelayNeverOvertakesAnEarlierItem() {
        ReleaseQueue<String> queue = new ReleaseQueue<>();
        queue.offer("slow", 0, 1_000);
        assertThat(queue.offer("fast", 10, 0)).isEqualTo(1_000); // held behind "slow"
        assertThat(queue.offer("later", 2_000, 5)).isEqualTo(2_005); // nothing ahead of it any more
        assertThat(queue.pollDue(999)).isNull();
        assertThat(queue.pollDue(1_000)).isEqualTo("slow");
        assertThat(queue.pollDue(1_000)).isEqualTo("fast");
        assertThat(queue.pollDue(1_000)).isNull();
        assertThat(queue.pollDue(2_005)).isEqualTo("later");
    }

    @Test
    void randomJitterKeepsFifoOrderAndNonDecreasingReleaseTimes() {
        ReleaseQueue<Integer> queue = new ReleaseQueue<>();
        Random random = new Random(42);
        long now = 0;
        long previous = Long.MIN_VALUE;
        for (int i = 0; i < 10_000; i++) {
            now += random.nextInt(3);
            long delay = 1_000 + random.nextInt(5_000);
            long at = queue.offer(i, now, delay);
            assertThat(at).isGreaterThanOrEqualTo(now + delay).isGreaterThanOrEqualTo(previous);
            previous = at;
        }
        List<Integer> out = new ArrayList<>();
        for (long t = 0; !queue.isEmpty(); t += 7) {
            Integer item;
            while ((item = queue.pollDue(t)) != null) {
                out.add(item);
            }
        }
        assertThat(out).hasSize(10_000).isSorted();
    }

    @Test
    void worksAcrossNanoTimeWrapAround() {
        ReleaseQueue<String> queue = new ReleaseQueue<>();
        long now = Long.MAX_VALUE - 10;
        long at = queue.offer("a", now, 100); // wraps to a negative value
        assertThat(at).isNegative();
        assertThat(queue.offer("b", now + 1, 0)).isEqualTo(at);
        assertThat(queue.pollDue(now + 50)).isNull();
        assertThat(queue.pollDue(now + 100)).isEqualTo("a");
        assertThat(queue.pollDue(now + 100)).isEqualTo("b");
    }

    @Test
    void releaseAllNowMakesEverythingDueInOrder() {
        ReleaseQueue<String> queue = new ReleaseQueue<>();
        queue.offer("a", 0, 10_000);
        queue.offer("b", 0, 20_000);
        queue.releaseAllNow(50);
        assertThat(queue.pollDue(50)).isEqualTo("a");
        assertThat(queue.pollDue(50)).isEqualTo("b");
        assertThat(queue.offer("c", 60, 0)).isEqualTo(60); // not held behind the old release times
    }

    @Test
    void pollIgnoresReleaseTimesAndEmptyQueueHasNoNextReleaseTime() {
        ReleaseQueue<String> queue = new ReleaseQueue<>();
        assertThat(queue.poll()).isNull();
        assertThatThrownBy(queue::nextReleaseAt).isInstanceOf(NoSuchElementException.class);
        assertThatThrownBy(() -> queue.offer("x", 0, -1)).isInstanceOf(IllegalArgumentException.class);
        queue.offer("a", 0, 1_000_000);
        assertThat(queue.size()).isEqualTo(1);
        assertThat(queue.poll()).isEqualTo("a");
    }
}
