package dev.redlock.internal.script;

import dev.redlock.internal.fair.FairScript;
import dev.redlock.internal.mode.ModeScript;
import dev.redlock.internal.multi.MultiScript;
import dev.redlock.internal.semaphore.SemaphoreScript;
import java.util.ArrayList;
import java.util.List;

/**
 * The scripts a node loads on every new connection: every primitive's acquire (which must never fall back to
 * {@code EVAL}, see {@link Script.Kind#ACQUIRE}) and the scripts its hot path runs.
 */
public final class Preloaded {

    private Preloaded() {}

    /** The lock's and the engine's ({@link LockScript#PRELOADED}), then each primitive's. */
    public static final List<Script> SCRIPTS = concat(LockScript.PRELOADED, SemaphoreScript.PRELOADED, FairScript.PRELOADED,
            ModeScript.PRELOADED, MultiScript.PRELOADED);

    @SafeVarargs
    private static List<Script> concat(List<Script>... lists) {
        List<Script> all = new ArrayList<>();
        for (List<Script> list : lists) {
            all.addAll(list);
        }
        return List.copyOf(all);
    }
}
