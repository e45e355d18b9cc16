package dev.redlock.chaos;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A lock-free, append-only history of one run (Jepsen style). Appending never blocks, so it may be called from
 * event-loop threads; reading is meant for after the run.
 */
final class History {

    static final Comparator<Event> ORDER = Comparator.<Event>comparingLong(e -> e.t).thenComparingLong(e -> e.seq);

    private final ConcurrentLinkedQueue<Event> events = new ConcurrentLinkedQueue<>();
    private final AtomicLong seq = new AtomicLong();
    private final AtomicLong ops = new AtomicLong();

    /** A fresh operation id. */
    long nextOp() {
        return ops.incrementAndGet();
    }

    /** Appends {@code e}, stamping it with the current time unless a time was set. */
    Event append(Event e) {
        if (e.t == 0) {
            e.t = System.nanoTime();
        }
        e.seq = seq.incrementAndGet();
        events.add(e);
        return e;
    }

    /** The events so far, ordered by time (then append order). */
    List<Event> events() {
        List<Event> list = new ArrayList<>(events);
        list.sort(ORDER);
        return list;
    }

    int size() {
        return events.size();
    }

    /** Writes {@code header} events first (meta, schedule), then the history, one JSON object per line. */
    static void write(Path file, List<Event> header, List<Event> history) {
        try {
            Files.createDirectories(file.getParent());
            try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                for (Event e : header) {
                    w.write(e.toJson());
                    w.newLine();
                }
                for (Event e : history) {
                    w.write(e.toJson());
                    w.newLine();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** Reads a history written by {@link #write}; meta and schedule lines are kept, in file order. */
    static List<Event> read(Path file) {
        try {
            List<Event> list = new ArrayList<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    list.add(Event.fromJson(line));
                }
            }
            return list;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
