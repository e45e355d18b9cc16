package dev.redlock.monitor;

import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Writes the server's small JSON documents. Hand-written on purpose: the documents are a few flat objects, and a
 * JSON library (Jackson and the like) would be a large dependency, with its own version conflicts, for every user of
 * the monitor. Strings are escaped as RFC 8259 requires, plus {@code <}, {@code >} and {@code &} (so that a lock
 * name in a document can never read as markup); non-finite numbers are written as {@code null}.
 */
final class Json {

    // userinfo of a URI ("redis://user:password@host"): error messages must never show node credentials
    private static final Pattern USER_INFO = Pattern.compile("([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\\s]*@");
    private static final int MAX_MESSAGE = 300;

    private final StringBuilder out = new StringBuilder(256);
    // whether the object or array being written needs a comma before its next member; one bit per nesting level
    private long needsComma;
    private int depth;

    Json beginObject() {
        separate();
        out.append('{');
        push();
        return this;
    }

    Json endObject() {
        pop();
        out.append('}');
        return this;
    }

    Json beginArray() {
        separate();
        out.append('[');
        push();
        return this;
    }

    Json endArray() {
        pop();
        out.append(']');
        return this;
    }

    /** Starts a member of the current object: write its value next. */
    Json name(String name) {
        separate();
        string(name);
        out.append(':');
        // the value follows the colon without a comma
        needsComma &= ~(1L << depth);
        return this;
    }

    Json value(@Nullable String value) {
        separate();
        if (value == null) {
            out.append("null");
        } else {
            string(value);
        }
        return this;
    }

    Json value(long value) {
        separate();
        out.append(value);
        return this;
    }

    Json value(double value) {
        separate();
        if (Double.isFinite(value)) {
            // three decimals: milliseconds to the microsecond, rates to a thousandth
            out.append(Math.round(value * 1000) / 1000.0);
        } else {
            out.append("null");
        }
        return this;
    }

    Json value(boolean value) {
        separate();
        out.append(value);
        return this;
    }

    Json field(String name, @Nullable String value) {
        return name(name).value(value);
    }

    Json field(String name, long value) {
        return name(name).value(value);
    }

    Json field(String name, double value) {
        return name(name).value(value);
    }

    Json field(String name, boolean value) {
        return name(name).value(value);
    }

    @Override
    public String toString() {
        return out.toString();
    }

    /**
     * An error message fit to show: credentials in URIs masked, at most 300 characters.
     *
     * @param message the message, or {@code null}
     * @return the message, or {@code null} for {@code null}
     */
    static @Nullable String safeMessage(@Nullable String message) {
        if (message == null) {
            return null;
        }
        String masked = USER_INFO.matcher(message).replaceAll("$1***@");
        return masked.length() > MAX_MESSAGE ? masked.substring(0, MAX_MESSAGE) + "..." : masked;
    }

    private void separate() {
        long bit = 1L << depth;
        if ((needsComma & bit) != 0) {
            out.append(',');
        }
        needsComma |= bit;
    }

    private void push() {
        depth++;
        if (depth >= Long.SIZE) {
            throw new IllegalStateException("JSON nested too deep");
        }
        needsComma &= ~(1L << depth);
    }

    private void pop() {
        depth--;
    }

    private void string(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == '\u2028' || c == '\u2029') {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
