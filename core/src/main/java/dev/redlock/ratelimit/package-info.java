/**
 * Distributed rate limiting on the lock's nodes: {@link dev.redlock.ratelimit.RedRateLimiter} from
 * {@code ReactiveRedLock.rateLimiter(name, limit)}, limited by a {@link dev.redlock.ratelimit.RateLimit}, answering
 * with a {@link dev.redlock.ratelimit.RateLimitDecision} or failing with
 * {@link dev.redlock.ratelimit.RateLimitExceededException}.
 *
 * <p>The algorithm is GCRA (the generic cell rate algorithm, a token bucket kept as one timestamp): one Lua script
 * per node keeps the key's theoretical arrival time on the node's own clock ({@code TIME}), never the client's, with
 * a TTL so idle keys vanish.
 */
@NullMarked
package dev.redlock.ratelimit;

import org.jspecify.annotations.NullMarked;
