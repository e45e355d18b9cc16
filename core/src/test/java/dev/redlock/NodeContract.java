package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.redlock.internal.node.NodeChannel;
import dev.redlock.internal.script.LockScript;
import dev.redlock.internal.script.Script;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * What a node answers to each of the engine's {@link LockScript}s, run against every {@link NodeChannel} the tests
 * use: the in-memory {@link FakeNode} ({@code FakeNodeContractTest}, virtual time) and a {@code LettuceNode} on a
 * real redis-server ({@code LettuceNodeContractIT}). The fake's Java copy of the scripts cannot drift from the Lua
 * without one of the two failing.
 *
 * <p>A subclass gives the node and a side door to its data (what another client of the node would see), its clock,
 * and the passing of time.
 */
abstract class NodeContract {

    /** A long lease: it cannot run out during a test (on a real node time passes). */
    static final long LONG_MS = 60_000;
    /** Leases the tests let run out (on a real node, in real time: kept short). */
    static final long SHORT_MS = 100;
    /** The engine's largest renewal batch ({@code RenewalBatcher.MAX_BATCH}): a bit mask of 48 bits. */
    static final int MAX_BATCH = 48;

    /** The node under test, connected to an empty data set. */
    abstract NodeChannel node();

    /** Writes a string key without a TTL, as another client would. */
    abstract void setRaw(String key, String value);

    /** The key's value, {@code null} when there is none (or it expired). */
    abstract String getRaw(String key);

    /** {@code PTTL}: ms left, -1 for no TTL, -2 for no key. */
    abstract long pttlRaw(String key);

    /** The node's clock ({@code TIME}) in microseconds. */
    abstract long clockMicros();

    /** Returns once {@code key}, written with a lease of {@code leaseMs}, has expired on the node. */
    abstract void letExpire(String key, long leaseMs);

    /** Returns once {@code condition} holds (deliveries from the node are asynchronous on a real one). */
    void awaitUntil(java.util.concurrent.Callable<Boolean> condition) {
        await().atMost(Duration.ofSeconds(5)).until(condition);
    }

    // == running scripts ==

    final long eval(Script script, List<String> keys, String... args) {
        try {
            NodeChannel.NodeConnection connection = node().connect().toCompletableFuture().get(5, TimeUnit.SECONDS);
            return connection.eval(script, keys.toArray(String[]::new), args)
                    .toCompletableFuture()
                    .get(5, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException ? (RuntimeException) e.getCause() : new IllegalStateException(e.getCause());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    final long acquire(String key, String token, long leaseMs, boolean fencing) {
        return eval(LockScript.ACQUIRE, List.of(key, key + ":fence"), token, Long.toString(leaseMs), fencing ? "1" : "0");
    }

    final long release(String key, String token, String channel) {
        return eval(LockScript.RELEASE, List.of(key), token, channel);
    }

    final long extend(String key, String token, long leaseMs) {
        return eval(LockScript.EXTEND, List.of(key), token, Long.toString(leaseMs));
    }

    final long fence(String key, String token, long fence) {
        return eval(LockScript.FENCE, List.of(key, key + ":fence"), token, Long.toString(fence));
    }

    final long exists(String key) {
        return eval(LockScript.EXISTS, List.of(key));
    }

    final long maxLease(String key, long ms) {
        return eval(LockScript.MAX_LEASE, List.of(key), Long.toString(ms));
    }

    // == ACQUIRE ==

    @Test
    void acquireGrantsAFreeKeyWithTheTokenAndTheLease() {
        assertThat(acquire("lock:{a}", "t1", LONG_MS, false)).isZero();
        assertThat(getRaw("lock:{a}")).isEqualTo("t1");
        assertThat(pttlRaw("lock:{a}")).isBetween(LONG_MS - 5_000, LONG_MS);
        assertThat(getRaw("lock:{a}:fence")).as("no fencing: the counter is not touched").isNull();
    }

    @Test
    void acquireRefusesAHeldKeyWithMinusOneMinusItsPttlAndLeavesItAlone() {
        acquire("lock:{a}", "holder", 10_000, false);
        long reply = acquire("lock:{a}", "waiter", LONG_MS, false);
        assertThat(reply).isBetween(-1 - 10_000L, -1 - 5_000L);
        assertThat(getRaw("lock:{a}")).isEqualTo("holder");
        assertThat(pttlRaw("lock:{a}")).as("the holder's TTL, not the waiter's").isBetween(1L, 10_000L);
        // refused with fencing on too, and the counter is not read into the reply
        setRaw("lock:{a}:fence", "7");
        assertThat(acquire("lock:{a}", "waiter", LONG_MS, true)).isBetween(-1 - 10_000L, -1 - 5_000L);
    }

    @Test
    void acquireOfAKeyWithoutTtlAnswersNoExpiryAndLeavesItAlone() {
        setRaw("lock:{a}", "not a lease");
        assertThat(acquire("lock:{a}", "t1", LONG_MS, false)).isEqualTo(LockScript.NO_EXPIRY);
        assertThat(acquire("lock:{a}", "t1", LONG_MS, true)).isEqualTo(LockScript.NO_EXPIRY);
        assertThat(getRaw("lock:{a}")).isEqualTo("not a lease");
        assertThat(pttlRaw("lock:{a}")).isEqualTo(-1);
    }

    @Test
    void acquireWithFencingAnswersTheCounter() {
        setRaw("lock:{a}:fence", "41");
        assertThat(acquire("lock:{a}", "t1", LONG_MS, true)).isEqualTo(41);
        assertThat(getRaw("lock:{a}")).isEqualTo("t1");
        assertThat(getRaw("lock:{a}:fence")).as("read, not written").isEqualTo("41");
    }

    @Test
    void acquireWithFencingAndNoCounterAnswersTheNodesClockInMicroseconds() {
        long before = clockMicros();
        long reply = acquire("lock:{a}", "t1", LONG_MS, true);
        long after = clockMicros();
        assertThat(reply).isPositive().isBetween(before, after);
        assertThat(getRaw("lock:{a}:fence")).as("the clock floor is not stored").isNull();
    }

    @Test
    void anExpiredKeyIsFreeAgain() {
        acquire("lock:{a}", "old", SHORT_MS, false);
        letExpire("lock:{a}", SHORT_MS);
        assertThat(acquire("lock:{a}", "new", LONG_MS, false)).isZero();
        assertThat(getRaw("lock:{a}")).isEqualTo("new");
    }

    /** SET PX refuses a lease that is not positive: no node may store a lock key that never expires. */
    @Test
    void acquireWithALeaseThatIsNotPositiveIsAnErrorAndWritesNothing() {
        assertThatThrownBy(() -> acquire("lock:{a}", "t1", 0, false)).hasMessageContaining("invalid expire time");
        assertThatThrownBy(() -> acquire("lock:{a}", "t1", -5, false)).hasMessageContaining("invalid expire time");
        assertThat(getRaw("lock:{a}")).isNull();
    }

    // == RELEASE ==

    @Test
    void releaseDeletesTheOwnersKeyAndPublishesOnlyThen() throws Exception {
        AtomicInteger wrong = new AtomicInteger();
        AtomicInteger right = new AtomicInteger();
        node().subscribe("ch:wrong", wrong::incrementAndGet).toCompletableFuture().get(5, TimeUnit.SECONDS);
        node().subscribe("ch:right", right::incrementAndGet).toCompletableFuture().get(5, TimeUnit.SECONDS);

        acquire("lock:{a}", "holder", 10_000, false);
        assertThat(release("lock:{a}", "someone else", "ch:wrong")).as("another owner's key").isEqualTo(-1);
        assertThat(getRaw("lock:{a}")).isEqualTo("holder");
        assertThat(pttlRaw("lock:{a}")).isBetween(1L, 10_000L);
        assertThat(release("lock:{b}", "holder", "ch:wrong")).as("no key").isZero();
        assertThat(release("lock:{a}", "holder", "")).as("released, no channel").isEqualTo(1);
        assertThat(getRaw("lock:{a}")).isNull();
        acquire("lock:{a}", "holder", 10_000, false);
        assertThat(release("lock:{a}", "holder", "ch:right")).as("released").isEqualTo(1);
        assertThat(getRaw("lock:{a}")).isNull();
        assertThat(release("lock:{a}", "holder", "ch:wrong")).as("released twice").isZero();

        // one subscriber connection delivers a node's messages in order: any message on ch:wrong came before
        awaitUntil(() -> right.get() == 1);
        assertThat(wrong.get()).as("messages after a release that deleted nothing").isZero();
    }

    @Test
    void releaseOfAnExpiredKeyAnswersNoKey() {
        acquire("lock:{a}", "holder", SHORT_MS, false);
        letExpire("lock:{a}", SHORT_MS);
        assertThat(release("lock:{a}", "holder", "")).isZero();
    }

    // == EXTEND ==

    @Test
    void extendRenewsOnlyTheOwnersKey() {
        acquire("lock:{a}", "holder", 10_000, false);
        assertThat(extend("lock:{a}", "someone else", LONG_MS)).isEqualTo(-1);
        assertThat(pttlRaw("lock:{a}")).as("not renewed").isBetween(1L, 10_000L);
        assertThat(getRaw("lock:{a}")).isEqualTo("holder");

        assertThat(extend("lock:{a}", "holder", LONG_MS)).isEqualTo(1);
        assertThat(pttlRaw("lock:{a}")).isBetween(10_001L, LONG_MS);
        assertThat(getRaw("lock:{a}")).isEqualTo("holder");
    }

    @Test
    void extendNeverRecreatesAnExpiredKey() {
        acquire("lock:{a}", "holder", SHORT_MS, false);
        letExpire("lock:{a}", SHORT_MS);
        assertThat(extend("lock:{a}", "holder", LONG_MS)).isZero();
        assertThat(getRaw("lock:{a}")).isNull();
        assertThat(extend("lock:{never}", "holder", LONG_MS)).isZero();
        assertThat(pttlRaw("lock:{never}")).isEqualTo(-2);
    }

    // == EXTEND_BATCH ==

    @Test
    void extendBatchAnswersABitPerRenewedKey() {
        acquire("lock:{a}", "ta", 10_000, false);
        acquire("lock:{b}", "other", 10_000, false); // not ours
        // lock:{c}: no key
        acquire("lock:{d}", "td", 10_000, false);
        long mask = eval(LockScript.EXTEND_BATCH, List.of("lock:{a}", "lock:{b}", "lock:{c}", "lock:{d}"),
                "ta", Long.toString(LONG_MS), "tb", Long.toString(LONG_MS), "tc", Long.toString(LONG_MS),
                "td", Long.toString(LONG_MS));
        assertThat(mask).isEqualTo(0b1001);
        assertThat(pttlRaw("lock:{a}")).isBetween(10_001L, LONG_MS);
        assertThat(pttlRaw("lock:{b}")).isBetween(1L, 10_000L);
        assertThat(getRaw("lock:{b}")).isEqualTo("other");
        assertThat(pttlRaw("lock:{c}")).as("never created").isEqualTo(-2);
        assertThat(pttlRaw("lock:{d}")).isBetween(10_001L, LONG_MS);
    }

    @Test
    void extendBatchOfTheLargestBatchUsesAllItsBits() {
        List<String> keys = new ArrayList<>();
        List<String> args = new ArrayList<>();
        long expected = 0;
        for (int i = 0; i < MAX_BATCH; i++) {
            String key = "lock:{k" + i + "}";
            keys.add(key);
            args.add("t" + i);
            args.add(Long.toString(LONG_MS));
            // every third key is taken by someone else; the highest bit is one of ours
            boolean ours = i % 3 != 1;
            acquire(key, ours ? "t" + i : "other", 10_000, false);
            if (ours) {
                expected |= 1L << i;
            }
        }
        assertThat(expected >>> (MAX_BATCH - 1)).isEqualTo(1);
        assertThat(eval(LockScript.EXTEND_BATCH, keys, args.toArray(String[]::new))).isEqualTo(expected);
    }

    @Test
    void extendBatchNeverRecreatesAnExpiredKey() {
        acquire("lock:{a}", "ta", SHORT_MS, false);
        letExpire("lock:{a}", SHORT_MS);
        assertThat(eval(LockScript.EXTEND_BATCH, List.of("lock:{a}"), "ta", Long.toString(LONG_MS))).isZero();
        assertThat(pttlRaw("lock:{a}")).isEqualTo(-2);
    }

    // == FENCE ==

    @Test
    void fenceRaisesTheCounterWhileTheKeyHoldsTheToken() {
        acquire("lock:{a}", "holder", LONG_MS, true);
        assertThat(fence("lock:{a}", "holder", 100)).isEqualTo(1);
        assertThat(getRaw("lock:{a}:fence")).isEqualTo("100");
        assertThat(pttlRaw("lock:{a}:fence")).as("the counter outlives leases").isEqualTo(-1);

        assertThat(fence("lock:{a}", "holder", 50)).as("lower: accepted, not written").isEqualTo(1);
        assertThat(getRaw("lock:{a}:fence")).isEqualTo("100");
        assertThat(fence("lock:{a}", "holder", 100)).isEqualTo(1);
        assertThat(getRaw("lock:{a}:fence")).isEqualTo("100");
        assertThat(fence("lock:{a}", "holder", 101)).isEqualTo(1);
        assertThat(getRaw("lock:{a}:fence")).isEqualTo("101");
        // a clock floor's size (microseconds since 1970) is written and read back exactly
        long floor = 1_700_000_000_000_000L;
        assertThat(fence("lock:{a}", "holder", floor)).isEqualTo(1);
        assertThat(getRaw("lock:{a}:fence")).isEqualTo(Long.toString(floor));
        release("lock:{a}", "holder", "");
        assertThat(acquire("lock:{a}", "next", LONG_MS, true)).isEqualTo(floor);
    }

    @Test
    void fenceWritesNothingWhenTheKeyIsGoneOrTaken() {
        assertThat(fence("lock:{a}", "holder", 100)).as("no key").isZero();
        assertThat(getRaw("lock:{a}:fence")).isNull();

        acquire("lock:{a}", "other", LONG_MS, false);
        assertThat(fence("lock:{a}", "holder", 100)).as("another owner's key").isZero();
        assertThat(getRaw("lock:{a}:fence")).isNull();

        setRaw("lock:{a}:fence", "5");
        assertThat(fence("lock:{a}", "holder", 100)).isZero();
        assertThat(getRaw("lock:{a}:fence")).isEqualTo("5");
    }

    @Test
    void fenceAfterTheLeaseExpiredWritesNothing() {
        acquire("lock:{a}", "holder", SHORT_MS, true);
        letExpire("lock:{a}", SHORT_MS);
        assertThat(fence("lock:{a}", "holder", 100)).isZero();
        assertThat(getRaw("lock:{a}:fence")).isNull();
    }

    // == EXISTS, PING ==

    @Test
    void existsAnswersOneForALiveKeyAndZeroOtherwise() {
        assertThat(exists("lock:{a}")).isZero();
        acquire("lock:{a}", "holder", SHORT_MS, false);
        assertThat(exists("lock:{a}")).isEqualTo(1);
        letExpire("lock:{a}", SHORT_MS);
        assertThat(exists("lock:{a}")).isZero();
        setRaw("lock:{b}", "anything");
        assertThat(exists("lock:{b}")).isEqualTo(1);
    }

    @Test
    void pingAnswersOne() {
        assertThat(eval(LockScript.PING, List.of())).isEqualTo(1);
    }

    // == MAX_LEASE ==

    @Test
    void maxLeaseRaisesTheRecordAndNeverLowersIt() {
        String record = "lock:max-lease-ms";
        assertThat(maxLease(record, 30_000)).as("no record yet").isEqualTo(30_000);
        assertThat(getRaw(record)).isEqualTo("30000");
        assertThat(pttlRaw(record)).isEqualTo(-1);
        assertThat(maxLease(record, 10_000)).as("lower: the record stays").isEqualTo(30_000);
        assertThat(getRaw(record)).isEqualTo("30000");
        assertThat(maxLease(record, 30_000)).isEqualTo(30_000);
        assertThat(maxLease(record, 86_400_000)).as("higher: raised").isEqualTo(86_400_000);
        assertThat(getRaw(record)).isEqualTo("86400000");
    }
}
