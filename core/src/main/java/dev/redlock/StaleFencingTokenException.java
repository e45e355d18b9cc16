package dev.redlock;

/**
 * A {@link FencedStore} rejected a write: its fencing token is older than the last one the resource accepted, or
 * equal to it but from another lease, so the writer's lease has been superseded (or a token was repeated, which the
 * store refuses rather than let two leases write as one).
 */
public final class StaleFencingTokenException extends LockException {

    private static final long serialVersionUID = 1L;

    private final long token;
    private final long lastAccepted;

    StaleFencingTokenException(String key, long token, long lastAccepted) {
        super(key, "write to '" + key + "' rejected: fencing token " + token + (token == lastAccepted
                ? " equals the last accepted token but comes from another lease" : " is older than the last accepted token "
                + lastAccepted), null);
        this.token = token;
        this.lastAccepted = lastAccepted;
    }

    /** The rejected token. */
    public long token() {
        return token;
    }

    /** The newest token the resource had accepted. */
    public long lastAccepted() {
        return lastAccepted;
    }
}
