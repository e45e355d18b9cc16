/**
 * The quorum call (not API): one script sent to every node in parallel, each with its own timeout, replies counted
 * against a {@link dev.redlock.internal.engine.QuorumRule} as they arrive, the outcome decided by the deciding reply.
 */
package dev.redlock.internal.quorum;
