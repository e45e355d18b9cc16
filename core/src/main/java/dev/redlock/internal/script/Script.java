package dev.redlock.internal.script;

import dev.redlock.internal.Checks;
import dev.redlock.internal.Digests;

/**
 * A Lua script a node runs: its text, and the SHA-1 digest {@code EVALSHA} names it by (a node that does not know it
 * answers {@code NOSCRIPT}, and the text is sent with {@code EVAL}, except for scripts the engine loads on every new
 * connection, see {@link LockScript#PRELOADED}). Keys go in {@code KEYS}, values in {@code ARGV}; no script text is
 * ever built from input. Every script returns one integer, so replies stay cheap to decode. Compared by identity:
 * each script is one constant.
 */
public final class Script {

    /** What the engine must know about a script beyond its text. */
    public enum Kind {
        /** An ordinary command: gated by the node's circuit breaker, decided as soon as the outcome is known. */
        COMMAND,
        /**
         * Grants something (a {@link #COMMAND} otherwise): never sent with {@code EVAL} after a {@code NOSCRIPT}
         * reply, since sent that late it could land after that node's release and leave a stale key. The node counts
         * as failed for that attempt and loads its scripts again; such scripts are loaded on every new connection.
         */
        ACQUIRE,
        /**
         * Removes what an earlier command left: never gated by a breaker (a key must not outlive its lease for lack
         * of trying), sent even after its timer fired, and decided only on every answer ("gone" against "unknown").
         */
        RELEASE,
        /** Carries several leases: one node's "no" may concern only some of them, so "no" is decided on every answer. */
        BATCH
    }

    private final String name;
    private final String source;
    private final String sha1;
    private final Kind kind;

    private Script(String name, String source, Kind kind) {
        this.name = name;
        this.source = source;
        this.sha1 = Digests.hex("SHA-1", source);
        this.kind = kind;
    }

    /** An ordinary script named {@code name} (for logs and errors) with this Lua text. */
    public static Script of(String name, String source) {
        return of(name, source, Kind.COMMAND);
    }

    /** A script of the given kind. */
    public static Script of(String name, String source, Kind kind) {
        return new Script(Checks.notNull(name, "name"), Checks.notNull(source, "source"), Checks.notNull(kind, "kind"));
    }

    public Kind kind() {
        return kind;
    }

    public boolean isRelease() {
        return kind == Kind.RELEASE;
    }

    public String name() {
        return name;
    }

    public String source() {
        return source;
    }

    public String sha1() {
        return sha1;
    }

    @Override
    public String toString() {
        return name;
    }
}
