package dev.redlock;

/**
 * Test-only switches of the engine, for fault injection and checker mutants. Production clients use
 * {@link #NONE}; tests in this package set fields on their own instance before use.
 */
final class TestHooks {

    static final TestHooks NONE = new TestHooks();

    /** Delay (scheduled, never blocking) between the deciding acquire reply and reading T2. */
    volatile long pauseAfterRepliesNanos;
}
