package dev.redlock.demo;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parses and prints the short durations of the command line: {@code 20s}, {@code 500ms}, {@code 2m}, {@code 20}. */
final class Durations {

    private static final Pattern SHORT = Pattern.compile("([-+]?\\d+(?:\\.\\d+)?)\\s*(ns|us|ms|s|m|h)?");

    private Durations() {}

    /**
     * Parses {@code <number>[ns|us|ms|s|m|h]} (plain numbers are seconds) or an ISO-8601 duration ({@code PT20S}).
     * Signs are accepted so that a negative value can be reported as such by the option checks.
     *
     * @throws IllegalArgumentException if the text is not a duration
     */
    static Duration parse(String text) {
        String s = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        Matcher m = SHORT.matcher(s);
        if (m.matches()) {
            BigDecimal value = new BigDecimal(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2);
            BigDecimal nanosPerUnit;
            switch (unit) {
                case "ns": nanosPerUnit = BigDecimal.ONE; break;
                case "us": nanosPerUnit = BigDecimal.valueOf(1_000L); break;
                case "ms": nanosPerUnit = BigDecimal.valueOf(1_000_000L); break;
                case "m": nanosPerUnit = BigDecimal.valueOf(60_000_000_000L); break;
                case "h": nanosPerUnit = BigDecimal.valueOf(3_600_000_000_000L); break;
                default: nanosPerUnit = BigDecimal.valueOf(1_000_000_000L); break;
            }
            try {
                return Duration.ofNanos(value.multiply(nanosPerUnit).longValueExact());
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("'" + text + "' is too long a duration");
            }
        }
        if (s.startsWith("pt") || s.startsWith("-pt") || s.startsWith("p")) {
            try {
                return Duration.parse(s.toUpperCase(Locale.ROOT));
            } catch (DateTimeParseException e) {
                // fall through to the message below
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not a duration (use e.g. 20s, 500ms, 2m or plain seconds)");
    }

    /** A short form for output: {@code 20s}, {@code 500ms}, {@code 2m}, {@code 1.5s}, {@code 0s}. */
    static String format(Duration d) {
        if (d.isZero()) {
            return "0s";
        }
        long nanos;
        try {
            nanos = d.toNanos();
        } catch (ArithmeticException e) {
            return d.toString();
        }
        String sign = nanos < 0 ? "-" : "";
        long abs = Math.abs(nanos);
        if (abs % 3_600_000_000_000L == 0) {
            return sign + abs / 3_600_000_000_000L + "h";
        }
        if (abs % 60_000_000_000L == 0) {
            return sign + abs / 60_000_000_000L + "m";
        }
        if (abs % 1_000_000_000L == 0) {
            return sign + abs / 1_000_000_000L + "s";
        }
        if (abs >= 1_000_000_000L) {
            return sign + BigDecimal.valueOf(abs, 9).stripTrailingZeros().toPlainString() + "s";
        }
        if (abs % 1_000_000L == 0) {
            return sign + abs / 1_000_000L + "ms";
        }
        if (abs >= 1_000_000L) {
            return sign + BigDecimal.valueOf(abs, 6).stripTrailingZeros().toPlainString() + "ms";
        }
        if (abs % 1_000L == 0) {
            return sign + abs / 1_000L + "us";
        }
        return sign + abs + "ns";
    }

    /** The picocli converter for duration options. */
    static final class Converter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
