package dev.redlock;

/**
 * A {@link FencedStore} rejected a write: its fencing token is older than the last one the resource accepted, or
 * equal to it but from another lease, so the writer's lease has been superseded (or a token was repeated, which the
 * store refuses rather than let two leases write as one).
 *
 * @since 0.1.0
 */
public final class StaleFencingTokenException extends LockException {

    private static final long serialVersionUID = 1L;

    /** The rejected token. */
    private final long token;
    /** The newest token the resource had accepted. */
    private final long lastAccepted;

    StaleFencingTokenException(String key, long token, long lastAccepted) {
        super(key, "write to '" + key + "' rejected: fencing token " + token + (token == lastAccepted
                ? " equals the last accepted token but comes from another lease" : " is older than the last accepted token "
                + lastAccepted), null);
        this.token = token;
        this.lastAccepted = lastAccepted;
    }

    /**
     * The rejected token.
     *
     * @return the writer's fencing token
     */
    public long token() {
        return token;
    }

    /**
     * The newest token the resource had accepted.
     *
     * @return the token of the last accepted write; equal to {@link #token()} when another lease wrote with it
     */
    public long lastAccepted() {
        return lastAccepted;
    }
}
