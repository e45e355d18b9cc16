package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.scheduler.VirtualTimeScheduler;

/** Every bad argument fails at call time with an {@link IllegalArgumentException} naming it, before any I/O. */
class ArgumentValidationTest {

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final FakeCluster cluster = new FakeCluster(3, vts);
    private final DefaultReactiveRedLock lock = cluster.client(LockOptions.defaults());

    @AfterEach
    void noIoHappened() {
        assertThat(cluster.commands()).as("commands sent to nodes").isZero();
    }

    private static void rejects(Executable call, String... messageParts) {
        assertThatThrownBy(call::execute).isInstanceOf(IllegalArgumentException.class).hasMessageContainingAll(messageParts);
    }

    @Test
    void keys() {
        rejects(() -> lock.acquire(null), "key must not be null");
        rejects(() -> lock.acquire(""), "key must not be blank");
        rejects(() -> lock.acquire("   "), "key must not be blank", "'   '");
        rejects(() -> lock.acquire("a\nb"), "control characters");
        rejects(() -> lock.acquire("x".repeat(600)), "at most 512 bytes", "600");
        rejects(() -> lock.tryAcquire(null), "key");
        rejects(() -> lock.isLocked(""), "key");
        rejects(() -> lock.withLock(null, Mono.just(1)), "key");
        rejects(() -> lock.withLock(" ", Flux.just(1)), "key");
        rejects(() -> lock.withLock("", lease -> Flux.empty()), "key");
        rejects(() -> lock.withLockMono("", lease -> Mono.empty()), "key");
    }

    @Test
    void bodiesAndOptions() {
        rejects(() -> lock.withLock("k", (Mono<Object>) null), "body must not be null");
        rejects(() -> lock.withLock("k", (Flux<Object>) null), "body must not be null");
        rejects(() -> lock.withLock("k", LockOptions.defaults(), (java.util.function.Function<Lease, Flux<Object>>) null),
                "body must not be null");
        rejects(() -> lock.acquire("k", null), "options must not be null");
        LockOptions tooLong = LockOptions.builder().leaseTime(Duration.ofMinutes(5)).build();
        rejects(() -> lock.acquire("k", tooLong), "leaseTime PT5M exceeds", "maxLeaseTime PT1M");
    }

    @Test
    void durations() {
        rejects(() -> LockOptions.builder().leaseTime(Duration.ZERO), "leaseTime must be positive, got PT0S");
        rejects(() -> LockOptions.builder().leaseTime(Duration.ofSeconds(-1)), "leaseTime must be positive");
        rejects(() -> LockOptions.builder().leaseTime(null), "leaseTime must not be null");
        rejects(() -> LockOptions.builder().leaseTime(Duration.ofDays(3)), "at most PT24H", "PT72H");
        rejects(() -> LockOptions.builder().leaseTime(Duration.ofNanos(1_500_000)), "whole number of milliseconds");
        rejects(() -> LockOptions.builder().maxWait(Duration.ofMillis(-5)), "maxWait must not be negative");
        rejects(() -> LockOptions.builder().nodeTimeout(Duration.ZERO), "nodeTimeout must be positive");
        rejects(() -> LockOptions.builder().maxHoldTime(Duration.ZERO), "maxHoldTime must be positive");
        rejects(() -> LockOptions.builder().clockDriftFactor(0.5), "clockDriftFactor must be in [0, 0.5), got 0.5");
        rejects(() -> LockOptions.builder().clockDriftFactor(-0.1), "clockDriftFactor");
        rejects(() -> LockOptions.builder().clockDriftFactor(Double.NaN), "clockDriftFactor");
        rejects(() -> LockOptions.builder().renewalRatio(0), "renewalRatio must be in (0, 0.9], got 0.0");
        rejects(() -> LockOptions.builder().renewalRatio(1.5), "renewalRatio");
        rejects(() -> LockOptions.builder().backoff(null), "backoff must not be null");
        rejects(() -> LockOptions.builder().leaseTime(Duration.ofMillis(100)).nodeTimeout(Duration.ofMillis(100)).build(),
                "nodeTimeout (PT0.1S) plus clock drift", "leaseTime (PT0.1S)");
        rejects(() -> Backoff.exponential(Duration.ofMillis(10), Duration.ofMillis(5)), "max must not be below min");
        rejects(() -> Backoff.constant(Duration.ofMillis(-1)), "delay must not be negative");
        Lease lease = lock.acquire("k").block();
        cluster.nodes.forEach(n -> n.commands.set(0));
        rejects(() -> lease.extend(Duration.ZERO), "leaseTime must be positive");
        rejects(() -> lease.extend(Duration.ofMinutes(2)), "exceeds this client's maxLeaseTime");
    }

    @Test
    void nodesAndClient() {
        rejects(() -> ReactiveRedLock.builder().build(), "at least one node");
        rejects(() -> ReactiveRedLock.builder().nodes("redis://a:1", "redis://b:1").build(), "must be odd", "got 2");
        rejects(() -> ReactiveRedLock.builder().nodes("redis://a:1", "redis://a:1", "redis://b:1").build(),
                "a:1 is listed twice");
        rejects(() -> ReactiveRedLock.builder().nodes("http://a:1"), "must start with redis:// or rediss://");
        rejects(() -> ReactiveRedLock.builder().nodes((String) null), "node URI must not be null or blank");
        rejects(() -> ReactiveRedLock.builder().nodes(""), "node URI must not be null or blank");
        rejects(() -> ReactiveRedLock.builder().nodes((List<RedisNode>) null), "nodes must not be null");
        rejects(() -> ReactiveRedLock.builder().keyPrefix(null), "keyPrefix must not be null");
        rejects(() -> ReactiveRedLock.builder().keyPrefix("a\tb"), "keyPrefix must not contain control characters");
        rejects(() -> ReactiveRedLock.builder().scheduler(null), "scheduler must not be null");
        rejects(() -> ReactiveRedLock.builder().maxLeaseTime(Duration.ZERO), "maxLeaseTime must be positive");
        rejects(() -> ReactiveRedLock.builder().restartGuard(null), "restartGuard must not be null");
        rejects(() -> ReactiveRedLock.builder().sslOptions(null), "sslOptions must not be null");
        rejects(() -> ReactiveRedLock.builder()
                        .nodes("redis://a:1")
                        .maxLeaseTime(Duration.ofSeconds(10))
                        .defaults(LockOptions.defaults())
                        .build(),
                "default leaseTime PT30S exceeds maxLeaseTime PT10S");
    }

    @Test
    void credentialsNeverAppearInMessagesOrNames() {
        RedisNode node = RedisNode.of("redis://user:s3cret@10.0.0.1:6380");
        assertThat(node.name()).isEqualTo("10.0.0.1:6380");
        assertThat(node.toString()).doesNotContain("s3cret");
        assertThatThrownBy(() -> RedisNode.of("http://user:s3cret@10.0.0.1:6380"))
                .hasMessageNotContaining("s3cret");
        assertThat(RedisNode.of("rediss://10.0.0.1:6380").tls()).isTrue();
    }

    @Test
    void goodArgumentsAreAccepted() {
        assertThatCode(() -> LockOptions.builder()
                        .leaseTime(Duration.ofMillis(50))
                        .nodeTimeout(Duration.ofMillis(10))
                        .maxWait(Duration.ZERO)
                        .clockDriftFactor(0)
                        .renewalRatio(0.9)
                        .build())
                .doesNotThrowAnyException();
        assertThatCode(() -> ReactiveRedLock.builder().nodes("redis://a:1").keyPrefix("").build())
                .doesNotThrowAnyException();
    }
}
