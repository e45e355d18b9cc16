package dev.redlock.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Summarises a Java Flight Recorder file of a benchmark fork (e.g. from {@code -prof jfr}): the top CPU frames
 * (self time: the top frame of each execution sample), the top frames of this library's own code (first
 * {@code dev.redlock} frame of each sample, excluding the benchmark harness), and the top allocation sites and
 * classes (weighted {@code jdk.ObjectAllocationSample}).
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.redlock.bench.JfrTop path/to/profile.jfr [top=25]
 * </pre>
 */
public final class JfrTop {

    private JfrTop() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: JfrTop file.jfr|dir [top]");
            System.exit(2);
        }
        int top = args.length > 1 ? Integer.parseInt(args[1]) : 25;
        Path path = Path.of(args[0]);
        List<Path> files = new ArrayList<>();
        if (Files.isDirectory(path)) {
            try (Stream<Path> walk = Files.walk(path)) {
                walk.filter(p -> p.toString().endsWith(".jfr")).forEach(files::add);
            }
        } else {
            files.add(path);
        }
        Map<String, Long> self = new HashMap<>();
        Map<String, Long> ours = new HashMap<>();
        Map<String, Long> allocSite = new HashMap<>();
        Map<String, Long> allocClass = new HashMap<>();
        Map<String, Long> threads = new HashMap<>();
        long samples = 0;
        long allocated = 0;
        for (Path file : files) {
            for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
                String type = e.getEventType().getName();
                if (type.equals("jdk.ExecutionSample")) {
                    RecordedStackTrace st = e.getStackTrace();
                    if (st == null || st.getFrames().isEmpty()) {
                        continue;
                    }
                    samples++;
                    self.merge(frame(st.getFrames().get(0)), 1L, Long::sum);
                    String ourFrame = firstOwnFrame(st);
                    if (ourFrame != null) {
                        ours.merge(ourFrame, 1L, Long::sum);
                    }
                    String thread = e.getThread("sampledThread") == null ? "?" : e.getThread("sampledThread").getJavaName();
                    threads.merge(thread == null ? "?" : thread.replaceAll("-\\d+$", "-N"), 1L, Long::sum);
                } else if (type.equals("jdk.ObjectAllocationSample")) {
                    long weight = e.getLong("weight");
                    allocated += weight;
                    allocClass.merge(e.getClass("objectClass").getName(), weight, Long::sum);
                    RecordedStackTrace st = e.getStackTrace();
                    if (st != null && !st.getFrames().isEmpty()) {
                        allocSite.merge(allocationSite(st), weight, Long::sum);
                    }
                }
            }
        }
        System.out.printf(Locale.ROOT, "%d execution samples, %.1f MB sampled allocation, %d file(s)%n", samples,
                allocated / 1e6, files.size());
        print("CPU by thread (samples)", threads, samples, top);
        print("CPU self time: top frames (samples)", self, samples, top);
        print("CPU in this library: first dev.redlock frame of each sample", ours, samples, top);
        print("Allocation by class (sampled bytes)", allocClass, allocated, top);
        print("Allocation by site: first frame outside java.*/jdk.* (sampled bytes)", allocSite, allocated, top);
    }

    private static String frame(RecordedFrame f) {
        return f.getMethod().getType().getName() + "." + f.getMethod().getName();
    }

    private static String firstOwnFrame(RecordedStackTrace st) {
        for (RecordedFrame f : st.getFrames()) {
            String type = f.getMethod().getType().getName();
            if (type.startsWith("dev.redlock.") && !type.startsWith("dev.redlock.bench.")) {
                return frame(f) + ":" + f.getLineNumber();
            }
        }
        return null;
    }

    private static String allocationSite(RecordedStackTrace st) {
        List<RecordedFrame> frames = st.getFrames();
        for (RecordedFrame f : frames) {
            String type = f.getMethod().getType().getName();
            if (!type.startsWith("java.") && !type.startsWith("jdk.") && !type.startsWith("sun.")) {
                return frame(f) + ":" + f.getLineNumber() + " <- " + frame(frames.get(0));
            }
        }
        return frame(frames.get(0));
    }

    private static void print(String title, Map<String, Long> counts, long total, int top) {
        System.out.println();
        System.out.println("== " + title);
        counts.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .limit(top)
                .forEach(en -> System.out.printf(Locale.ROOT, "%6.2f%%  %s%n",
                        total == 0 ? 0.0 : 100.0 * en.getValue() / total, en.getKey()));
    }
}
