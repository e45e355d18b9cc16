package dev.redlock;

/**
 * Test-only switches of the engine: fault-injection points and the deliberate bugs ("mutants") that prove the safety
 * checker can fail. Production clients use {@link #NONE}, which has every switch off; tests in this package install
 * their own instance with {@code DefaultReactiveRedLock.testHooks(...)} before use.
 */
final class TestHooks {

    static final TestHooks NONE = new TestHooks();

    /** Delay (scheduled, never blocking) between the deciding acquire reply and reading T2. */
    volatile long pauseAfterRepliesNanos;

    /** Mutant: the quorum for every script (0 = N/2+1). */
    volatile int quorum;

    /** Mutant: the quorum for extensions only (0 = the normal quorum). */
    volatile int extendQuorum;

    /** Mutant: hand out leases even when the quorum answered after the lease's deadline. */
    volatile boolean skipValidityCheck;

    /** Mutant: measure time with the wall clock ({@code currentTimeMillis}) plus {@link #wallClockJumpNanos}. */
    volatile boolean wallClock;

    /** With {@link #wallClock}: a jump of the client's wall clock. */
    volatile long wallClockJumpNanos;

    /** Mutant: release with a plain DEL, without checking that the key still holds this lease's token. */
    volatile boolean releaseWithoutOwnershipCheck;

    /** Mutant: a failed or cancelled attempt does not release the nodes that did (or may later) grant. */
    volatile boolean noReleaseOnFailure;
}
