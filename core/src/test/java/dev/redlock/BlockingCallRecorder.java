package dev.redlock;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import reactor.blockhound.BlockHound;
import reactor.blockhound.BlockingOperationError;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Records every blocking call BlockHound reports in the test JVM, then throws as BlockHound does by default. A
 * blocking call inside a driver's callback is often swallowed or only logged (a failed listener, a dropped error),
 * so a test that must prove none happened asserts on {@link #reported()} instead of on its operations' outcome.
 * Loaded through {@link java.util.ServiceLoader} by {@code BlockHound.install()} (blockhound-junit-platform).
 */
public final class BlockingCallRecorder implements BlockHoundIntegration {

    private static final List<BlockingOperationError> REPORTED = new CopyOnWriteArrayList<>();

    /** Blocking calls reported since the JVM started (or since the last {@link #clear()}). */
    static List<BlockingOperationError> reported() {
        return List.copyOf(REPORTED);
    }

    static void clear() {
        REPORTED.clear();
    }

    /** Fails with every reported call attached (as suppressed errors, so each stack shows in full). */
    static void assertNoneReported() {
        List<BlockingOperationError> reported = reported();
        if (!reported.isEmpty()) {
            AssertionError failure = new AssertionError(
                    reported.size() + " blocking call(s) reported; the first: " + reported.get(0).getMessage());
            reported.forEach(failure::addSuppressed);
            throw failure;
        }
    }

    @Override
    public void applyTo(BlockHound.Builder builder) {
        builder.blockingMethodCallback(method -> {
            BlockingOperationError error = new BlockingOperationError(method);
            REPORTED.add(error);
            throw error;
        });
    }

    /** Applied last (integrations are applied by ascending priority), so no other callback replaces this one. */
    @Override
    public int getPriority() {
        return Integer.MAX_VALUE;
    }
}
