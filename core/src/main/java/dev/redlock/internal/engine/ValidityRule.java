package dev.redlock.internal.engine;

/**
 * Whether a quorum's grant still counts: the Redlock rule hands out a lease only if the deciding reply came before
 * the lease's deadline (T1 + lease − drift). Tests replace it to build a mutant that skips the check, which the
 * safety checker must catch as a grant without validity.
 */
@FunctionalInterface
public interface ValidityRule {

    /** The Redlock rule: the decision came before the deadline. */
    ValidityRule BEFORE_DEADLINE = (decidedAt, deadline) -> decidedAt - deadline < 0;

    /** Whether a grant decided at {@code decidedAt} for a lease valid until {@code deadline} may be handed out. */
    boolean grantable(long decidedAt, long deadline);
}
