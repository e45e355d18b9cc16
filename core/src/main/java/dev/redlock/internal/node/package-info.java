/**
 * One Redis node (not API): {@link dev.redlock.internal.node.NodeChannel} is what the engine calls;
 * {@link dev.redlock.internal.node.LettuceNode} implements it with reconnects, the connection handshake
 * ({@link dev.redlock.internal.node.Handshake}), scripts by digest with the {@code NOSCRIPT} fallback
 * ({@link dev.redlock.internal.node.ScriptConnection}) and pub/sub ({@link dev.redlock.internal.node.PubSub}). The
 * restart guard is {@link dev.redlock.internal.node.RestartWatch}: it holds a node that lost its data out of quorums
 * for {@link dev.redlock.internal.node.HoldOutTime}.
 */
package dev.redlock.internal.node;
