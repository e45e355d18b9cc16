package dev.redlock.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.Lease;
import dev.redlock.LeaseLostException;
import dev.redlock.LockOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;

/**
 * The checker on hand-made histories: each check must find what it is built to find (and nothing else), so a
 * chaos run's "0 violations" means something. Times are in arbitrary nanosecond units.
 */
class CheckerTest {

    /** Builds a history by hand. */
    private static final class H {
        final List<Event> events = new ArrayList<>();
        private long seq;

        private Event add(Event e, long t) {
            e.t = t;
            e.seq = ++seq;
            events.add(e);
            return e;
        }

        H acquire(long op, int client, String key, long tInvoke) {
            add(Event.of(Event.INVOKE, Event.ACQUIRE, op).client(client).key(key), tInvoke);
            return this;
        }

        H granted(long op, int client, String key, long t, long deadline, long oracle, Long fence) {
            add(Event.of(Event.OK, Event.ACQUIRE, op).client(client).key(key).tok("tok" + op).deadline(deadline)
                    .oracle(oracle).fence(fence).granted(3), t);
            return this;
        }

        H acquireDone(String type, long op, int client, String key, long t) {
            add(Event.of(type, Event.ACQUIRE, op).client(client).key(key).value("QuorumUnavailableException"), t);
            return this;
        }

        H read(long op, String key, long t, long rv) {
            add(Event.of(Event.INVOKE, Event.WRITE, op).key(key).tok("tok" + op).rv(rv), t);
            return this;
        }

        H wrote(long op, String key, long t, long rv, long nv, boolean accepted, long oracle, long deadline) {
            add(Event.of(accepted ? Event.OK : Event.FAIL, Event.WRITE, op).key(key).tok("tok" + op).rv(rv).nv(nv)
                    .accepted(accepted).oracle(oracle).deadline(deadline), t);
            return this;
        }

        H releaseInvoke(long op, String key, long t, long deadline) {
            add(Event.of(Event.INVOKE, Event.RELEASE, op).key(key).deadline(deadline), t);
            return this;
        }

        H extend(String type, long op, String key, long t, long deadline) {
            add(Event.of(type, Event.EXTEND, op).key(key).tok("tok" + op).deadline(deadline), t);
            return this;
        }

        H closed(long op, String key, long t) {
            add(Event.of(Event.FAIL, Event.RELEASE, op).key(key).value("LeaseLostException CLIENT_CLOSED"), t);
            return this;
        }

        H released(long op, String key, long t) {
            add(Event.of(Event.OK, Event.RELEASE, op).key(key), t);
            return this;
        }

        H lost(long op, String key, long t) {
            add(Event.of(Event.FAIL, Event.RELEASE, op).key(key).value("LeaseLostException RENEWAL_FAILED"), t);
            return this;
        }

        /** A whole, well-behaved critical section: granted, one accepted write, released. */
        H section(long op, int client, String key, long start, long end, long rv, long nv) {
            return acquire(op, client, key, start - 5)
                    .granted(op, client, key, start, start + 1_000, op, op)
                    .read(op, key, start + 1, rv)
                    .wrote(op, key, start + 2, rv, nv, true, op, start + 1_000)
                    .releaseInvoke(op, key, end, start + 1_000)
                    .released(op, key, end + 5);
        }

        /** A semaphore operation of {@code n} permits of {@code limit}: granted at start, released at end. */
        H permits(long op, int client, String name, int n, int limit, long start, long end, long deadline) {
            add(Event.of(Event.INVOKE, Event.ACQUIRE, op).client(client).key(name).permits(n, limit), start - 5);
            add(Event.of(Event.OK, Event.ACQUIRE, op).client(client).key(name).tok("tok" + op).deadline(deadline)
                    .permits(n, limit).granted(3), start);
            releaseInvoke(op, name, end, deadline);
            return released(op, name, end + 5);
        }

        /**
         * An operation on a lock with modes whose lease holds {@code holds} ({@link Checker#holds}), granted at
         * {@code start} with the deadline 5,000, released at {@code end}; its section writes nothing.
         */
        H moded(long op, int client, String key, String holds, long start, long end) {
            add(Event.of(Event.INVOKE, Event.ACQUIRE, op).client(client).key(key).holds(holds), start - 5);
            granted(op, client, key, start, 5_000, op, null);
            releaseInvoke(op, key, end, 5_000);
            return released(op, key, end + 5);
        }

        /** {@link #moded} on the read-write lock {@code name} in {@code mode} (S or X). */
        H rw(long op, int client, String name, String mode, long start, long end) {
            return moded(op, client, name, Checker.holds(name, mode), start, end);
        }

        /** {@link #moded} on the hierarchical lock of {@code path} in {@code mode}. */
        H path(long op, int client, String path, String mode, long start, long end) {
            return moded(op, client, path, Checker.pathHolds(path, mode), start, end);
        }

        /** A fair lock's waiter of {@code priority} (heartbeat timeout and lease time 1 s) invoked at {@code t}. */
        H waiter(long op, int client, String key, int priority, long t) {
            add(Event.of(Event.INVOKE, Event.ACQUIRE, op).client(client).key(key).fair(priority, 1_000, 1_000), t);
            return this;
        }

        /** A fair lock's waiter invoked at {@code invoke}, granted at {@code grant} (1 s lease), released. */
        H waited(long op, int client, String key, int priority, long invoke, long grant, long release) {
            waiter(op, client, key, priority, invoke);
            granted(op, client, key, grant, grant + ms(1_000), op, null);
            releaseInvoke(op, key, release, grant + ms(1_000));
            return released(op, key, release + 5);
        }

        /**
         * An operation on a lock with modes whose lease holds {@code holds}, invoked at {@code invoke}, granted at
         * {@code grant} (1 s lease), released at {@code release}.
         */
        H modeWaited(long op, int client, String key, String holds, long invoke, long grant, long release) {
            add(Event.of(Event.INVOKE, Event.ACQUIRE, op).client(client).key(key).holds(holds), invoke);
            granted(op, client, key, grant, grant + ms(1_000), op, null);
            releaseInvoke(op, key, release, grant + ms(1_000));
            return released(op, key, release + 5);
        }

        /** A fault from {@code t} planned to heal at {@code until}. */
        H fault(long t, long until) {
            add(new Event(Event.NEMESIS, "start").until(until).value("partition"), t);
            return this;
        }

        Checker.Verdict check() {
            return Checker.check(events);
        }
    }

    private static long ms(long millis) {
        return millis * 1_000_000;
    }

    /** A waiter (op 2) granted while one invoked 100 ms before it (op 1) still waits; op 3 joined 10 ms after op 1. */
    private static H overtake() {
        return new H()
                .waited(1, 0, "f", 0, 0, ms(300), ms(400))
                .waited(2, 1, "f", 0, ms(100), ms(150), ms(250))
                .waited(3, 0, "f", 0, ms(10), ms(500), ms(600));
    }

    @Test
    void aWaiterGrantedWhileAnEarlierOneOfTheSamePriorityWaitsIsAnOvertake(@TempDir Path dir) {
        Checker.Verdict v = overtake().check();
        assertThat(v.count(Violation.OVERTAKE)).as(v.breakdown()).isEqualTo(1);
        assertThat(v.total()).isEqualTo(1);
        assertThat(v.overtakes).as("one overtaking grant, though it overtook two waiters").isEqualTo(1);
        assertThat(v.fairGrants).isEqualTo(3);
        assertThat(v.examples).anySatisfy(e -> assertThat(e).contains("overtake", "op 2 (client 1)", "op 1 (client 0)",
                "no fault in between"));
        Path file = dir.resolve("history.jsonl");
        History.write(file, List.of(), overtake().events);
        Checker.Verdict read = Checker.check(History.read(file));
        assertThat(read.counts).isEqualTo(v.counts);
        assertThat(read.examples).isEqualTo(v.examples);
    }

    @Test
    void waitersServedByPriorityThenArrivalWithinTheMarginAreNoOvertake() {
        Checker.Verdict v = new H()
                .waited(1, 0, "f", 0, 0, ms(1), ms(100))
                // op 2 waits from 10 ms; op 3 of a higher priority joins later and goes first
                .waited(2, 0, "f", 0, ms(10), ms(300), ms(400))
                .waited(3, 1, "f", 5, ms(50), ms(100), ms(200))
                // op 4 joins 5 ms after op 2 (within the margin) and goes before it
                .waited(4, 1, "f", 0, ms(15), ms(200), ms(300))
                // op 5 gives up at 60 ms: no longer waiting when the others are granted
                .waiter(5, 0, "f", 0, ms(30)).acquireDone(Event.INFO, 5, 0, "f", ms(60))
                .waited(6, 1, "f", 0, ms(120), ms(400), ms(500))
                .check();
        assertThat(v.total()).as(v.breakdown() + " " + v.examples).isZero();
        assertThat(v.overtakes).isZero();
        assertThat(v.fairGrants).isEqualTo(5);
    }

    @Test
    void overtakesWhileAFaultDisturbsAreCountedButOnlyTooManyOfThemAreAViolation() {
        // the fault heals at 120 ms, but disturbs the order until a heartbeat timeout plus a lease time later
        H disturbed = overtake().fault(ms(50), ms(120));
        Checker.Verdict v = disturbed.check();
        assertThat(v.total()).as(v.breakdown() + " " + v.examples).isZero();
        assertThat(v.overtakes).isEqualTo(1);
        // a fault long before op 1 joined excuses nothing
        Checker.Verdict before = overtake().fault(ms(-3_000), ms(-2_100)).check();
        assertThat(before.count(Violation.OVERTAKE)).isEqualTo(1);
        // three of four grants overtook op 1: more than 5 % of the grants (and at least 3)
        Checker.Verdict many = new H()
                .fault(ms(50), ms(60))
                .waited(1, 0, "f", 0, 0, ms(1_000), ms(1_100))
                .waited(2, 1, "f", 0, ms(100), ms(150), ms(200))
                .waited(3, 1, "f", 0, ms(110), ms(250), ms(300))
                .waited(4, 1, "f", 0, ms(120), ms(350), ms(400))
                .check();
        assertThat(many.count(Violation.OVERTAKE_SHARE)).as(many.breakdown()).isEqualTo(1);
        assertThat(many.count(Violation.OVERTAKE)).isZero();
        assertThat(many.overtakes).isEqualTo(3);
        assertThat(many.examples).anySatisfy(e -> assertThat(e).contains("overtake_share", "3 of 4 grants"));
    }

    /**
     * Op 1 holds until 100 ms; ops 2 and 3 wait in turn and give up (op 3 100 ms before {@code grant}); op 4,
     * invoked 200 ms before {@code grant}, is granted then. Heartbeat timeout and lease time 1 s: the bound is
     * 1 s + 1/3 s + 1 s + 1 s.
     */
    private static H idle(long grant) {
        return new H()
                .waited(1, 0, "f", 0, 0, ms(1), ms(100))
                .waiter(2, 1, "f", 0, ms(50)).acquireDone(Event.FAIL, 2, 1, "f", ms(2_050))
                .waiter(3, 1, "f", 0, ms(2_000)).acquireDone(Event.FAIL, 3, 1, "f", grant - ms(100))
                .waited(4, 0, "f", 0, grant - ms(200), grant, grant + ms(100));
    }

    @Test
    void aFairLockIdleWhileWaitersWaitLongerThanItsBoundIsAStall() {
        Checker.Verdict v = idle(ms(4_500)).check();
        assertThat(v.count(Violation.STALL)).as(v.breakdown()).isEqualTo(1);
        assertThat(v.total()).isEqualTo(1);
        assertThat(v.maxIdleNanos).isEqualTo(ms(4_400));
        assertThat(v.examples).anySatisfy(e -> assertThat(e).contains("stall", "from 100.000 ms to 4500.000 ms"));
    }

    @Test
    void aShortIdleTimeAFaultCutShortOrOneWithoutWaitersIsNoStall() {
        Checker.Verdict shorter = idle(ms(3_300)).check();
        assertThat(shorter.total()).as(shorter.breakdown()).isZero();
        assertThat(shorter.maxIdleNanos).isEqualTo(ms(3_200));
        // the idle time is as long, but a fault from 1 s to 2 s leaves at most 2.5 s of it undisturbed
        Checker.Verdict faulted = idle(ms(4_500)).fault(ms(1_000), ms(2_000)).check();
        assertThat(faulted.total()).as(faulted.breakdown()).isZero();
        assertThat(faulted.maxIdleNanos).isEqualTo(ms(4_400));
        assertThat(faulted.maxQuietIdleNanos).isEqualTo(ms(2_500));
        // nobody waits between the holders: the lock may stay free for any time
        Checker.Verdict nobody = new H()
                .waited(1, 0, "f", 0, 0, ms(1), ms(100))
                .waited(2, 1, "f", 0, ms(10_000), ms(10_001), ms(10_100))
                .check();
        assertThat(nobody.total()).as(nobody.breakdown()).isZero();
        assertThat(nobody.maxIdleNanos).as("op 1's own wait").isEqualTo(ms(1));
    }

    /**
     * A writer (client 0) holds the read-write lock prices until 100 ms; a reader and a writer of client 1, invoked
     * at 50 and 55 ms, are granted at {@code grant} and 200 ms later; meanwhile another read-write lock is held the
     * whole time, which frees nothing of prices.
     */
    private static H modeIdle(long grant) {
        return new H()
                .modeWaited(1, 0, "prices", Checker.holds("prices", "X"), 0, ms(1), ms(100))
                .modeWaited(2, 1, "prices", Checker.holds("prices", "S"), ms(50), grant, grant + ms(100))
                .modeWaited(3, 1, "prices", Checker.holds("prices", "X"), ms(55), grant + ms(200), grant + ms(300))
                .modeWaited(4, 0, "stock", Checker.holds("stock", "X"), 0, ms(1), grant + ms(300));
    }

    @Test
    void aLockWithModesFreeWhileRequestsWaitLongerThanTheBoundIsAStallOutsideFaults() {
        // free from 100 ms to 3,100 ms while the reader and the writer wait: 3 s, above the bound of 2 s
        Checker.Verdict v = modeIdle(ms(3_100)).check();
        assertThat(v.count(Violation.STALL)).as(v.breakdown()).isEqualTo(1);
        assertThat(v.total()).isEqualTo(1);
        assertThat(v.maxQuietIdleNanos).isEqualTo(ms(3_000));
        assertThat(v.examples).anySatisfy(e -> assertThat(e).contains("stall", "lock with modes rw:prices",
                "from 100.000 ms to 3100.000 ms"));
        // 1.8 s free is within the bound; a fault from 1 s to 2 s leaves at most 1.1 s of 3 s undisturbed
        Checker.Verdict shorter = modeIdle(ms(1_900)).check();
        assertThat(shorter.total()).as(shorter.breakdown()).isZero();
        assertThat(shorter.maxIdleNanos).isEqualTo(ms(1_800));
        Checker.Verdict faulted = modeIdle(ms(3_100)).fault(ms(1_000), ms(2_000)).check();
        assertThat(faulted.total()).as(faulted.breakdown()).isZero();
        assertThat(faulted.maxQuietIdleNanos).isEqualTo(ms(1_100));
    }

    @Test
    void aTreeOfHierarchicalLocksIsFreeOnlyWhenNoPathOfItIsHeld() {
        // X on t until 3 s keeps X on t/a/1 (invoked at 50 ms) waiting: the tree is held, no stall
        Checker.Verdict held = new H()
                .modeWaited(1, 0, "t", Checker.pathHolds("t", "X"), 0, ms(1), ms(3_000))
                .modeWaited(2, 1, "t/a/1", Checker.pathHolds("t/a/1", "X"), ms(50), ms(3_000), ms(3_100))
                .check();
        assertThat(held.total()).as(held.breakdown() + " " + held.examples).isZero();
        // nothing of the tree held from 100 ms while t/a/1 waits until 3 s: one stall of the tree t
        Checker.Verdict free = new H()
                .modeWaited(1, 0, "t/b", Checker.pathHolds("t/b", "X"), 0, ms(1), ms(100))
                .modeWaited(2, 1, "t/a/1", Checker.pathHolds("t/a/1", "X"), ms(50), ms(3_000), ms(3_100))
                .check();
        assertThat(free.count(Violation.STALL)).as(free.breakdown()).isEqualTo(1);
        assertThat(free.examples).anySatisfy(e -> assertThat(e).contains("lock with modes tree:t:"));
    }

    @Test
    void permitsHeldAtOnceAboveTheSemaphoresLimitAreAViolation() {
        // P = 3: [0, 1000) 2 permits, [100, 500) 1 permit (3 held), then [200, 400) 1 permit makes 4
        Checker.Verdict v = new H()
                .permits(1, 0, "s", 2, 3, 10, 1_000, 5_000)
                .permits(2, 1, "s", 1, 3, 100, 500, 5_000)
                .permits(3, 1, "s", 1, 3, 200, 400, 5_000)
                .check();
        assertThat(v.count(Violation.PERMITS_EXCEEDED)).as(v.breakdown()).isEqualTo(1);
        assertThat(v.total()).isEqualTo(1);
        assertThat(v.permitPeak).isEqualTo(4);
        assertThat(v.examples).anySatisfy(e -> assertThat(e).contains("permits_exceeded", "semaphore s (P = 3)",
                "4 permits held", "op 3", "op 1", "op 2"));
    }

    @Test
    void permitsHeldAtExactlyTheLimitAndWindowsThatOnlyTouchAreClean() {
        // P = 3 held throughout [100, 400); op 4 starts the instant op 2 ends; op 5's window is clipped at its deadline
        Checker.Verdict v = new H()
                .permits(1, 0, "s", 2, 3, 10, 1_000, 5_000)
                .permits(2, 1, "s", 1, 3, 100, 400, 5_000)
                .permits(4, 0, "s", 1, 3, 400, 900, 5_000)
                .permits(5, 1, "s", 1, 3, 50, 2_000, 90)
                .permits(6, 1, "other", 3, 3, 100, 900, 5_000)
                .check();
        assertThat(v.total()).as(v.breakdown() + " " + v.examples).isZero();
        assertThat(v.permitPeak).isEqualTo(3);
        assertThat(v.permitGrants).isEqualTo(5);
    }

    @Test
    void aSemaphoresOverlappingWindowsAreNotALockOverlapButAreWeightedByPermits() {
        // P = 2: two 1-permit windows overlap (fine); a 2-permit window overlapping either is one too many
        Checker.Verdict clean = new H()
                .permits(1, 0, "s", 1, 2, 10, 500, 5_000)
                .permits(2, 1, "s", 1, 2, 20, 600, 5_000)
                .check();
        assertThat(clean.total()).as(clean.breakdown()).isZero();
        Checker.Verdict v = new H()
                .permits(1, 0, "s", 1, 2, 10, 500, 5_000)
                .permits(2, 1, "s", 2, 2, 499, 600, 5_000)
                .check();
        assertThat(v.count(Violation.PERMITS_EXCEEDED)).as(v.breakdown()).isEqualTo(1);
        assertThat(v.count(Violation.WINDOW_OVERLAP)).isZero();
    }

    @Test
    void aSemaphoreHistorySurvivesItsJsonForm(@TempDir Path dir) {
        H h = new H()
                .permits(1, 0, "s", 2, 3, 10, 1_000, 5_000)
                .permits(2, 1, "s", 2, 3, 100, 500, 5_000);
        Path file = dir.resolve("history.jsonl");
        History.write(file, List.of(), h.events);
        Checker.Verdict v = Checker.check(History.read(file));
        assertThat(v.count(Violation.PERMITS_EXCEEDED)).as(v.breakdown()).isEqualTo(1);
    }

    @Test
    void aWriteWindowOverlappingAReadOfOneReadWriteLockIsAModeConflict(@TempDir Path dir) {
        H h = new H()
                .rw(1, 0, "prices", "S", 10, 500)
                .rw(2, 1, "prices", "X", 400, 600);
        Checker.Verdict v = h.check();
        assertThat(v.count(Violation.MODE_CONFLICT)).as(v.breakdown()).isEqualTo(1);
        assertThat(v.total()).isEqualTo(1);
        assertThat(v.examples).anySatisfy(e -> assertThat(e).contains("mode_conflict", "op 2", "rw:prices=X",
                "op 1", "holding rw:prices in S"));
        Path file = dir.resolve("history.jsonl");
        History.write(file, List.of(), h.events);
        assertThat(Checker.check(History.read(file)).counts).as("the history's JSON form").isEqualTo(v.counts);
    }

    @Test
    void readWindowsOfOneReadWriteLockOverlapFreelyAndAWriteMayFollowTheLastOne() {
        Checker.Verdict v = new H()
                .rw(1, 0, "prices", "S", 10, 500)
                .rw(2, 1, "prices", "S", 100, 400)
                .rw(3, 0, "prices", "S", 200, 300)
                .rw(4, 1, "prices", "X", 500, 600)
                .rw(5, 1, "other", "X", 100, 600)
                .check();
        assertThat(v.total()).as(v.breakdown() + " " + v.examples).isZero();
        assertThat(v.modePeak).as("three readers at once").isEqualTo(3);
        assertThat(v.modeGrants("S", "prices")).isEqualTo(3);
        assertThat(v.modeGrants("X", "prices", "other")).isEqualTo(2);
    }

    @Test
    void aPathHoldsItsModeOnItselfAndTheIntentionOnEachAncestor() {
        assertThat(Checker.pathHolds("tenant/orders/42", "X"))
                .isEqualTo("tree:tenant=IX tree:tenant/orders=IX tree:tenant/orders/42=X");
        assertThat(Checker.pathHolds("tenant/orders", "S")).isEqualTo("tree:tenant=IS tree:tenant/orders=S");
        assertThat(Checker.pathHolds("tenant", "SIX")).isEqualTo("tree:tenant=SIX");
        // the standard matrix: symmetric; IS only excludes X, X excludes everything, IX and S exclude each other
        List<String> modes = List.of("IS", "IX", "S", "SIX", "X");
        for (String a : modes) {
            for (String b : modes) {
                assertThat(Checker.compatible(a, b)).as(a + " " + b).isEqualTo(Checker.compatible(b, a));
            }
        }
        assertThat(modes.stream().filter(m -> Checker.compatible("IS", m))).containsExactly("IS", "IX", "S", "SIX");
        assertThat(modes.stream().filter(m -> Checker.compatible("IX", m))).containsExactly("IS", "IX");
        assertThat(modes.stream().filter(m -> Checker.compatible("S", m))).containsExactly("IS", "S");
        assertThat(modes.stream().filter(m -> Checker.compatible("SIX", m))).containsExactly("IS");
        assertThat(modes.stream().filter(m -> Checker.compatible("X", m))).isEmpty();
    }

    @Test
    void anExclusivePathConflictsWithEveryPathBelowItButNotWithItsSiblings() {
        // X on tenant [10, 500) and X on tenant/orders/42 [100, 200) meet on tenant in X against IX
        Checker.Verdict v = new H()
                .path(1, 0, "tenant", "X", 10, 500)
                .path(2, 1, "tenant/orders/42", "X", 100, 200)
                .check();
        assertThat(v.count(Violation.MODE_CONFLICT)).as(v.breakdown()).isEqualTo(1);
        assertThat(v.examples).anySatisfy(e -> assertThat(e).contains("mode_conflict", "op 2", "op 1",
                "holding tree:tenant in X"));
        // X on tenant/orders/42 and X on tenant/orders/43 share tenant and tenant/orders in IX only; readers of the
        // tenant and of another order beside them are fine
        Checker.Verdict siblings = new H()
                .path(1, 0, "tenant/orders/42", "X", 10, 500)
                .path(2, 1, "tenant/orders/43", "X", 100, 200)
                .path(3, 1, "tenant/orders/44", "S", 100, 200)
                .check();
        assertThat(siblings.total()).as(siblings.breakdown() + " " + siblings.examples).isZero();
        assertThat(siblings.modePeak).as("three holders of tenant").isEqualTo(3);
        // a reader of the tenant (S) against a writer below it (IX on tenant), and a writer of the order inside it
        Checker.Verdict readerAbove = new H()
                .path(1, 0, "tenant", "S", 10, 500)
                .path(2, 1, "tenant/orders/42", "S", 50, 150)
                .path(3, 1, "tenant/orders/42", "X", 200, 300)
                .check();
        assertThat(readerAbove.count(Violation.MODE_CONFLICT)).as(readerAbove.breakdown()).isEqualTo(1);
        assertThat(readerAbove.examples).anySatisfy(e -> assertThat(e).contains("op 3", "holding tree:tenant in S"));
    }

    @Test
    void aLockWithModesWindowIsClippedAtItsDeadlineAndAnUnknownModeIsMalformed() {
        // op 1's read lease ended at 100 (its deadline), its release only came at 500: op 2 writing from 150 is fine
        H h = new H();
        h.add(Event.of(Event.INVOKE, Event.ACQUIRE, 1).client(0).key("prices").holds(Checker.holds("prices", "S")), 0);
        Checker.Verdict v = h.granted(1, 0, "prices", 10, 100, 1, null)
                .releaseInvoke(1, "prices", 500, 100).released(1, "prices", 505)
                .rw(2, 1, "prices", "X", 150, 300)
                .check();
        assertThat(v.total()).as(v.breakdown() + " " + v.examples).isZero();
        Checker.Verdict unknown = new H().moded(1, 0, "prices", "rw:prices=W", 10, 100).check();
        assertThat(unknown.count(Violation.MALFORMED)).as(unknown.breakdown()).isEqualTo(1);
    }

    @Test
    void aCleanSequentialHistoryHasNoViolations() {
        Checker.Verdict v = new H()
                .section(1, 0, "k", 100, 200, 0, 1)
                .section(2, 1, "k", 300, 400, 1, 2)
                .section(3, 0, "k", 500, 600, 2, 3)
                .section(4, 1, "other", 150, 450, 0, 1)
                .check();
        assertThat(v.total()).as(v.breakdown()).isZero();
        assertThat(v.completedCs).isEqualTo(4);
        assertThat(v.acquireOk).isEqualTo(4);
        assertThat(v.acquireLatencies).containsOnly(5L);
    }

    @Test
    void overlappingWindowsOfOneKeyAreAViolation() {
        Checker.Verdict v = new H()
                .acquire(1, 0, "k", 0).granted(1, 0, "k", 10, 1_000, 1, null)
                .acquire(2, 1, "k", 0).granted(2, 1, "k", 50, 1_000, 2, null)
                .releaseInvoke(1, "k", 100, 1_000).released(1, "k", 110)
                .releaseInvoke(2, "k", 200, 1_000).released(2, "k", 210)
                .check();
        assertThat(v.count(Violation.WINDOW_OVERLAP)).isEqualTo(1);
        assertThat(v.examples).anySatisfy(e -> assertThat(e).contains("window_overlap", "op 2", "op 1"));
    }

    @Test
    void aLongWindowIsComparedWithEveryLaterWindowNotOnlyTheNextOne() {
        // A = [0, 1000) contains B = [100, 200) and C = [300, 400); B and C do not overlap each other.
        Checker.Verdict v = new H()
                .acquire(1, 0, "k", 0).granted(1, 0, "k", 1, 5_000, 1, null)
                .acquire(2, 1, "k", 0).granted(2, 1, "k", 100, 5_000, 2, null)
                .releaseInvoke(2, "k", 200, 5_000).released(2, "k", 201)
                .acquire(3, 1, "k", 250).granted(3, 1, "k", 300, 5_000, 3, null)
                .releaseInvoke(3, "k", 400, 5_000).released(3, "k", 401)
                .releaseInvoke(1, "k", 1_000, 5_000).released(1, "k", 1_001)
                .check();
        assertThat(v.count(Violation.WINDOW_OVERLAP)).isEqualTo(2);
    }

    @Test
    void windowsAreClippedAtTheDeadlineSoASlowReleaseIsNoViolation() {
        // A's lease ends at 100 but its release is only invoked at 500 (a stalled JVM): B starting at 150 is fine.
        Checker.Verdict v = new H()
                .acquire(1, 0, "k", 0).granted(1, 0, "k", 10, 100, 1, null)
                .acquire(2, 1, "k", 0).granted(2, 1, "k", 150, 1_000, 2, null)
                .releaseInvoke(2, "k", 200, 1_000).released(2, "k", 210)
                .releaseInvoke(1, "k", 500, 100).lost(1, "k", 510)
                .check();
        assertThat(v.total()).as(v.breakdown()).isZero();
        assertThat(v.lost).isEqualTo(1);
    }

    @Test
    void aRenewedDeadlineExtendsTheWindow() {
        // A is granted until 100, renewed (believed at release) until 400: B at 150 overlaps.
        Checker.Verdict v = new H()
                .acquire(1, 0, "k", 0).granted(1, 0, "k", 10, 100, 1, null)
                .acquire(2, 1, "k", 0).granted(2, 1, "k", 150, 1_000, 2, null)
                .releaseInvoke(1, "k", 300, 400).released(1, "k", 310)
                .releaseInvoke(2, "k", 350, 1_000).released(2, "k", 360)
                .check();
        assertThat(v.count(Violation.WINDOW_OVERLAP)).isEqualTo(1);
    }

    @Test
    void aShorteningExtendBringsTheBelievedDeadlineDown() {
        // A is granted until 1000, extends to a shorter lease at 100 (deadline 300), is lost and ends at 500 without
        // another observation in time; B enters at 400, after A's keys expired: no overlap.
        Checker.Verdict v = new H()
                .acquire(1, 0, "k", 0).granted(1, 0, "k", 10, 1_000, 1, null)
                .extend(Event.INVOKE, 1, "k", 100, 300).extend(Event.OK, 1, "k", 110, 300)
                .acquire(2, 1, "k", 0).granted(2, 1, "k", 400, 2_000, 2, null)
                .releaseInvoke(1, "k", 500, 300).lost(1, "k", 510)
                .releaseInvoke(2, "k", 600, 2_000).released(2, "k", 610)
                .check();
        assertThat(v.total()).as(v.breakdown()).isZero();
        assertThat(v.lost).isEqualTo(1);
    }

    @Test
    void aHolderStillBelievingTheDeadlineFromBeforeItsExtendOverlapsTheNextHolder() {
        // The same, but A's observations after the extend still say 1000 (the stale belief): B at 400 overlaps.
        Checker.Verdict v = new H()
                .acquire(1, 0, "k", 0).granted(1, 0, "k", 10, 1_000, 1, null)
                .extend(Event.INVOKE, 1, "k", 100, 1_000).extend(Event.OK, 1, "k", 110, 1_000)
                .acquire(2, 1, "k", 0).granted(2, 1, "k", 400, 2_000, 2, null)
                .releaseInvoke(1, "k", 500, 1_000).released(1, "k", 510)
                .releaseInvoke(2, "k", 600, 2_000).released(2, "k", 610)
                .check();
        assertThat(v.count(Violation.WINDOW_OVERLAP)).isEqualTo(1);
    }

    @Test
    void anExtendMustCompleteOnceAndOnlyUnderAGrantedLease() {
        Checker.Verdict v = new H()
                .acquire(1, 0, "k", 0).granted(1, 0, "k", 10, 1_000, 1, null)
                .extend(Event.INVOKE, 1, "k", 100, 900)
                .releaseInvoke(1, "k", 200, 900).released(1, "k", 210)
                .acquire(2, 0, "k", 300).acquireDone(Event.FAIL, 2, 0, "k", 310)
                .extend(Event.INVOKE, 2, "k", 320, 900).extend(Event.INFO, 2, "k", 330, 900)
                .check();
        assertThat(v.count(Violation.MALFORMED)).as(v.breakdown()).isEqualTo(3); // never completed; 2 without lease
    }

    @Test
    void leasesEndedByTheirClientsCloseAreCountedApartFromLostOnes() {
        Checker.Verdict v = new H()
                .acquire(1, 0, "k", 0).granted(1, 0, "k", 10, 1_000, 1, null)
                .releaseInvoke(1, "k", 100, 1_000).closed(1, "k", 110)
                .acquire(2, 1, "k", 0).granted(2, 1, "k", 200, 1_000, 2, null)
                .releaseInvoke(2, "k", 300, 1_000).lost(2, "k", 310)
                .check();
        assertThat(v.total()).as(v.breakdown()).isZero();
        assertThat(v.closed).isEqualTo(1);
        assertThat(v.lost).isEqualTo(1);
    }

    @Test
    void windowsThatOnlyTouchDoNotOverlap() {
        Checker.Verdict v = new H()
                .acquire(1, 0, "k", 0).granted(1, 0, "k", 10, 1_000, 1, null)
                .releaseInvoke(1, "k", 100, 1_000).released(1, "k", 120)
                .acquire(2, 1, "k", 0).granted(2, 1, "k", 100, 1_000, 2, null)
                .releaseInvoke(2, "k", 200, 1_000).released(2, "k", 210)
                .check();
        assertThat(v.count(Violation.WINDOW_OVERLAP)).isZero();
    }

    @Test
    void indeterminateAndFailedAcquiresOpenNoWindow() {
        Checker.Verdict v = new H()
                .acquire(1, 0, "k", 0).acquireDone(Event.INFO, 1, 0, "k", 500)
                .acquire(2, 0, "k", 0).acquireDone(Event.FAIL, 2, 0, "k", 500)
                .acquire(3, 1, "k", 0).granted(3, 1, "k", 100, 1_000, 3, null)
                .releaseInvoke(3, "k", 200, 1_000).released(3, "k", 210)
                .check();
        assertThat(v.total()).as(v.breakdown()).isZero();
        assertThat(v.acquireFail).isEqualTo(1);
        assertThat(v.acquireInfo).isEqualTo(1);
    }

    @Test
    void aGrantWithoutValidityIsAViolation() {
        Checker.Verdict v = new H()
                .acquire(1, 0, "k", 0).granted(1, 0, "k", 100, 100, 1, null)
                .releaseInvoke(1, "k", 150, 100).released(1, "k", 160)
                .check();
        assertThat(v.count(Violation.INVALID_GRANT)).isEqualTo(1);
        assertThat(v.count(Violation.WINDOW_OVERLAP)).isZero();
    }

    @Test
    void aFencingTokenNotAboveAnEarlierOneIsARegression() {
        Checker.Verdict v = new H()
                .acquire(1, 0, "k", 0).granted(1, 0, "k", 10, 1_000, 1, 7L)
                .releaseInvoke(1, "k", 100, 1_000).released(1, "k", 110)
                .acquire(2, 1, "k", 0).granted(2, 1, "k", 200, 1_000, 2, 9L)
                .releaseInvoke(2, "k", 300, 1_000).released(2, "k", 310)
                .acquire(3, 0, "k", 0).granted(3, 0, "k", 400, 1_000, 3, 8L)
                .releaseInvoke(3, "k", 500, 1_000).released(3, "k", 510)
                .check();
        assertThat(v.count(Violation.FENCE_REGRESSION)).isEqualTo(1);
        assertThat(v.examples).anySatisfy(e -> assertThat(e).contains("token 8", "op 2"));
    }

    @Test
    void aHolderPausedPastItsDeadlineShowsLateStaleAndLostWritesButTheCasAcceptsNone() {
        // A (oracle 1) reads v0 and stalls; its lease ends at 100. B (oracle 2) enters at 150, reads v0, writes v1
        // and completes. A wakes at 300 and writes v2 over v0: late, stale, rejected by the CAS, and B's id is lost.
        Checker.Verdict v = new H()
                .acquire(1, 0, "k", 0).granted(1, 0, "k", 10, 100, 1, null)
                .read(1, "k", 20, 0)
                .releaseInvoke(1, "k", 100, 100)
                .acquire(2, 1, "k", 0).granted(2, 1, "k", 150, 1_000, 2, null)
                .read(2, "k", 160, 0)
                .wrote(2, "k", 170, 0, 1, true, 2, 1_000)
                .releaseInvoke(2, "k", 180, 1_000).released(2, "k", 190)
                .wrote(1, "k", 300, 0, 2, false, 1, 100)
                .lost(1, "k", 310)
                .check();
        assertThat(v.count(Violation.LATE_WRITE)).isEqualTo(1);
        assertThat(v.count(Violation.STALE_WRITE)).isEqualTo(1);
        assertThat(v.count(Violation.CAS_CONFLICT)).isEqualTo(1);
        assertThat(v.count(Violation.LOST_UPDATE)).isEqualTo(1);
        assertThat(v.count(Violation.STALE_ACCEPTED)).isZero();
        assertThat(v.count(Violation.WINDOW_OVERLAP)).isZero();
        assertThat(v.count(Violation.MALFORMED)).isZero();
    }

    @Test
    void aWriteAcceptedAfterAnotherLeaseEnteredIsStaleAccepted() {
        // Two leases with the same token hash (a collision or a plumbing bug): the CAS cannot tell them apart.
        H h = new H()
                .acquire(1, 0, "k", 0).granted(1, 0, "k", 10, 1_000, 1, null)
                .read(1, "k", 20, 0);
        Event second = Event.of(Event.OK, Event.ACQUIRE, 2).client(1).key("k").tok("tok1").deadline(1_000).oracle(2);
        h.acquire(2, 1, "k", 0);
        second.t = 30;
        second.seq = 1_000;
        h.events.add(second);
        h.wrote(1, "k", 40, 0, 1, true, 1, 1_000);
        Checker.Verdict v = h.check();
        assertThat(v.count(Violation.STALE_ACCEPTED)).isEqualTo(1);
    }

    @Test
    void anOperationWithoutExactlyOneCompletionIsMalformed() {
        Checker.Verdict v = new H()
                .acquire(1, 0, "k", 0)
                .acquire(2, 0, "k", 0).acquireDone(Event.FAIL, 2, 0, "k", 10).acquireDone(Event.INFO, 2, 0, "k", 20)
                .check();
        assertThat(v.count(Violation.MALFORMED)).isEqualTo(2);
    }

    @Test
    void aBlockHoundReportIsAViolation() {
        Checker.Verdict v = new H()
                .acquire(1, 0, "k", 0)
                .acquireDone(Event.INFO, 1, 0, "k", 10)
                .check();
        assertThat(v.total()).isZero();
        H h = new H().acquire(2, 0, "k", 0);
        h.add(Event.of(Event.INFO, Event.ACQUIRE, 2).key("k").value("BlockingOperationError: Blocking call! "
                + "jdk.internal.misc.Unsafe#park < ..."), 10);
        assertThat(h.check().count(Violation.BLOCKING_CALL)).isEqualTo(1);
    }

    @Test
    void hygieneFindingsAreViolations() {
        H h = new H().section(1, 0, "k", 100, 200, 0, 1);
        h.add(new Event(Event.HYGIENE, Violation.LEAKED_KEYS.label()).count(2).value("node0:lock:{k}"), 1_000);
        h.add(new Event(Event.HYGIENE, Violation.WATCHDOGS.label()).count(0).value("none"), 1_000);
        Checker.Verdict v = h.check();
        assertThat(v.count(Violation.LEAKED_KEYS)).isEqualTo(2);
        assertThat(v.total()).isEqualTo(2);
    }

    @Test
    void aHistoryWrittenToDiskGivesTheSameVerdict(@TempDir Path dir) {
        H h = new H()
                .acquire(1, 0, "k", 0).granted(1, 0, "k", 10, 100, 1, 3L)
                .read(1, "k", 20, 0)
                .releaseInvoke(1, "k", 100, 100)
                .acquire(2, 1, "k \"quoted\"\n", 0).granted(2, 1, "k", 50, 1_000, 2, 2L)
                .read(2, "k", 160, 0)
                .wrote(2, "k", 170, 0, 1, true, 2, 1_000)
                .releaseInvoke(2, "k", 180, 1_000).released(2, "k", 190)
                .wrote(1, "k", 300, 0, 2, false, 1, 100)
                .lost(1, "k", 310);
        Checker.Verdict before = h.check();
        Path file = dir.resolve("history.jsonl");
        History.write(file, List.of(new Event(Event.META, "run").value("seed=1")), h.events);
        Checker.Verdict after = Checker.check(History.read(file));
        assertThat(before.total()).isPositive();
        assertThat(after.counts).isEqualTo(before.counts);
        assertThat(after.examples).isEqualTo(before.examples);
        assertThat(after.completedCs).isEqualTo(before.completedCs);
    }

    @Test
    void theGuardedStoreRecordsWhatTheCheckerReplays() {
        History history = new History();
        GuardedStore store = new GuardedStore(history);
        // A then B, one after the other
        FakeLease a = new FakeLease("a".repeat(32));
        GuardedStore.Entry ea = store.enter(1, 0, 0, "k", a, new GuardedStore.Belief());
        history.append(Event.of(Event.INVOKE, Event.ACQUIRE, 1).t(1).client(0).key("k"));
        GuardedStore.Node ra = store.read(1, 0, ea);
        assertThat(store.write(1, 0, ea, ra, System.nanoTime() + 1_000_000_000L)).isTrue();
        history.append(Event.of(Event.INVOKE, Event.RELEASE, 1).client(0).key("k").deadline(System.nanoTime()));
        history.append(Event.of(Event.OK, Event.RELEASE, 1).client(0).key("k"));
        assertThat(Checker.check(history.events()).total()).isZero();

        // C reads, D enters and writes, C writes over D: the CAS rejects C, and D's id is gone from the set
        FakeLease c = new FakeLease("c".repeat(32));
        history.append(Event.of(Event.INVOKE, Event.ACQUIRE, 3).t(System.nanoTime()).client(0).key("k"));
        GuardedStore.Entry ec = store.enter(3, 0, 0, "k", c, new GuardedStore.Belief());
        GuardedStore.Node rc = store.read(3, 0, ec);
        FakeLease d = new FakeLease("d".repeat(32));
        history.append(Event.of(Event.INVOKE, Event.ACQUIRE, 4).t(System.nanoTime()).client(1).key("k"));
        GuardedStore.Entry ed = store.enter(4, 1, 0, "k", d, new GuardedStore.Belief());
        GuardedStore.Node rd = store.read(4, 1, ed);
        assertThat(store.write(4, 1, ed, rd, System.nanoTime() + 1_000_000_000L)).isTrue();
        history.append(Event.of(Event.INVOKE, Event.RELEASE, 4).client(1).key("k").deadline(System.nanoTime()));
        history.append(Event.of(Event.OK, Event.RELEASE, 4).client(1).key("k"));
        assertThat(store.write(3, 0, ec, rc, System.nanoTime() + 1_000_000_000L)).isFalse();
        history.append(Event.of(Event.INVOKE, Event.RELEASE, 3).client(0).key("k").deadline(System.nanoTime()));
        history.append(Event.of(Event.OK, Event.RELEASE, 3).client(0).key("k"));

        assertThat(store.finalSet("k")).containsExactlyInAnyOrder(1L, 3L);
        Checker.Verdict v = Checker.check(history.events());
        assertThat(v.count(Violation.CAS_CONFLICT)).isEqualTo(1);
        assertThat(v.count(Violation.LOST_UPDATE)).isEqualTo(1);
        assertThat(v.count(Violation.STALE_WRITE)).isEqualTo(1);
        assertThat(v.count(Violation.WINDOW_OVERLAP)).isEqualTo(1);
        assertThat(v.count(Violation.STALE_ACCEPTED)).isZero();
        assertThat(v.count(Violation.MALFORMED)).isZero();
    }

    @Test
    void theNemesisScheduleIsAFunctionOfTheSeedAndKeepsAMajorityOfProcessesAlive() {
        Duration run = Duration.ofSeconds(50);
        Duration ttl = Duration.ofSeconds(2);
        for (long seed : ChaosIT.SEEDS) {
            List<Nemesis.Fault> a = Nemesis.schedule(seed, run, Duration.ofSeconds(3), ttl, ttl, 5, 2);
            List<Nemesis.Fault> b = Nemesis.schedule(seed, run, Duration.ofSeconds(3), ttl, ttl, 5, 2);
            assertThat(a).extracting(Nemesis.Fault::describe).isEqualTo(b.stream().map(Nemesis.Fault::describe).toList());
            assertThat(a.size()).as("faults of seed " + seed).isGreaterThanOrEqualTo(12);
            for (Nemesis.Fault f : a) {
                assertThat(f.atNanos).isLessThan(run.toNanos());
                if (f.kind == Nemesis.Kind.KILL) {
                    assertThat(f.durationNanos).isGreaterThanOrEqualTo(ttl.plusSeconds(1).toNanos());
                }
                // at most two nodes with a kill or pause at any fault's start, three only for a majority pause
                long t = f.atNanos;
                long down = a.stream()
                        .filter(g -> g.kind == Nemesis.Kind.KILL || g.kind == Nemesis.Kind.PAUSE)
                        .filter(g -> g.atNanos <= t && t < g.atNanos + g.durationNanos)
                        .mapToLong(g -> g.nodes.length)
                        .sum();
                assertThat(down).as(f.describe()).isLessThanOrEqualTo(3);
            }
        }
        long total = 0;
        for (long seed : ChaosIT.SEEDS) {
            List<Nemesis.Fault> faults = Nemesis.schedule(seed, run, Duration.ofSeconds(3), ttl, ttl, 5, 2);
            total += faults.size();
            assertThat(faults).extracting(f -> f.kind).as("every run has each guaranteed kind, seed " + seed)
                    .containsAll(Nemesis.GUARANTEED);
            for (Nemesis.Fault f : faults) {
                if (f.kind == Nemesis.Kind.RESTART_FENCE) {
                    // the restarted node, the first cut and the second cut are all five nodes; the second cut lasts
                    // past the restarted node's hold-out (maximum lease time, plus the uptime's 1 s resolution)
                    java.util.Set<Integer> nodes = new java.util.HashSet<>();
                    for (int[] part : List.of(f.nodes, f.nodes2, f.nodes3)) {
                        Arrays.stream(part).forEach(nodes::add);
                    }
                    assertThat(nodes).as(f.describe()).hasSize(5);
                    assertThat(f.nodes2).hasSize(2);
                    assertThat(f.durationNanos - f.phases[0]).isGreaterThan(ttl.plusSeconds(2).toNanos());
                    assertThat(f.clients).containsExactly(0, 1);
                }
                if (f.kind == Nemesis.Kind.RECONNECT) {
                    assertThat(f.durationNanos).as(f.describe()).isGreaterThan(Nemesis.STALE_CONNECTION.toNanos());
                    assertThat(f.mode).isIn("pause", "blackhole");
                }
            }
        }
        assertThat(total).as("planned faults over the CI seeds").isGreaterThanOrEqualTo(90);
        assertThat(Nemesis.schedule(101, run, Duration.ofSeconds(3), ttl, ttl, 5, 2, false))
                .extracting(f -> f.kind)
                .as("no immediate restart without the restart guard")
                .doesNotContain(Nemesis.Kind.RESTART_NOW, Nemesis.Kind.RESTART_REPLACE);
    }

    /** A lease with a fixed token and a long validity, for store tests. */
    private static final class FakeLease implements Lease {
        private final String token;
        private final long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();

        FakeLease(String token) {
            this.token = token;
        }

        @Override
        public String key() {
            return "k";
        }

        @Override
        public String token() {
            return token;
        }

        @Override
        public OptionalLong fencingToken() {
            return OptionalLong.empty();
        }

        @Override
        public Duration leaseTime() {
            return LockOptions.DEFAULT_LEASE_TIME;
        }

        @Override
        public Instant deadline() {
            return Instant.now().plus(remaining());
        }

        @Override
        public Duration remaining() {
            return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
        }

        @Override
        public boolean isValid() {
            return true;
        }

        @Override
        public int grantedNodes() {
            return 3;
        }

        @Override
        public Mono<Lease> extend(Duration leaseTime) {
            return Mono.just(this);
        }

        @Override
        public Mono<Void> release() {
            return Mono.empty();
        }

        @Override
        public Mono<dev.redlock.LeaseLostException> lost() {
            return Mono.never();
        }
    }
}
