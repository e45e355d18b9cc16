/**
 * The acquire loop (not API): one attempt at a quorum ({@link dev.redlock.internal.acquire.AcquireAttempt}), the
 * retries until {@code maxWait} with release notifications and backoff
 * ({@link dev.redlock.internal.acquire.AcquireLoop}), and the local line that lets one waiter per name and client
 * ask the nodes at a time ({@link dev.redlock.internal.acquire.LocalQueue}).
 */
package dev.redlock.internal.acquire;
