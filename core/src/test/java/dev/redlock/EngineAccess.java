package dev.redlock;

import java.time.Duration;

/**
 * Test-only bridge to the package-private parts of the engine that the chaos harness ({@code dev.redlock.chaos})
 * needs: installing {@link TestHooks} (fault-injection points and mutants) on a client, and reading how many
 * watchdogs a client still runs. Nothing here is part of the public API.
 */
public final class EngineAccess {

    private EngineAccess() {}

    /**
     * Installs a fresh set of test hooks (every switch off) on {@code client} and returns a handle to flip them. The
     * switches are volatile and may be changed while the client is in use (e.g. a clock jump mid-hold).
     */
    public static Hooks installHooks(ReactiveRedLock client) {
        TestHooks hooks = new TestHooks();
        engine(client).testHooks(hooks);
        return new Hooks(hooks);
    }

    /** Watchdogs the client currently runs (0 once every scope has ended). */
    public static int runningWatchdogs(ReactiveRedLock client) {
        return engine(client).runningWatchdogs();
    }

    /** The client's clock ({@code now()} in nanoseconds), which the mutants may bend. */
    public static long engineNanos(ReactiveRedLock client) {
        return engine(client).now();
    }

    private static DefaultReactiveRedLock engine(ReactiveRedLock client) {
        if (!(client instanceof DefaultReactiveRedLock)) {
            throw new IllegalArgumentException("not an engine client: " + client);
        }
        return (DefaultReactiveRedLock) client;
    }

    /** A handle on one client's {@link TestHooks}. */
    public static final class Hooks {
        private final TestHooks hooks;

        private Hooks(TestHooks hooks) {
            this.hooks = hooks;
        }

        /** Mutant: the quorum for every script (0 = N/2+1). */
        public Hooks quorum(int quorum) {
            hooks.quorum = quorum;
            return this;
        }

        /** Mutant: the quorum for extensions only (0 = the normal quorum). */
        public Hooks extendQuorum(int extendQuorum) {
            hooks.extendQuorum = extendQuorum;
            return this;
        }

        /** Mutant: hand out leases even when the quorum answered after the lease's deadline. */
        public Hooks skipValidityCheck(boolean on) {
            hooks.skipValidityCheck = on;
            return this;
        }

        /** Mutant: measure time with the wall clock plus {@link #wallClockJump(Duration)}. */
        public Hooks wallClock(boolean on) {
            hooks.wallClock = on;
            return this;
        }

        /** With {@link #wallClock(boolean)}: a step of the client's wall clock (negative = back in time). */
        public Hooks wallClockJump(Duration jump) {
            hooks.wallClockJumpNanos = jump.toNanos();
            return this;
        }

        /** Mutant: release with a plain DEL, without checking the key still holds the lease's token. */
        public Hooks releaseWithoutOwnershipCheck(boolean on) {
            hooks.releaseWithoutOwnershipCheck = on;
            return this;
        }

        /** Mutant: a failed or cancelled attempt does not release the nodes that granted (or may grant later). */
        public Hooks noReleaseOnFailure(boolean on) {
            hooks.noReleaseOnFailure = on;
            return this;
        }

        /** Fault: a (scheduled, non-blocking) client pause between the deciding acquire reply and reading T2. */
        public Hooks pauseAfterReplies(Duration pause) {
            hooks.pauseAfterRepliesNanos = pause.toNanos();
            return this;
        }
    }
}
