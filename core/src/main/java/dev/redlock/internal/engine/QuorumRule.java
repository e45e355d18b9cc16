package dev.redlock.internal.engine;

import dev.redlock.internal.script.Script;

/**
 * How many nodes must say yes for a call of a script to succeed. The lock's rule is a majority of the nodes (two
 * majorities always share a node); a primitive with another safety argument brings its own rule. Tests replace it to
 * build mutants (a quorum of one) that the safety checker must catch.
 */
@FunctionalInterface
public interface QuorumRule {

    /** A majority: {@code nodes / 2 + 1}. */
    QuorumRule MAJORITY = (script, nodes) -> nodes / 2 + 1;

    /** The number of yes votes a call of {@code script} over {@code nodes} nodes needs. */
    int quorum(Script script, int nodes);
}
