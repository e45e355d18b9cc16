package dev.redlock.internal.mode;

import dev.redlock.LockOptions;
import dev.redlock.RedLockBuilder;
import dev.redlock.internal.engine.LeaseSpec;
import dev.redlock.internal.quorum.QuorumCall;
import dev.redlock.internal.script.Script;
import dev.redlock.rw.LockMode;
import java.time.Duration;

/**
 * Test-only bridge to the locks with modes for the safety tests ({@code dev.redlock.chaos}), like
 * {@code dev.redlock.EngineAccess} for the engine: a figure the checks wait for, and a mutant spec built from the real
 * one. Nothing here is part of production code or its API.
 */
public final class ModeAccess {

    private ModeAccess() {}

    /** How long a waiting request's claim outlives its last attempt on a node: its hash lives at least that long. */
    public static Duration claimTime() {
        return Duration.ofMillis(ModeLockSpec.CLAIM_MILLIS);
    }

    /**
     * Mutant (intention not taken): the real spec of the hierarchical lock on {@code path} in {@code mode}, given
     * only the path's own key and none of its ancestors', so the nodes never see the intention modes it should hold
     * above it: X on {@code t/a/1} is granted beside X on {@code t}. The key and channel are the real lock's under the
     * default key prefix.
     *
     * @param waits whether a refused attempt leaves claims (an acquire), as the real lock's specs are told
     */
    public static LeaseSpec leafOnly(String path, LockMode mode, boolean waits) {
        String base = RedLockBuilder.DEFAULT_KEY_PREFIX + "{" + path.split("/", 2)[0] + "}:tree";
        return new ModeLockSpec(path, mode, new String[] {base + ":" + path}, base + ":released", waits);
    }

    /**
     * Mutant (a local line again, the liveness bug fixed in the read-write and hierarchical locks): the real spec of
     * the read-write lock {@code name} in {@code mode} (S or X), except that its waiters queue in the client's local
     * line: a reader at the head of a line shared with a writer is refused by the claim of that writer, which does
     * not try while behind it, until the claim lapses. The keys and channel are the real lock's under the default key
     * prefix.
     *
     * @param waits whether a refused attempt leaves claims (an acquire), as the real lock's specs are told
     */
    public static LeaseSpec localLine(String name, LockMode mode, boolean waits) {
        String key = RedLockBuilder.DEFAULT_KEY_PREFIX + "{" + name + "}:rw";
        return new LocalLine(new ModeLockSpec(name, mode, new String[] {key}, key + ":released", waits));
    }

    /** The real spec in every respect but {@link #queuesLocally()}. */
    private record LocalLine(ModeLockSpec real) implements LeaseSpec {

        @Override
        public boolean queuesLocally() {
            return true;
        }

        @Override
        public String name() {
            return real.name();
        }

        @Override
        public String lineKey() {
            return real.lineKey();
        }

        @Override
        public String releaseChannel() {
            return real.releaseChannel();
        }

        @Override
        public Script acquireScript() {
            return real.acquireScript();
        }

        @Override
        public String[] acquireKeys() {
            return real.acquireKeys();
        }

        @Override
        public String[] acquireArgs(String token, Duration leaseTime, LockOptions options) {
            return real.acquireArgs(token, leaseTime, options);
        }

        @Override
        public boolean granted(long reply) {
            return real.granted(reply);
        }

        @Override
        public long holderTtlMillis(long reply) {
            return real.holderTtlMillis(reply);
        }

        @Override
        public boolean exclusive() {
            return real.exclusive();
        }

        @Override
        public long maxPauseNanos() {
            return real.maxPauseNanos();
        }

        @Override
        public void attemptStarted(QuorumCall acquire) {
            real.attemptStarted(acquire);
        }

        @Override
        public QuorumCall lastAttempt() {
            return real.lastAttempt();
        }

        @Override
        public Script leaveScript() {
            return real.leaveScript();
        }

        @Override
        public String[] leaveKeys() {
            return real.leaveKeys();
        }

        @Override
        public String[] leaveArgs() {
            return real.leaveArgs();
        }

        @Override
        public Script renewScript() {
            return real.renewScript();
        }

        @Override
        public String[] renewKeys() {
            return real.renewKeys();
        }

        @Override
        public String[] renewArgs(String token, Duration leaseTime) {
            return real.renewArgs(token, leaseTime);
        }

        @Override
        public Script releaseScript() {
            return real.releaseScript();
        }

        @Override
        public String[] releaseKeys() {
            return real.releaseKeys();
        }

        @Override
        public String[] releaseArgs(String token, boolean notify) {
            return real.releaseArgs(token, notify);
        }
    }
}
