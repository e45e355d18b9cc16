package dev.redlock.demo;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** One in-process run of {@link Demo#run}: exit code and captured output. */
final class DemoRun {

    private static final Pattern KEY_LINE = Pattern.compile("^\\s+(hot-\\d+)\\s+(\\d+)\\s+(\\S+)\\s+(.+)$", Pattern.MULTILINE);
    private static final Pattern TOTAL_LINE = Pattern.compile("^\\s+total\\s+(\\d+)\\s*$", Pattern.MULTILINE);

    final int exitCode;
    final String out;
    final String err;

    private DemoRun(int exitCode, String out, String err) {
        this.exitCode = exitCode;
        this.out = out;
        this.err = err;
    }

    static DemoRun of(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Demo.run(o, e, args);
        }
        return new DemoRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** The per-key rows of the summary: key, sections, counter, check. */
    List<String[]> keyRows() {
        Matcher m = KEY_LINE.matcher(out);
        List<String[]> rows = new java.util.ArrayList<>();
        while (m.find()) {
            rows.add(new String[] {m.group(1), m.group(2), m.group(3), m.group(4).trim()});
        }
        return rows;
    }

    long totalSections() {
        Matcher m = TOTAL_LINE.matcher(out);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    /** The last non-blank line of stdout. */
    String lastLine() {
        List<String> lines = out.lines().filter(l -> !l.isBlank()).collect(Collectors.toList());
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }

    /** redis-server processes started by this JVM and still alive. */
    static long redisChildren() {
        Optional<Path> configured = configuredBinary();
        return ProcessHandle.current().descendants()
                // the executable itself, not the testkit's sh wrapper and watcher that mention it in their arguments
                .filter(p -> p.info().command()
                        .map(c -> c.endsWith("/redis-server") || configured.map(Path.of(c)::equals).orElse(false))
                        .orElse(false))
                .count();
    }

    /**
     * The binary that {@code -Dredlock.test.redis} (or {@code REDLOCK_TEST_REDIS}) names, as the OS reports a running
     * one: links resolved, since a distribution's redis-server may be a link to another name (Debian's points to
     * redis-check-rdb). Empty for the embedded binary, which is named redis-server.
     */
    private static Optional<Path> configuredBinary() {
        String value = System.getProperty("redlock.test.redis", "");
        if (value.isBlank()) {
            value = Objects.requireNonNullElse(System.getenv("REDLOCK_TEST_REDIS"), "");
        }
        value = value.trim();
        Stream<Path> candidates = value.equals("path")
                ? Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                        .filter(dir -> !dir.isEmpty())
                        .map(dir -> Path.of(dir, "redis-server"))
                : value.contains("/") ? Stream.of(Path.of(value)) : Stream.empty();
        return candidates.filter(Files::isExecutable).findFirst().map(path -> {
            try {
                return path.toRealPath();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    @Override
    public String toString() {
        return "exit " + exitCode + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
    }
}
