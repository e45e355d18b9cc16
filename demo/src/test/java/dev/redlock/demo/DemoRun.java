package dev.redlock.demo;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

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
        return ProcessHandle.current().descendants()
                // the executable itself, not the testkit's sh wrapper and watcher that mention it in their arguments
                .filter(p -> p.info().command().map(c -> c.endsWith("/redis-server")).orElse(false))
                .count();
    }

    @Override
    public String toString() {
        return "exit " + exitCode + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
    }
}
