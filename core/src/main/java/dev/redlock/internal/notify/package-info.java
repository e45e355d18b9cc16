/**
 * Release notifications (not API): one pub/sub channel per waited-on name and node, shared by the waiters of a
 * client, so a waiter retries when the holder releases instead of polling.
 */
package dev.redlock.internal.notify;
