package dev.redlock;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Something that happened to a lease or a node, from {@link ReactiveRedLock#events()}. Immutable.
 *
 * <p>Events never carry the full token (it proves ownership); {@link #tokenHash()} is a short, stable hash of it
 * for correlating the events of one lease.
 *
 * @since 0.1.0
 */
public final class LockEvent {

    /**
     * What happened.
     *
     * @since 0.1.0
     */
    public enum Type {
        /** A lease was acquired; {@link #duration()} is its validity. */
        ACQUIRED,
        /** A lease was renewed; {@link #duration()} is its new validity. */
        RENEWED,
        /** A renewal failed; the lease stays valid until its deadline; {@link #error()} tells why. */
        RENEWAL_FAILED,
        /** A lease was lost; {@link #error()} is the {@link LeaseLostException}. */
        LOST,
        /** A lease was released; {@link #duration()} is how long it was held. */
        RELEASED,
        /**
         * A release could not confirm that the lease is gone: fewer than N - quorum + 1 nodes answered. Its keys
         * expire after at most the lease time; {@link #error()} is the {@link QuorumUnavailableException}.
         */
        RELEASE_UNCONFIRMED,
        /** The restart guard holds a node out of quorums; {@link #duration()} is for how long. */
        NODE_HELD_OUT,
        /** Health checks of a node failed several times in a row; {@link #error()} is the last failure. */
        NODE_DOWN,
        /** A node that was down answered a health check again; {@link #duration()} is the round trip. */
        NODE_UP,
        /**
         * The adaptive lease time of a lock's group changed ({@link LockOptions#adaptiveLeaseTime()}); {@link #key()}
         * is the lock whose acquire uses it first, {@link #duration()} the new lease time. Also sent for a group's
         * first acquire. It has no token hash.
         */
        ADAPTIVE_LEASE
    }

    private final Type type;
    private final @Nullable String key;
    private final @Nullable String node;
    private final @Nullable String tokenHash;
    private final Instant timestamp;
    private final Duration duration;
    private final @Nullable Throwable error;

    /**
     * Creates an event, as the client does.
     *
     * @param type what happened
     * @param key the lock key of a lease event; {@code null} for node events
     * @param node the node ({@code host:port}) of a node event; {@code null} for lease events
     * @param tokenHash the short hash of the lease token of a lease event; {@code null} for node events
     * @param timestamp when it happened, on the client's scheduler clock
     * @param duration the duration that goes with the type (see {@link Type}); {@link Duration#ZERO} when none
     * @param error the error that goes with the type (see {@link Type}), or {@code null}
     */
    public LockEvent(Type type, @Nullable String key, @Nullable String node, @Nullable String tokenHash,
            Instant timestamp, Duration duration, @Nullable Throwable error) {
        this.type = type;
        this.key = key;
        this.node = node;
        this.tokenHash = tokenHash;
        this.timestamp = timestamp;
        this.duration = duration;
        this.error = error;
    }

    /**
     * What happened.
     *
     * @return the event type
     */
    public Type type() {
        return type;
    }

    /**
     * The lock key of a lease event.
     *
     * @return the key as the caller gave it; empty for node events
     */
    public Optional<String> key() {
        return Optional.ofNullable(key);
    }

    /**
     * The node of a node event.
     *
     * @return {@code host:port}; empty for lease events
     */
    public Optional<String> node() {
        return Optional.ofNullable(node);
    }

    /**
     * A short hash of the lease token, to correlate the events of one lease without revealing the token.
     *
     * @return 8 hex digits; empty for node events and {@link Type#ADAPTIVE_LEASE}
     */
    public Optional<String> tokenHash() {
        return Optional.ofNullable(tokenHash);
    }

    /**
     * When it happened.
     *
     * @return the time on the client's scheduler clock
     */
    public Instant timestamp() {
        return timestamp;
    }

    /**
     * The duration that goes with the event type (see {@link Type}).
     *
     * @return the duration; zero when the type has none
     */
    public Duration duration() {
        return duration;
    }

    /**
     * The error that goes with the event type (see {@link Type}).
     *
     * @return the error; empty when the type has none
     */
    public Optional<Throwable> error() {
        return Optional.ofNullable(error);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("LockEvent{").append(type);
        if (key != null) {
            sb.append(", key=").append(key);
        }
        if (node != null) {
            sb.append(", node=").append(node);
        }
        if (tokenHash != null) {
            sb.append(", token#=").append(tokenHash);
        }
        sb.append(", at=").append(timestamp).append(", duration=").append(duration);
        if (error != null) {
            sb.append(", error=").append(error.getMessage());
        }
        return sb.append('}').toString();
    }
}
