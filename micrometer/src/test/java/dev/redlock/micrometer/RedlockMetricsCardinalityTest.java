package dev.redlock.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redlock.LeaseLostException;
import dev.redlock.metrics.LockMetricsRecorder.AcquireOutcome;
import dev.redlock.metrics.LockMetricsRecorder.NodeReply;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Lock names can be unbounded; the meters they create cannot. */
class RedlockMetricsCardinalityTest {

    private static void workload(RedlockMetrics metrics, int keys) {
        for (int i = 0; i < keys; i++) {
            String name = "orders:" + i;
            metrics.acquireEnded(name, AcquireOutcome.ACQUIRED, Duration.ofMillis(1));
            metrics.leaseAcquired(name, Duration.ofSeconds(9));
            metrics.leaseRenewed(name, true);
            metrics.leaseReleased(name, Duration.ofMillis(5), true);
            metrics.leaseLost(name, LeaseLostException.Reason.EXPIRED);
            metrics.permitsHeld(name, 1);
            metrics.rateLimitDecided(name, i % 2 == 0);
            metrics.nodeReplied("127.0.0.1:" + (7000 + i % 5), "acquire", NodeReply.YES, Duration.ofMillis(1));
        }
    }

    @Test
    void withoutAGroupFunction100000KeysMakeOneGroup() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RedlockMetrics metrics = RedlockMetrics.builder(registry).build();
        workload(metrics, 100_000);
        assertThat(registry.getMeters().stream().map(m -> m.getId().getTag("lock.group")).filter(g -> g != null)
                .collect(Collectors.toSet())).containsExactly("all");
        // per group: acquire (1 outcome), held (2), validity, renewals (2), active, lost (1 reason), permits,
        // decisions (2); per node: up, breaker (4 states), held out, replies (1 script, 1 reply)
        assertThat(registry.getMeters()).as("meters of 1 group and 5 nodes").hasSize(11 + 5 * 7);
        assertThat(registry.get("redlock.acquire").tags("lock.group", "all", "outcome", "acquired").timer().count())
                .isEqualTo(100_000);
    }

    @Test
    void aGroupFunctionThatReturnsEveryKeyIsCappedAtMaxGroups() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RedlockMetrics metrics = RedlockMetrics.builder(registry).groupBy(name -> name).maxGroups(50).build();
        workload(metrics, 100_000);
        long groups = registry.getMeters().stream().map(m -> m.getId().getTag("lock.group")).filter(g -> g != null)
                .distinct().count();
        assertThat(groups).as("50 groups and 'other'").isEqualTo(51);
        assertThat(metrics.groupOf("orders:99999")).isEqualTo(RedlockMetrics.OTHER);
        assertThat(registry.getMeters().size()).as("bounded by groups x meters per group + node meters")
                .isBetween(51 * 10, 51 * 11 + 5 * 7);
        double acquired = registry.find("redlock.acquire").timers().stream().mapToDouble(t -> t.count()).sum();
        assertThat(acquired).as("nothing lost in the capping").isEqualTo(100_000);
    }

    @Test
    void aGroupFunctionThatFailsOrReturnsBlankGoesToOther() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RedlockMetrics metrics = RedlockMetrics.builder(registry).groupBy(name -> {
            if (name.startsWith("x")) {
                throw new IllegalStateException("bad");
            }
            return "";
        }).build();
        assertThat(metrics.groupOf("x1")).isEqualTo(RedlockMetrics.OTHER);
        assertThat(metrics.groupOf("y1")).isEqualTo(RedlockMetrics.OTHER);
    }

    @Test
    void badOptionsAreRefusedNamingTheValue() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        assertThatThrownBy(() -> RedlockMetrics.builder(registry).maxGroups(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got 0");
        assertThatThrownBy(() -> RedlockMetrics.builder(registry).serviceLevelObjectives(Duration.ofMillis(5),
                        Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("serviceLevelObjectives[1]")
                .hasMessageContaining("PT0S");
        assertThatThrownBy(() -> RedlockMetrics.builder(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("registry");
    }
}
