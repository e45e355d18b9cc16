/**
 * Node health (not API): periodic checks that mark nodes up and down
 * ({@link dev.redlock.internal.health.HealthMonitor}) and the per-node circuit breaker
 * ({@link dev.redlock.internal.health.NodeHealth}).
 */
package dev.redlock.internal.health;
