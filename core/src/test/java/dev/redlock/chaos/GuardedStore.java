package dev.redlock.chaos;

import dev.redlock.Lease;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The in-memory resource the critical sections really use, one per key (reliability.md §4.4). Each key holds:
 *
 * <ul>
 *   <li>an <b>unguarded set</b>: a write stores the set it read plus its own operation id, whatever happened since
 *       the read (a lost update shows as a missing id);</li>
 *   <li>a <b>CAS register</b> on the lease token: entering sets {@code owner = token}, a write is accepted only while
 *       {@code owner == token}.</li>
 * </ul>
 *
 * Every entry, read and write is recorded in the {@link History} under the key's monitor, so the history's order is
 * the store's order and the {@link Checker} can replay it. The oracle fence (a test-only counter, linearizable in
 * this JVM) is drawn at entry. The monitors are held for a few instructions and never around I/O, so this is safe on
 * event-loop threads.
 */
final class GuardedStore {

    /** One version of the unguarded set: its element plus everything of the version it was written over. */
    static final class Node {
        final long version;
        final long element;
        final Node parent;

        Node(long version, long element, Node parent) {
            this.version = version;
            this.element = element;
            this.parent = parent;
        }
    }

    /** What a lease got when it entered. */
    static final class Entry {
        final String key;
        final String tok;
        final long oracle;

        Entry(String key, String tok, long oracle) {
            this.key = key;
            this.tok = tok;
            this.oracle = oracle;
        }
    }

    private static final class KeyState {
        Node head = new Node(0, -1, null);
        long versions;
        String owner;
    }

    private final History history;
    private final AtomicLong oracle = new AtomicLong();
    private final ConcurrentHashMap<String, KeyState> keys = new ConcurrentHashMap<>();

    GuardedStore(History history) {
        this.history = history;
    }

    private KeyState state(String key) {
        return keys.computeIfAbsent(key, k -> new KeyState());
    }

    /**
     * A lease enters its critical section: records the acquire's {@code ok} (time, token hash, fencing token,
     * believed deadline, granted nodes), draws the oracle fence and takes ownership of the CAS register.
     */
    Entry enter(long op, int client, int worker, String key, Lease lease, Belief belief) {
        KeyState s = state(key);
        String tok = tokenHash(lease.token());
        synchronized (s) {
            long t = System.nanoTime();
            long deadline = t + lease.remaining().toNanos();
            belief.set(deadline);
            long fence = oracle.incrementAndGet();
            s.owner = tok;
            Event ok = Event.of(Event.OK, Event.ACQUIRE, op).t(t).client(client).worker(worker).key(key).tok(tok)
                    .oracle(fence).deadline(deadline).granted(lease.grantedNodes());
            lease.fencingToken().ifPresent(ok::fence);
            history.append(ok);
            return new Entry(key, tok, fence);
        }
    }

    /** Reads the unguarded set (the write's {@code invoke}). */
    Node read(long op, int client, Entry entry) {
        KeyState s = state(entry.key);
        synchronized (s) {
            Node head = s.head;
            history.append(Event.of(Event.INVOKE, Event.WRITE, op).t(System.nanoTime()).client(client)
                    .key(entry.key).tok(entry.tok).rv(head.version));
            return head;
        }
    }

    /**
     * Writes {@code read ∪ {op}} to the unguarded set and tries the CAS register; records the write's {@code ok}
     * (accepted) or {@code fail} (rejected by the CAS) with the deadline the writer believed in.
     *
     * @return whether the CAS register accepted the write
     */
    boolean write(long op, int client, Entry entry, Node read, long believedDeadline) {
        KeyState s = state(entry.key);
        synchronized (s) {
            long t = System.nanoTime();
            boolean accepted = entry.tok.equals(s.owner);
            Node next = new Node(++s.versions, op, read);
            s.head = next;
            history.append(Event.of(accepted ? Event.OK : Event.FAIL, Event.WRITE, op).t(t).client(client)
                    .key(entry.key).tok(entry.tok).oracle(entry.oracle).deadline(believedDeadline)
                    .rv(read.version).nv(next.version).accepted(accepted).value(accepted ? null : "cas"));
            return accepted;
        }
    }

    /** A write that did not happen: {@code fail} (e.g. too little validity left) or {@code info} (cancelled). */
    void abort(long op, int client, Entry entry, Node read, String type, String reason, long believedDeadline) {
        KeyState s = state(entry.key);
        synchronized (s) {
            history.append(Event.of(type, Event.WRITE, op).t(System.nanoTime()).client(client).key(entry.key)
                    .tok(entry.tok).oracle(entry.oracle).deadline(believedDeadline).rv(read.version).value(reason));
        }
    }

    /** The operation ids in the final unguarded set of {@code key}. */
    java.util.Set<Long> finalSet(String key) {
        KeyState s = state(key);
        java.util.Set<Long> set = new java.util.HashSet<>();
        synchronized (s) {
            for (Node n = s.head; n != null && n.version > 0; n = n.parent) {
                set.add(n.element);
            }
        }
        return set;
    }

    /** 16 hex digits (FNV-1a, 64 bits) identifying a token without revealing it. */
    static String tokenHash(String token) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < token.length(); i++) {
            h ^= token.charAt(i);
            h *= 0x100000001b3L;
        }
        String hex = Long.toHexString(h);
        return "0".repeat(16 - hex.length()) + hex;
    }

    /** The deadline a holder believes in, as nanoTime: refreshed from {@code lease.remaining()} when observed. */
    static final class Belief {
        private volatile long deadline;
        private volatile boolean frozen;

        void set(long deadline) {
            this.deadline = deadline;
        }

        long get() {
            return deadline;
        }

        /**
         * Control only: from now on the holder keeps the deadline it believes in now, whatever the lease says (a
         * holder told nothing when a renewal shortened its lease).
         */
        void freeze() {
            frozen = true;
        }

        /**
         * Observes the lease: if it has time left, the deadline is now + remaining (never later than the engine's,
         * since the engine reads its clock after this). Returns the remaining nanoseconds (after a {@link #freeze()},
         * what is left of the frozen deadline).
         */
        long observe(Lease lease) {
            long t = System.nanoTime();
            if (frozen) {
                return deadline - t;
            }
            long remaining = lease.remaining().toNanos();
            if (remaining > 0) {
                deadline = t + remaining;
            }
            return remaining;
        }
    }
}
