package dev.redlock.internal;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Argument checks shared by the public entry points; each message names the argument and the bad value. */
public final class Checks {

    /** Longest key we accept, in UTF-8 bytes: keys end up in every Redis command and script call. */
    static final int MAX_KEY_BYTES = 512;

    /** Upper bound for any duration option: anything longer is a unit mistake, not a lease. */
    static final Duration MAX_DURATION = Duration.ofDays(1);

    private Checks() {}

    public static String key(String key) {
        return key(key, "key");
    }

    /** {@link #key(String)} for a value the caller calls {@code label} (a semaphore's "name"). */
    public static String key(String value, String label) {
        if (value == null) {
            throw new IllegalArgumentException(label + " must not be null");
        }
        if (value.isBlank()) {
            throw new IllegalArgumentException(label + " must not be blank, got '" + value + "'");
        }
        wellFormed(value, label);
        int bytes = value.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_KEY_BYTES) {
            throw new IllegalArgumentException(
                    label + " must be at most " + MAX_KEY_BYTES + " bytes in UTF-8, got " + bytes + " bytes");
        }
        for (int i = 0; i < value.length(); i++) {
            if (Character.isISOControl(value.charAt(i))) {
                throw new IllegalArgumentException(
                        label + " must not contain control characters, got one at index " + i + " in '" + value + "'");
            }
        }
        return value;
    }

    /**
     * Rejects a string that is not well-formed UTF-16: an unpaired surrogate has no UTF-8 form, and Java's encoder
     * writes '?' for it, so two different strings would become the same Redis key.
     */
    public static String wellFormed(String value, String name) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                i++; // a pair: one code point
            } else if (Character.isSurrogate(c)) {
                // the value itself is not shown: printed, the lone surrogate would be a '?' too
                throw new IllegalArgumentException(String.format(
                        "%s must be well-formed UTF-16, got an unpaired surrogate U+%04X at index %d", name, (int) c, i));
            }
        }
        return value;
    }

    public static <T> T notNull(T value, String name) {
        if (value == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        return value;
    }

    /** A duration that is positive, at most {@link #MAX_DURATION} and a whole number of milliseconds. */
    public static Duration positiveMillis(Duration value, String name) {
        notNull(value, name);
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
        return boundedMillis(value, name);
    }

    /** A duration that is zero or positive, at most {@link #MAX_DURATION} and a whole number of milliseconds. */
    public static Duration nonNegativeMillis(Duration value, String name) {
        notNull(value, name);
        if (value.isNegative()) {
            throw new IllegalArgumentException(name + " must not be negative, got " + value);
        }
        return boundedMillis(value, name);
    }

    private static Duration boundedMillis(Duration value, String name) {
        if (value.compareTo(MAX_DURATION) > 0) {
            throw new IllegalArgumentException(name + " must be at most " + MAX_DURATION + ", got " + value);
        }
        if (value.toNanos() % 1_000_000 != 0) {
            throw new IllegalArgumentException(
                    name + " must be a whole number of milliseconds (Redis PX precision), got " + value);
        }
        return value;
    }

    static void state(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    /**
     * A failure's message followed by its root cause's, when that adds something: drivers wrap the telling error
     * ("NOAUTH ...", "PKIX path building failed ...") in a generic one ("Unable to connect to ...").
     */
    public static String describe(Throwable failure) {
        String message = failure.getMessage() == null ? failure.getClass().getSimpleName() : failure.getMessage();
        Throwable root = failure;
        for (int depth = 0; root.getCause() != null && root.getCause() != root && depth < 16; depth++) {
            root = root.getCause();
        }
        String rootMessage = root.getMessage();
        if (root == failure || rootMessage == null || message.contains(rootMessage)) {
            return message;
        }
        return message + ": " + rootMessage;
    }
}
