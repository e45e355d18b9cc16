/**
 * The rate limiter on the engine: {@link dev.redlock.internal.ratelimit.GcraRateLimiter} and its scripts. Not API.
 */
@NullMarked
package dev.redlock.internal.ratelimit;

import org.jspecify.annotations.NullMarked;
