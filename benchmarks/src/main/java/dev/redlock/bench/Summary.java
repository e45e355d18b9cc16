package dev.redlock.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * Turns one run's JMH CSV ({@code -rf csv}) and its console log (for the {@code HANDOFF} and {@code WATCHDOG} lines)
 * into the Markdown tables of benchmarks/README.md, with every ratio taken within the run.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.redlock.bench.Summary results.csv run.log
 * </pre>
 */
public final class Summary {

    private static final String PKG = "dev.redlock.bench.";

    /** One CSV row. */
    static final class Row {
        final String benchmark;
        final String metric; // "" for the primary score
        final double score;
        final double error;
        final String unit;
        final Map<String, String> params;

        Row(String benchmark, String metric, double score, double error, String unit, Map<String, String> params) {
            this.benchmark = benchmark;
            this.metric = metric;
            this.score = score;
            this.error = error;
            this.unit = unit;
            this.params = params;
        }

        String p(String name) {
            return params.getOrDefault(name, "");
        }
    }

    private final List<Row> rows;
    private final List<Map<String, String>> handoffs = new ArrayList<>();
    private final List<Map<String, String>> watchdogs = new ArrayList<>();
    private final List<Map<String, String>> fairness = new ArrayList<>();
    /** The {@code METRICS} lines of {@link MetricsOverheadBenchmark}. */
    private final List<Map<String, String>> metricsLines = new ArrayList<>();
    /** The {@code COMMANDS} lines by their label ({@code fair}, {@code rw}, {@code multi}). */
    private final Map<String, List<Map<String, String>>> commands = new HashMap<>();
    private int leftoverChecks;
    private final List<String> failures = new ArrayList<>();
    private final List<String> leftovers = new ArrayList<>();
    private final StringBuilder out = new StringBuilder();

    Summary(List<Row> rows, List<String> logLines) {
        this.rows = rows;
        for (String line : logLines) {
            int at = line.indexOf("HANDOFF scope=trial ");
            if (at >= 0) {
                handoffs.add(fields(line.substring(at)));
            }
            if (line.startsWith("# FAILED: ") || line.contains("<failure>")) {
                failures.add(line.trim());
            }
            at = line.indexOf("LEFTOVER ");
            if (at >= 0) {
                leftoverChecks++;
                if (!line.contains(" keys=0")) {
                    leftovers.add(line.substring(at));
                }
            }
            at = line.indexOf("WATCHDOG nodes=");
            if (at >= 0) {
                watchdogs.add(fields(line.substring(at)));
            }
            at = line.indexOf("FAIRNESS scope=trial ");
            if (at >= 0) {
                fairness.add(fields(line.substring(at)));
            }
            at = line.indexOf("METRICS metrics=");
            if (at >= 0) {
                metricsLines.add(fields(line.substring(at)));
            }
            at = line.indexOf("COMMANDS ");
            if (at >= 0) {
                String[] words = line.substring(at).split("\\s+", 3);
                if (words.length == 3) {
                    commands.computeIfAbsent(words[1], label -> new ArrayList<>()).add(fields(words[2]));
                }
            }
        }
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: Summary results.csv [run.log ...]");
            System.exit(2);
        }
        List<String> log = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            log.addAll(Files.readAllLines(Path.of(args[i]), StandardCharsets.UTF_8));
        }
        System.out.print(render(Path.of(args[0]), log));
    }

    static String render(Path csv, List<String> log) throws IOException {
        return new Summary(readCsv(csv), log).render();
    }

    static List<Row> readCsv(Path csv) throws IOException {
        List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        List<Row> rows = new ArrayList<>();
        if (lines.isEmpty()) {
            return rows;
        }
        List<String> header = splitCsv(lines.get(0));
        for (String line : lines.subList(1, lines.size())) {
            if (line.isBlank()) {
                continue;
            }
            List<String> cells = splitCsv(line);
            String name = cells.get(0);
            String metric = "";
            int colon = name.indexOf(':');
            if (colon >= 0) {
                metric = name.substring(colon + 1);
                name = name.substring(0, colon);
            }
            if (name.startsWith(PKG)) {
                name = name.substring(PKG.length());
            }
            Map<String, String> params = new HashMap<>();
            for (int i = 7; i < header.size() && i < cells.size(); i++) {
                if (!cells.get(i).isEmpty()) {
                    params.put(header.get(i).replace("Param: ", ""), cells.get(i));
                }
            }
            rows.add(new Row(name, metric, number(cells.get(4)), number(cells.get(5)), cells.get(6), params));
        }
        return rows;
    }

    private static double number(String s) {
        try {
            return Double.parseDouble(s);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    private static List<String> splitCsv(String line) {
        List<String> cells = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                cells.add(cell.toString());
                cell.setLength(0);
            } else {
                cell.append(c);
            }
        }
        cells.add(cell.toString());
        return cells;
    }

    private static Map<String, String> fields(String line) {
        Map<String, String> map = new LinkedHashMap<>();
        for (String part : line.trim().split("\\s+")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                map.put(part.substring(0, eq), part.substring(eq + 1));
            }
        }
        return map;
    }

    // == lookups ==

    private Row find(String benchmark, String metric, Predicate<Row> match) {
        for (Row r : rows) {
            if (r.benchmark.equals(benchmark) && r.metric.equals(metric) && match.test(r)) {
                return r;
            }
        }
        return null;
    }

    private double score(String benchmark, String metric, Predicate<Row> match) {
        Row r = find(benchmark, metric, match);
        return r == null ? Double.NaN : r.score;
    }

    private TreeSet<Integer> ints(String benchmark, String param) {
        TreeSet<Integer> values = new TreeSet<>();
        for (Row r : rows) {
            if (r.benchmark.equals(benchmark) && !r.p(param).isEmpty()) {
                values.add(Integer.parseInt(r.p(param)));
            }
        }
        return values;
    }

    /** The {@code metric} of the rows with {@code kv} and each of {@code values} of {@code param}, in that order. */
    private double[] scores(String benchmark, String metric, String param, String[] values, String... kv) {
        double[] s = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            s[i] = score(benchmark, metric, is(with(kv, param, values[i])));
        }
        return s;
    }

    /** The values formatted, joined by " / ". */
    private static String fmts(double[] values) {
        List<String> cells = new ArrayList<>();
        for (double v : values) {
            cells.add(fmt(v));
        }
        return String.join(" / ", cells);
    }

    private static Predicate<Row> is(String... kv) {
        return r -> {
            for (int i = 0; i < kv.length; i += 2) {
                if (!r.p(kv[i]).equals(kv[i + 1])) {
                    return false;
                }
            }
            return true;
        };
    }

    private static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "–";
        }
        if (Math.abs(v) >= 100) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        return String.format(Locale.ROOT, "%.1f", v);
    }

    private static String ratio(double a, double b) {
        return Double.isNaN(a) || Double.isNaN(b) || b == 0 ? "–" : String.format(Locale.ROOT, "%.2f", a / b);
    }

    private static String check(boolean known, boolean ok) {
        return known ? (ok ? "met" : "**not met**") : "";
    }

    private void line(String s) {
        out.append(s).append('\n');
    }

    /**
     * The title of a table and a blank line, if the run has rows of {@code benchmark} with {@code metric} ("" for the
     * score).
     *
     * @return whether it has
     */
    private boolean heading(String benchmark, String metric, String title) {
        if (find(benchmark, metric, r -> true) == null) {
            return false;
        }
        line(title);
        line("");
        return true;
    }

    // == tables ==

    String render() {
        uncontended();
        latency();
        allocation();
        contended();
        handoffFloor();
        withLock();
        watchdog();
        fencing();
        semaphore();
        fairLock();
        readWriteLock();
        multiLock();
        metricsOverhead();
        if (!failures.isEmpty()) {
            line("Trials that failed (see run.log): " + failures.size());
            failures.forEach(f -> line("- `" + f + "`"));
            line("");
        }
        if (leftoverChecks > 0) {
            line("Lock keys (and semaphore permits) left on the nodes after the trials: " + (leftovers.isEmpty()
                    ? "none (" + leftoverChecks + " trials checked)."
                    : leftovers.size() + " trials left keys: " + String.join("; ", leftovers)));
            line("");
        }
        return out.toString();
    }

    private static final String[] PEERS = {"redlock", "raw", "redisson", "redissonMulti"};

    private void uncontended() {
        String b = "UncontendedBenchmark.cycles";
        if (!heading(b, "", "### Uncontended acquire + release, cycles/s (higher is better)")) {
            return;
        }
        line("| nodes | in flight | redlock | raw floor | Redisson | Redisson MultiLock | redlock ÷ raw | redlock ÷ Redisson |"
                + " redlock ÷ MultiLock | goal | |");
        line("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
        for (int nodes : ints(b, "nodes")) {
            for (int inFlight : ints(b, "inFlight")) {
                double[] s = new double[PEERS.length];
                for (int i = 0; i < PEERS.length; i++) {
                    s[i] = score(b, "", is("nodes", "" + nodes, "inFlight", "" + inFlight, "impl", PEERS[i]));
                }
                if (Double.isNaN(s[0])) {
                    continue;
                }
                String goal = "";
                String verdict = "";
                if (inFlight >= 16 && nodes == 1) {
                    goal = "≥ 0.8 × raw";
                    verdict = check(!Double.isNaN(s[1]), s[0] >= 0.8 * s[1]);
                } else if (inFlight >= 16 && nodes == 5) {
                    goal = "≥ 0.8 × raw, ≥ 3.5 × RedLock/MultiLock";
                    double redisson = Double.isNaN(s[3]) ? s[2] : Double.isNaN(s[2]) ? s[3] : Math.max(s[2], s[3]);
                    verdict = check(!Double.isNaN(s[1]) && !Double.isNaN(redisson),
                            s[0] >= 0.8 * s[1] && s[0] >= 3.5 * redisson);
                }
                line("| " + nodes + " | " + inFlight + " | " + fmt(s[0]) + " | " + fmt(s[1]) + " | " + fmt(s[2]) + " | "
                        + fmt(s[3]) + " | " + ratio(s[0], s[1]) + " | " + ratio(s[0], s[2]) + " | " + ratio(s[0], s[3])
                        + " | " + goal + " | " + verdict + " |");
            }
        }
        line("");
        line("Redisson is `RLockReactive` on 1 node and `RedissonRedLock` on 3 and 5 nodes.");
        line("");
    }

    private void latency() {
        String b = "CycleLatencyBenchmark.cycle";
        if (!heading(b, "p0.50", "### One cycle with 1 in flight, latency p50 / p99 in µs (lower is better)")) {
            return;
        }
        line("| nodes | redlock | raw floor | Redisson | Redisson MultiLock | redlock ÷ raw (p50) | redlock ÷ Redisson (p50) |"
                + " goal | |");
        line("|---:|---:|---:|---:|---:|---:|---:|---|---|");
        for (int nodes : ints(b, "nodes")) {
            double[] p50 = new double[PEERS.length];
            String[] cells = new String[PEERS.length];
            for (int i = 0; i < PEERS.length; i++) {
                Predicate<Row> m = is("nodes", "" + nodes, "impl", PEERS[i]);
                p50[i] = score(b, "p0.50", m);
                cells[i] = fmt(p50[i]) + " / " + fmt(score(b, "p0.99", m));
            }
            String goal = nodes == 5 ? "p50 ≤ 1.2 × raw" : "";
            String verdict = nodes == 5 ? check(!Double.isNaN(p50[0]) && !Double.isNaN(p50[1]), p50[0] <= 1.2 * p50[1]) : "";
            line("| " + nodes + " | " + String.join(" | ", cells) + " | " + ratio(p50[0], p50[1]) + " | "
                    + ratio(p50[0], p50[2]) + " | " + goal + " | " + verdict + " |");
        }
        line("");
    }

    private void allocation() {
        String b = "UncontendedBenchmark.cycles";
        if (!heading(b, "gc.alloc.rate.norm",
                "### Allocation per acquire + release, bytes (all JVM threads; `-prof gc`, `gc.alloc.rate.norm`)")) {
            return;
        }
        line("| nodes | in flight | redlock | raw floor | Redisson | Redisson MultiLock | redlock ÷ raw |");
        line("|---:|---:|---:|---:|---:|---:|---:|");
        for (int nodes : ints(b, "nodes")) {
            for (int inFlight : ints(b, "inFlight")) {
                double[] s = new double[PEERS.length];
                for (int i = 0; i < PEERS.length; i++) {
                    s[i] = score(b, "gc.alloc.rate.norm", is("nodes", "" + nodes, "inFlight", "" + inFlight, "impl", PEERS[i]));
                }
                if (Double.isNaN(s[0])) {
                    continue;
                }
                line("| " + nodes + " | " + inFlight + " | " + fmt(s[0]) + " | " + fmt(s[1]) + " | " + fmt(s[2]) + " | "
                        + fmt(s[3]) + " | " + ratio(s[0], s[1]) + " |");
            }
        }
        line("");
    }

    private void contended() {
        String b = "ContendedBenchmark.acquisitions";
        if (!heading(b, "", "### Contended handoff: 16 workers, one key, 1 ms critical section")) {
            return;
        }
        line("| nodes | impl | acquisitions/s | handoff gap p50 µs | handoff gap p99 µs | any-gap p50 µs |"
                + " same worker again | goal | |");
        line("|---:|---|---:|---:|---:|---:|---:|---|---|");
        for (int nodes : ints(b, "nodes")) {
            Map<String, String> redisson = handoff("redisson", nodes);
            for (String impl : new String[] {"redlock", "redisson", "polling"}) {
                double acq = score(b, "", is("nodes", "" + nodes, "impl", impl));
                if (Double.isNaN(acq)) {
                    continue;
                }
                Map<String, String> h = handoff(impl, nodes);
                String goal = "";
                String verdict = "";
                if (impl.equals("redlock")) {
                    goal = "gap p50 ≤ 300 µs and below Redisson's";
                    double mine = num(h, "gapP50us");
                    double theirs = num(redisson, "gapP50us");
                    verdict = check(!Double.isNaN(mine), mine <= 300 && (Double.isNaN(theirs) || mine < theirs));
                }
                line("| " + nodes + " | " + impl + " | " + fmt(acq) + " | " + fmt(num(h, "gapP50us")) + " | "
                        + fmt(num(h, "gapP99us")) + " | " + fmt(num(h, "anyGapP50us")) + " | "
                        + (h == null ? "–" : h.get("sameOwnerPct") + " %") + " | " + goal + " | " + verdict + " |");
            }
        }
        line("");
        line("Gap: from the holder starting its release to the next worker's acquire completing (HdrHistogram, pooled"
                + " over the measurement iterations; `HANDOFF scope=trial` lines). \"Same worker again\": acquisitions"
                + " by the worker that had just released (no handoff; a fairness figure).");
        line("");
    }

    private void handoffFloor() {
        String b = "HandoffFloorBenchmark.handoff";
        if (!heading(b, "p0.50",
                "### Handoff floor: raw Lettuce hands the key to the next token on every node (no lock library)")) {
            return;
        }
        line("| nodes | release + acquire, pipelined: p50 / p99 µs | one combined script: p50 / p99 µs |"
                + " redlock handoff gap p50 µs | gap ÷ pipelined floor |");
        line("|---:|---:|---:|---:|---:|");
        for (int nodes : ints(b, "nodes")) {
            Predicate<Row> pipelined = is("nodes", "" + nodes, "mode", "pipelined");
            Predicate<Row> combined = is("nodes", "" + nodes, "mode", "combined");
            double floor = score(b, "p0.50", pipelined);
            double gap = num(handoff("redlock", nodes), "gapP50us");
            line("| " + nodes + " | " + fmt(floor) + " / " + fmt(score(b, "p0.99", pipelined)) + " | "
                    + fmt(score(b, "p0.50", combined)) + " / " + fmt(score(b, "p0.99", combined)) + " | " + fmt(gap)
                    + " | " + ratio(gap, floor) + " |");
        }
        line("");
        line("Floor: the JMH thread writes the holder's compare-and-delete and the next owner's acquire script to every"
                + " node back to back (or one script that swaps the tokens) and waits for a quorum of grants"
                + " (`HandoffFloorBenchmark`).");
        line("");
    }

    private Map<String, String> handoff(String impl, int nodes) {
        return last(handoffs, impl, nodes);
    }

    private static Map<String, String> last(List<Map<String, String>> lines, String impl, int nodes) {
        Map<String, String> found = null;
        for (Map<String, String> h : lines) {
            if (impl.equals(h.get("impl")) && ("" + nodes).equals(h.get("nodes"))) {
                found = h; // the last one of a log wins
            }
        }
        return found;
    }

    private static double num(Map<String, String> map, String key) {
        return map == null || map.get(key) == null ? Double.NaN : number(map.get(key));
    }

    private void withLock() {
        String prefix = "WithLockBenchmark.";
        if (find(prefix + "bare", "", r -> true) == null && find(prefix + "withLock", "", r -> true) == null) {
            return;
        }
        line("### withLock over a bare acquire/body/release (this library), runs/s");
        line("");
        line("| nodes | in flight | bare | withLock (watchdog) | withLock, no watchdog | withLock ÷ bare | no-watchdog ÷ bare |");
        line("|---:|---:|---:|---:|---:|---:|---:|");
        for (int nodes : ints(prefix + "bare", "nodes")) {
            for (int inFlight : ints(prefix + "bare", "inFlight")) {
                Predicate<Row> m = is("nodes", "" + nodes, "inFlight", "" + inFlight);
                double bare = score(prefix + "bare", "", m);
                double wl = score(prefix + "withLock", "", m);
                double nw = score(prefix + "withLockNoWatchdog", "", m);
                line("| " + nodes + " | " + inFlight + " | " + fmt(bare) + " | " + fmt(wl) + " | " + fmt(nw) + " | "
                        + ratio(wl, bare) + " | " + ratio(nw, bare) + " |");
            }
        }
        line("");
    }

    private void watchdog() {
        String b = "WatchdogBenchmark.cycles";
        if (!heading(b, "", "### Watchdog: uncontended cycles/s (16 in flight) while the client holds renewed leases")) {
            return;
        }
        line("| nodes | held leases | held lease time | cycles/s | ÷ held=0 | heap per held scope | held leases lost |");
        line("|---:|---:|---:|---:|---:|---:|---:|");
        for (int nodes : ints(b, "nodes")) {
            double base = score(b, "", is("nodes", "" + nodes, "held", "0"));
            for (int held : ints(b, "held")) {
                Row r = find(b, "", is("nodes", "" + nodes, "held", "" + held));
                if (r == null) {
                    continue;
                }
                Map<String, String> w = null;
                for (Map<String, String> x : watchdogs) {
                    if (Objects.equals(x.get("nodes"), "" + nodes) && Objects.equals(x.get("held"), "" + held)) {
                        w = x;
                    }
                }
                line("| " + nodes + " | " + held + " | " + r.p("heldLeaseMs") + " ms | " + fmt(r.score) + " | "
                        + ratio(r.score, base) + " | " + (w == null ? "–" : w.get("heapPerLeaseBytes") + " B") + " | "
                        + (w == null ? "–" : w.get("lost")) + " |");
            }
        }
        line("");
    }

    private void fencing() {
        String b = "FencingBenchmark.cycles";
        if (!heading(b, "", "### Fencing tokens on vs off (this library), cycles/s")) {
            return;
        }
        line("| nodes | in flight | fencing off | fencing on | on ÷ off |");
        line("|---:|---:|---:|---:|---:|");
        for (int nodes : ints(b, "nodes")) {
            for (int inFlight : ints(b, "inFlight")) {
                double off = score(b, "", is("nodes", "" + nodes, "inFlight", "" + inFlight, "fencing", "false"));
                double on = score(b, "", is("nodes", "" + nodes, "inFlight", "" + inFlight, "fencing", "true"));
                if (Double.isNaN(off) && Double.isNaN(on)) {
                    continue;
                }
                line("| " + nodes + " | " + inFlight + " | " + fmt(off) + " | " + fmt(on) + " | " + ratio(on, off) + " |");
            }
        }
        line("");
    }

    private static final String[] SEMAPHORES = {"redlock", "redisson-permit-expirable", "redisson-semaphore"};

    /**
     * The semaphore table: the goal (issue 11) is at least 2 × each Redisson semaphore on 1 node and at least 3 × on
     * 5 nodes, where Redisson, which has no multi-master semaphore, runs on one of the nodes.
     */
    private void semaphore() {
        String b = "SemaphoreBenchmark.cycles";
        if (!heading(b, "", "### Semaphore acquire + release of one permit, cycles/s (higher is better)")) {
            return;
        }
        boolean alloc = find(b, "gc.alloc.rate.norm", r -> true) != null;
        line("| nodes | in flight | redlock | Redisson RPermitExpirableSemaphore | Redisson RSemaphore |"
                + " redlock ÷ RPermitExpirable | redlock ÷ RSemaphore | goal | |"
                + (alloc ? " bytes per cycle: redlock / RPermitExpirable / RSemaphore |" : ""));
        line("|---:|---:|---:|---:|---:|---:|---:|---|---|" + (alloc ? "---:|" : ""));
        for (int nodes : ints(b, "nodes")) {
            for (int inFlight : ints(b, "inFlight")) {
                String[] kv = {"nodes", "" + nodes, "inFlight", "" + inFlight};
                double[] s = scores(b, "", "impl", SEMAPHORES, kv);
                String bytes = fmts(scores(b, "gc.alloc.rate.norm", "impl", SEMAPHORES, kv));
                if (Double.isNaN(s[0])) {
                    continue;
                }
                double factor = nodes == 1 ? 2 : 3;
                String goal = "≥ " + (int) factor + " × each" + (nodes == 1 ? "" : " (Redisson on 1 of " + nodes + ")");
                String verdict = check(!Double.isNaN(s[1]) || !Double.isNaN(s[2]),
                        (Double.isNaN(s[1]) || s[0] >= factor * s[1]) && (Double.isNaN(s[2]) || s[0] >= factor * s[2]));
                line("| " + nodes + " | " + inFlight + " | " + fmt(s[0]) + " | " + fmt(s[1]) + " | " + fmt(s[2]) + " | "
                        + ratio(s[0], s[1]) + " | " + ratio(s[0], s[2]) + " | " + goal + " | " + verdict + " |"
                        + (alloc ? " " + bytes + " |" : ""));
            }
        }
        line("");
        line("One semaphore of " + SemaphoreBenchmark.PERMITS + " permits shared by the workers (no acquirer waits)."
                + " Redisson has no multi-master semaphore: on more than one node its semaphores run on the first node"
                + " only (a single master), while redlock asks every node and waits for a quorum.");
        line("");
    }

    private static final String[] FAIR_IMPLS = {"fair", "redlock", "redissonFair"};

    /**
     * The fair lock table (issue 12): handoff gap, shares and waits from the {@code FAIRNESS} lines; the goal is a
     * fair-lock gap p50 within 1.5 × the plain lock's and at most a third of {@code RFairLock}'s. Then what the nodes
     * ran per acquisition ({@code COMMANDS} lines).
     */
    private void fairLock() {
        String b = "FairLockBenchmark.acquisitions";
        if (!heading(b, "", "### Fair lock: contended handoff and fairness, one key, 1 ms critical section")) {
            return;
        }
        line("| nodes | impl | clients × workers | acquisitions/s | gap p50 µs | gap p99 µs | share per client % |"
                + " one worker's share, min–max % | wait p50 / p99 ms | longest wait ms | gap p50 ÷ plain |"
                + " gap p50 ÷ RFairLock | goal | |");
        line("|---:|---|---|---:|---:|---:|---|---|---:|---:|---:|---:|---|---|");
        for (int nodes : ints(b, "nodes")) {
            double plain = num(last(fairness, "redlock", nodes), "gapP50us");
            double redisson = num(last(fairness, "redissonFair", nodes), "gapP50us");
            for (String impl : FAIR_IMPLS) {
                Row r = find(b, "", is("nodes", "" + nodes, "impl", impl));
                if (r == null) {
                    continue;
                }
                Map<String, String> f = last(fairness, impl, nodes);
                double gap = num(f, "gapP50us");
                String goal = "";
                String verdict = "";
                if (impl.equals("fair")) {
                    goal = "≤ 1.5 × plain, ≤ RFairLock ÷ 3" + (nodes == 1 ? "" : " (RFairLock on 1 of " + nodes + ")");
                    verdict = check(!Double.isNaN(gap) && (!Double.isNaN(plain) || !Double.isNaN(redisson)),
                            (Double.isNaN(plain) || gap <= 1.5 * plain) && (Double.isNaN(redisson) || 3 * gap <= redisson));
                }
                line("| " + nodes + " | " + impl + " | " + r.p("clients") + " × " + r.p("perClient") + " | "
                        + fmt(r.score) + " | " + fmt(gap) + " | " + fmt(num(f, "gapP99us")) + " | "
                        + (f == null ? "–" : f.get("clientSharePct")) + " | "
                        + (f == null ? "–" : f.get("workerMinPct") + "–" + f.get("workerMaxPct")) + " | "
                        + fmt(num(f, "waitP50ms")) + " / " + fmt(num(f, "waitP99ms")) + " | " + fmt(num(f, "waitMaxMs"))
                        + " | " + ratio(gap, plain) + " | " + ratio(gap, redisson) + " | " + goal + " | " + verdict + " |");
            }
        }
        line("");
        line("Gap: from the holder starting its release to the next worker's acquire completing (HdrHistogram, pooled"
                + " over the measurement iterations; `FAIRNESS scope=trial` lines). Wait: from an acquire's subscription"
                + " to its grant. `redlock` is this library's plain lock; `redissonFair` is Redisson's `RFairLock`,"
                + " which has no multi-node form: on more than one node it runs on the first node only.");
        line("");
        List<Map<String, String>> fair = commands.getOrDefault("fair", List.of());
        if (fair.isEmpty()) {
            return;
        }
        line("What the nodes ran per acquisition (all nodes together, `INFO commandstats` over the measurement"
                + " iterations; calls inside scripts included in the server time):");
        line("");
        line("| nodes | impl | scripts | SUBSCRIBE | UNSUBSCRIBE | PUBLISH | script µs | µs per script | server µs |");
        line("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
        for (int nodes : ints(b, "nodes")) {
            for (String impl : FAIR_IMPLS) {
                Map<String, String> c = last(fair, impl, nodes);
                if (c == null) {
                    continue;
                }
                line("| " + nodes + " | " + impl + " | " + c.get("scriptsPerAcq") + " | " + c.get("subscribePerAcq")
                        + " | " + c.get("unsubscribePerAcq") + " | " + c.get("publishPerAcq") + " | "
                        + c.get("scriptUsecPerAcq") + " | " + c.get("usecPerScript") + " | " + c.get("serverUsecPerAcq")
                        + " |");
            }
        }
        line("");
    }

    /** The last {@code COMMANDS} line of {@code label} whose fields have these values. */
    private Map<String, String> commandsOf(String label, String... kv) {
        return lastOf(commands.getOrDefault(label, List.of()), kv);
    }

    /** The last of {@code lines} whose fields have these values. */
    private static Map<String, String> lastOf(List<Map<String, String>> lines, String... kv) {
        Map<String, String> found = null;
        for (Map<String, String> c : lines) {
            boolean match = true;
            for (int i = 0; i < kv.length; i += 2) {
                match &= kv[i + 1].equals(c.get(kv[i]));
            }
            if (match) {
                found = c; // the last one of a log wins
            }
        }
        return found;
    }

    /** {@code kv} with one more name and value. */
    private static String[] with(String[] kv, String name, String value) {
        String[] more = Arrays.copyOf(kv, kv.length + 2);
        more[kv.length] = name;
        more[kv.length + 1] = value;
        return more;
    }

    /** Goal of issue 13 for this library's read-write and multi-key locks: 2 × Redisson on 1 node, 4 × on more. */
    private static double factor13(int nodes) {
        return nodes == 1 ? 2 : 4;
    }

    /** {@code label} {@code field} of each impl, joined by " / ". */
    private String perImpl(String label, String field, String[] impls, String... kv) {
        List<String> cells = new ArrayList<>();
        for (String impl : impls) {
            Map<String, String> c = commandsOf(label, with(kv, "impl", impl));
            cells.add(c == null || c.get(field) == null ? "–" : c.get(field));
        }
        return String.join(" / ", cells);
    }

    private static final String[] RW_IMPLS = {"redlock", "redisson"};

    /**
     * The read-write lock table (issue 13): cycles/s of the read and the write lock against Redisson's
     * {@code RReadWriteLock} (on the first node when there are more), with what the nodes ran per cycle.
     */
    private void readWriteLock() {
        String b = "ReadWriteLockBenchmark.cycles";
        if (!heading(b, "", "### Read-write lock acquire + release, cycles/s (higher is better)")) {
            return;
        }
        line("| nodes | in flight | lock | redlock | Redisson RReadWriteLock | redlock ÷ Redisson | goal | |"
                + " scripts per cycle: redlock / Redisson | commands per cycle | server µs per cycle |");
        line("|---:|---:|---|---:|---:|---:|---|---|---:|---:|---:|");
        for (int nodes : ints(b, "nodes")) {
            for (int inFlight : ints(b, "inFlight")) {
                for (String lock : new String[] {"read", "write"}) {
                    String[] kv = {"nodes", "" + nodes, "inFlight", "" + inFlight, "lock", lock};
                    double ours = score(b, "", is(with(kv, "impl", "redlock")));
                    double theirs = score(b, "", is(with(kv, "impl", "redisson")));
                    if (Double.isNaN(ours) && Double.isNaN(theirs)) {
                        continue;
                    }
                    double factor = factor13(nodes);
                    line("| " + nodes + " | " + inFlight + " | " + lock + " | " + fmt(ours) + " | " + fmt(theirs) + " | "
                            + ratio(ours, theirs) + " | ≥ " + (int) factor + " ×"
                            + (nodes == 1 ? "" : " (Redisson on 1 of " + nodes + ")") + " | "
                            + check(!Double.isNaN(ours) && !Double.isNaN(theirs), ours >= factor * theirs) + " | "
                            + perImpl("rw", "scriptsPerAcq", RW_IMPLS, kv) + " | "
                            + perImpl("rw", "commandsPerAcq", RW_IMPLS, kv) + " | "
                            + perImpl("rw", "serverUsecPerAcq", RW_IMPLS, kv) + " |");
                }
            }
        }
        line("");
        line("Readers share one lock; each writer has its own. Redisson has no multi-node read-write lock: on more than"
                + " one node `RReadWriteLock` runs on the first node only (a single master), while redlock asks every"
                + " node and waits for a quorum. Per cycle, all nodes together (`INFO commandstats` over the"
                + " measurement iterations): scripts run, calls of all commands (those inside scripts included) and"
                + " the server time of all commands.");
        line("");
    }

    private static final String[] MULTI_IMPLS = {"redlock", "redissonMulti", "redissonMultiOneNode"};

    /**
     * The multi-key lock table (issue 13): cycles/s against {@code RedissonMultiLock} over the keys on every node and
     * over the keys on the first node, with what the nodes ran per cycle.
     */
    private void multiLock() {
        String b = "MultiLockBenchmark.cycles";
        if (!heading(b, "", "### Multi-key lock acquire + release, cycles/s (higher is better)")) {
            return;
        }
        line("| nodes | keys | in flight | redlock | MultiLock, every node | MultiLock, first node |"
                + " redlock ÷ MultiLock every node | redlock ÷ MultiLock first node | goal | every node | first node |"
                + " scripts per cycle: redlock / every node / first node | commands per cycle |"
                + " server µs per cycle |");
        line("|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|---:|---:|---:|");
        for (int nodes : ints(b, "nodes")) {
            for (int keys : ints(b, "keys")) {
                for (int inFlight : ints(b, "inFlight")) {
                    String[] kv = {"nodes", "" + nodes, "keys", "" + keys, "inFlight", "" + inFlight};
                    double[] s = new double[MULTI_IMPLS.length];
                    for (int i = 0; i < s.length; i++) {
                        s[i] = score(b, "", is(with(kv, "impl", MULTI_IMPLS[i])));
                    }
                    if (Double.isNaN(s[0])) {
                        continue;
                    }
                    double factor = factor13(nodes);
                    line("| " + nodes + " | " + keys + " | " + inFlight + " | " + fmt(s[0]) + " | " + fmt(s[1]) + " | "
                            + fmt(s[2]) + " | " + ratio(s[0], s[1]) + " | " + ratio(s[0], s[2]) + " | ≥ " + (int) factor
                            + " × | " + check(!Double.isNaN(s[1]), s[0] >= factor * s[1]) + " | "
                            + check(!Double.isNaN(s[2]), s[0] >= factor * s[2]) + " | "
                            + perImpl("multi", "scriptsPerAcq", MULTI_IMPLS, kv) + " | "
                            + perImpl("multi", "commandsPerAcq", MULTI_IMPLS, kv) + " | "
                            + perImpl("multi", "serverUsecPerAcq", MULTI_IMPLS, kv) + " |");
                }
            }
        }
        line("");
        line("Each worker locks keys of its own. `RedissonMultiLock` over one `RLock` per key: on every node (one"
                + " Redisson client per node, every lock must grant) or on the first node only (a single master); on"
                + " 1 node the two are the same lock. Per cycle, all nodes together (`INFO commandstats` over the"
                + " measurement iterations): scripts run, calls of all commands (those inside scripts included) and"
                + " the server time of all commands.");
        line("");
    }

    private static final String[] METRICS = {"off", "micrometer", "micrometerObserved"};

    /**
     * The Micrometer binding's table (issue 14): cycles/s with the binding off, on ({@code micrometer}: a Prometheus
     * registry, default options) and on with Observations; the goal is the binding at least 0.95 × off. Then the
     * allocation per cycle and the acquires the binding recorded ({@code METRICS} lines).
     */
    private void metricsOverhead() {
        String b = "MetricsOverheadBenchmark.cycles";
        if (!heading(b, "",
                "### Micrometer binding on and off, uncontended acquire + release, cycles/s (higher is better)")) {
            return;
        }
        line("| nodes | in flight | off | micrometer | micrometer + Observations | micrometer ÷ off |"
                + " + Observations ÷ off | goal | | bytes per cycle: off / micrometer / + Observations |"
                + " acquires recorded: micrometer / + Observations |");
        line("|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|");
        for (int nodes : ints(b, "nodes")) {
            for (int inFlight : ints(b, "inFlight")) {
                String[] kv = {"nodes", "" + nodes, "inFlight", "" + inFlight};
                double[] s = scores(b, "", "metrics", METRICS, kv);
                String bytes = fmts(scores(b, "gc.alloc.rate.norm", "metrics", METRICS, kv));
                if (Double.isNaN(s[0]) && Double.isNaN(s[1])) {
                    continue;
                }
                List<String> recorded = new ArrayList<>();
                for (String metrics : new String[] {"micrometer", "micrometerObserved"}) {
                    Map<String, String> recorder = lastOf(metricsLines, with(kv, "metrics", metrics));
                    recorded.add(recorder == null ? "–" : recorder.get("acquired"));
                }
                line("| " + nodes + " | " + inFlight + " | " + fmt(s[0]) + " | " + fmt(s[1]) + " | " + fmt(s[2]) + " | "
                        + ratio(s[1], s[0]) + " | " + ratio(s[2], s[0]) + " | ≥ 0.95 × off | "
                        + check(!Double.isNaN(s[0]) && !Double.isNaN(s[1]), s[1] >= 0.95 * s[0]) + " | "
                        + bytes + " | " + String.join(" / ", recorded) + " |");
            }
        }
        line("");
        line("One client, default options; `micrometer` is `RedlockMetrics` with its defaults (percentile histograms on)"
                + " on a `PrometheusMeterRegistry`; `+ Observations` adds an `ObservationRegistry` with a"
                + " `DefaultMeterObservationHandler` on the same registry. Acquires recorded: the `redlock.acquire`"
                + " timer's count of acquired outcomes over the whole trial (`METRICS` lines).");
        line("");
    }
}
