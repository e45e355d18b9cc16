package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.redlock.internal.Checks;
import dev.redlock.internal.lock.LockClient;
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
    private final LockClient lock = cluster.client(LockOptions.defaults());

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
        // an unpaired surrogate has no UTF-8 form: the encoder writes '?', so "a\uD800" and "a\uDBFF" would be one key
        rejects(() -> lock.acquire("a\uD800"), "well-formed UTF-16", "unpaired surrogate U+D800 at index 1");
        rejects(() -> lock.acquire("a\uDBFFb"), "unpaired surrogate U+DBFF at index 1");
        rejects(() -> lock.tryAcquire("ab\uDC00"), "unpaired surrogate U+DC00 at index 2");
        rejects(() -> lock.isLocked("\uDFFF\uD83D"), "at index 0"); // a low surrogate before its high one
        rejects(() -> lock.withLock("x\uD83D\uD83D\uDD12", Mono.just(1)), "unpaired surrogate U+D83D at index 1");
        assertThatCode(() -> Checks.key("\uD83D\uDD12 orders:42")).as("a surrogate pair").doesNotThrowAnyException();
    }

    @Test
    void semaphores() {
        rejects(() -> lock.semaphore(null, 1), "name must not be null");
        rejects(() -> lock.semaphore(" ", 1), "name must not be blank");
        rejects(() -> lock.semaphore("s", 0), "permits must be between 1 and 4096, got 0", "'s'");
        rejects(() -> lock.semaphore("s", -3), "got -3");
        rejects(() -> lock.semaphore("s", 4097), "got 4097");
        dev.redlock.semaphore.RedSemaphore s = lock.semaphore("s", 3);
        rejects(() -> s.acquire(0), "n must be between 1 and the semaphore's permits (3), got 0");
        rejects(() -> s.acquire(-1), "got -1");
        rejects(() -> s.tryAcquire(4), "got 4");
        rejects(() -> s.withPermits(4, Mono.just(1)), "got 4");
        rejects(() -> s.withPermits(0, Flux.just(1)), "got 0");
        rejects(() -> s.withPermits(1, (Mono<Object>) null), "body must not be null");
        rejects(() -> s.withPermitsMono(1, null), "body must not be null");
        rejects(() -> s.withOptions(LockOptions.builder().fencing(true).build()), "fencing");
        rejects(() -> s.withOptions(LockOptions.builder().leaseTime(Duration.ofDays(1)).build()), "maxLeaseTime");
        assertThat(s.permits()).isEqualTo(3);
        assertThat(s.name()).isEqualTo("s");
    }

    @Test
    void modesPathsAndMultiKeyLocks() {
        rejects(() -> lock.readWriteLock(null), "name must not be null");
        rejects(() -> lock.readWriteLock(""), "name must not be blank");
        rejects(() -> lock.readWriteLock("p").withOptions(LockOptions.builder().fencing(true).build()), "fencing");
        rejects(() -> lock.readWriteLock("p").readLock().withOptions(LockOptions.builder().fencing(true).build()),
                "fencing");
        rejects(() -> lock.readWriteLock("p").withOptions(LockOptions.builder().leaseTime(Duration.ofDays(1)).build()),
                "maxLeaseTime");
        rejects(() -> lock.readWriteLock("p").withReadLock(null), "body must not be null");
        rejects(() -> lock.hierarchicalLock(null), "path must not be null");
        rejects(() -> lock.hierarchicalLock("a//b"), "path 'a//b' has an empty segment (number 2)");
        rejects(() -> lock.hierarchicalLock("a/b/"), "empty segment (number 3)");
        rejects(() -> lock.hierarchicalLock("a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q"), "deeper than 16 segments");
        rejects(() -> lock.hierarchicalLock("a").lock(null), "mode must not be null");
        rejects(() -> lock.hierarchicalLock("a").lock(dev.redlock.rw.LockMode.INTENTION_SHARED), "intention mode");
        rejects(() -> lock.hierarchicalLock("a").child(""), "segment must be non-empty");
        rejects(() -> lock.multiLock((java.util.Collection<String>) null), "keys must not be null");
        rejects(() -> lock.multiLock(), "1 to 64 distinct keys, got 0");
        rejects(() -> lock.multiLock("a", null), "each key must not be null");
        rejects(() -> lock.multiLock("a").withOptions(LockOptions.builder().fencing(true).build()), "fencing");
        assertThat(lock.hierarchicalLock("a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p").segments()).hasSize(16);
        assertThat(lock.multiLock("b", "a", "b").name()).isEqualTo("a,b");
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
        rejects(() -> ReactiveRedLock.builder().keyPrefix("app\uD800:"), "keyPrefix must be well-formed UTF-16", "index 3");
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
    void malformedNodeUris() {
        rejects(() -> RedisNode.of("redis://127.0.0.1:notaport"),
                "node URI 'redis://127.0.0.1:notaport' is malformed", "port 'notaport' is not a number from 1 to 65535");
        rejects(() -> RedisNode.of("redis://127.0.0.1:-1"), "port '-1' is not a number from 1 to 65535");
        rejects(() -> RedisNode.of("redis://127.0.0.1:+6379"), "port '+6379' is not a number");
        rejects(() -> RedisNode.of("redis://127.0.0.1:0"), "port 0 is out of range 1 to 65535");
        rejects(() -> RedisNode.of("redis://127.0.0.1:65536"), "port 65536 is out of range");
        rejects(() -> RedisNode.of("redis://127.0.0.1:99999999999"), "port 99999999999 is out of range");
        rejects(() -> RedisNode.of("redis://127.0.0.1:"), "'redis://127.0.0.1:'", "the port is empty");
        rejects(() -> RedisNode.of("redis://h:6379:6380"), "'redis://h:6379:6380'", "more than one port");
        rejects(() -> RedisNode.of("redis://[::1]:6379:6380"), "more than one port");
        rejects(() -> RedisNode.of("redis://h:6379abc"), "unexpected 'abc' after the port");
        rejects(() -> RedisNode.of("redis://[::1]x:6379"), "unexpected 'x:6379' after the host");
        rejects(() -> RedisNode.of("redis://:6379"), "no host");
        rejects(() -> RedisNode.of("redis://"), "'redis://' is malformed");
        rejects(() -> RedisNode.of("rediss://:s3cret@"), "no host");
        rejects(() -> RedisNode.of("redis://h!:6379"), "host 'h!' is not a valid host name or IP address");
        rejects(() -> RedisNode.of("redis://h:6379/x"), "the path must be empty or /<database number>");
        rejects(() -> RedisNode.of("redis://h:6379#x"), "unexpected '#' fragment");
        rejects(() -> RedisNode.of("redis://h:6379 x"), "unexpected ' x' after the port");
        rejects(() -> RedisNode.of("redis://h:6379/ x"), "illegal character in path at index 15");
        rejects(() -> RedisNode.of("redis://h:6379?foo=1"), "unknown query parameter 'foo'");
        rejects(() -> RedisNode.of("redis://h:6379?verifyPeer"), "query parameter 'verifyPeer' has no value");
        rejects(() -> RedisNode.of("redis://h:6379?verifyPeer=maybe"), "verifyPeer must be one of");
        rejects(() -> RedisNode.of("redis://h:6379?database=x"), "database must be a number");
        rejects(() -> ReactiveRedLock.builder().nodes("redis://a:1", "redis://b:two", "redis://c:3"), "port 'two'");
    }

    @Test
    void wellFormedNodeUrisAreAccepted() {
        assertThat(RedisNode.of("redis://h").name()).isEqualTo("h:6379");
        assertThat(RedisNode.of(" redis://h:6380 ").name()).isEqualTo("h:6380");
        assertThat(RedisNode.of("redis://h:65535/").name()).isEqualTo("h:65535");
        assertThat(RedisNode.of("redis://10.0.0.1:1").name()).isEqualTo("10.0.0.1:1");
        assertThat(RedisNode.of("redis://redis-1.example.com:6380").name()).isEqualTo("redis-1.example.com:6380");
        assertThat(RedisNode.of("redis://redis_1:6380").name()).as("a container name").isEqualTo("redis_1:6380");
        assertThat(RedisNode.of("redis://[::1]:6380").name()).isEqualTo("[::1]:6380");
        assertThat(RedisNode.of("redis://[::1]").name()).isEqualTo("[::1]:6379");
        RedisNode tls = RedisNode.of("rediss://h:6380?verifyPeer=CA");
        assertThat(tls.tls()).isTrue();
        assertThat(tls.uri().getVerifyMode()).isEqualTo(io.lettuce.core.SslVerifyMode.CA);
        RedisNode withDatabase = RedisNode.of("redis://h:6380/2?timeout=5s&clientName=locker@eu");
        assertThat(withDatabase.uri().getDatabase()).isEqualTo(2);
        assertThat(withDatabase.uri().getClientName()).isEqualTo("locker@eu");
        assertThat(RedisNode.of("redis://h?db=3").uri().getDatabase()).isEqualTo(3);

        RedisNode password = RedisNode.of("redis://:s3cret@h:6380");
        assertThat(password.name()).isEqualTo("h:6380");
        assertThat(credentials(password).getPassword()).containsExactly("s3cret".toCharArray());
        RedisNode bare = RedisNode.of("redis://s3cret@h:6380"); // no colon: a password, as Lettuce reads it
        assertThat(credentials(bare).getUsername()).isNull();
        assertThat(credentials(bare).getPassword()).containsExactly("s3cret".toCharArray());
        RedisNode acl = RedisNode.of("redis://user:s3cret@h:6380");
        assertThat(credentials(acl).getUsername()).isEqualTo("user");
        assertThat(credentials(acl).getPassword()).containsExactly("s3cret".toCharArray());
        RedisNode encoded = RedisNode.of("redis://user:p%40ss%2Fw%3Fr%23d@h:6380");
        assertThat(encoded.name()).isEqualTo("h:6380");
        assertThat(credentials(encoded).getPassword()).containsExactly("p@ss/w?r#d".toCharArray());
        RedisNode ipv6 = RedisNode.of("rediss://user:s3cret@[::1]:6380");
        assertThat(ipv6.name()).isEqualTo("[::1]:6380");
        assertThat(credentials(ipv6).getPassword()).containsExactly("s3cret".toCharArray());
        assertThat(RedisNode.of("redis://:s3cret@[::1]").name()).isEqualTo("[::1]:6379");
    }

    private static io.lettuce.core.RedisCredentials credentials(RedisNode node) {
        return node.uri().getCredentialsProvider().resolveCredentials().block();
    }

    @Test
    void malformedNodeUrisNeverShowTheirCredentials() {
        // the user name is treated as a secret too; the password is split where a bad URI may split it
        List<String> uris = List.of(
                "redis://Usr9:Pw0rdXyzzy@10.0.0.1:notaport",
                "redis://:Pw0rdXyzzy@10.0.0.1:6379:6380",
                "redis://Usr9:Pw0rdXyzzy@10.0.0.1:0",
                "redis://Usr9:Pw0rdXyzzy@:6379",
                "redis://Usr9:Pw0rd Xyzzy@10.0.0.1:6379",
                "redis://Usr9:Pw0rdXyzzy@10.0.0.1:6379 x",
                "redis://Usr9:Pw0rd%zzXyzzy@10.0.0.1",
                "redis://Usr9:Pw0rd@Xyzzy@10.0.0.1:6379",
                "redis://Usr9:Pw0rd/Xyzzy@10.0.0.1:6379",
                "redis://Usr9:Pw0rd#Xyzzy@10.0.0.1:6379",
                "redis://Usr9:Pw0rd?Xyzzy@10.0.0.1:6379",
                "redis://Usr9:Pw0rd:Xyzzy@10.0.0.1:6379/x",
                "redis://Usr9:Pw0rdXyzzy@[::1]:x",
                "redis://Usr9:Pw0rdXyzzy@[::1",
                "redis://Usr9:Pw0rdXyzzy@[::g]:6379",
                "redis://:Pw0rdXyzzy@[::1]:6379:6380",
                "rediss://Usr9:Pw0rdXyzzy@[::1]:70000",
                "redis://Usr9:Pw0rdXyzzy@[::1]:6379?verifyPeer=maybe",
                "Usr9:Pw0rdXyzzy@10.0.0.1:6379",
                "http://Usr9:Pw0rdXyzzy@[::1]:6379");
        for (String uri : uris) {
            Throwable error = catchThrowable(() -> RedisNode.of(uri));
            assertThat(error).as(uri).isInstanceOf(IllegalArgumentException.class);
            for (Throwable t = error; t != null; t = t.getCause()) {
                assertThat(String.valueOf(t.getMessage())).as("message of %s for %s", t, uri)
                        .doesNotContain("Pw0rd", "Xyzzy", "Usr9");
            }
        }
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
