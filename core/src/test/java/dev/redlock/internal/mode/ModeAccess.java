package dev.redlock.internal.mode;

import dev.redlock.RedLockBuilder;
import dev.redlock.internal.engine.LeaseSpec;
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
}
