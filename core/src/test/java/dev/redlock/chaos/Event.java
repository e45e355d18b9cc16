package dev.redlock.chaos;

import java.util.Map;

/**
 * One line of a history. Operations ({@code f} = {@value #ACQUIRE}, {@value #WRITE}, {@value #EXTEND},
 * {@value #RELEASE}) record an {@value #INVOKE} and then exactly one of {@value #OK}, {@value #FAIL} or {@value #INFO}
 * (indeterminate), Jepsen style; other types ({@value #NEMESIS}, {@value #HYGIENE}, {@value #META},
 * {@value #SCHEDULE}) describe the run.
 *
 * <p>Times are {@code System.nanoTime()}. Absent fields are {@code null}. Fields are set while the event is built
 * and never changed once it is appended to a {@link History}.
 */
final class Event {

    static final String INVOKE = "invoke";
    static final String OK = "ok";
    static final String FAIL = "fail";
    static final String INFO = "info";
    static final String NEMESIS = "nemesis";
    static final String HYGIENE = "hygiene";
    static final String META = "meta";
    static final String SCHEDULE = "schedule";

    static final String ACQUIRE = "acquire";
    static final String WRITE = "write";
    static final String RELEASE = "release";
    static final String EXTEND = "extend";

    /** Append order (ties of {@link #t} are broken by it). */
    long seq;
    /** {@code System.nanoTime()} when it happened. */
    long t;
    String type;
    /** The operation (acquire / write / release), fault, or hygiene check. */
    String f;
    Long op;
    Integer client;
    Integer worker;
    String key;
    /** Short hash of the lease token (never the token). */
    String tok;
    /** The engine's fencing token, if the lease has one. */
    Long fence;
    /** The test-only oracle fence drawn when the lease entered the guarded store. */
    Long oracle;
    /** The deadline the holder believed in, as nanoTime (observation time + lease.remaining()). */
    Long deadline;
    /** Nodes that had granted when the acquire was decided. */
    Integer granted;
    /** Semaphore: the permits the operation asks for (and holds once granted). */
    Integer permits;
    /** Semaphore: the semaphore's number of permits P (absent for a lock operation). */
    Integer limit;
    /** Fair lock: the waiter's priority (on the acquire's invoke; absent for a plain lock's operation). */
    Integer priority;
    /** Fair lock: the waiter's heartbeat timeout in ms (on the acquire's invoke). */
    Long heartbeat;
    /** Fair lock: the lease time asked for, in ms (on the acquire's invoke). */
    Long lease;
    /**
     * Lock with modes: the resource nodes the lease holds and the mode on each, as {@code node=MODE} entries
     * separated by spaces (on the acquire's invoke; absent for other operations). See {@link Checker#holds}.
     */
    String holds;
    /** Nemesis start: when the fault is planned to heal (nanoTime; the start itself for an instant fault). */
    Long until;
    /** Write: the version of the unguarded set that was read. */
    Long rv;
    /** Write: the version the write produced in the unguarded set (absent if nothing was written). */
    Long nv;
    /** Write: whether the CAS-guarded register accepted it. */
    Boolean accepted;
    /** Hygiene: how many of the thing were found. */
    Long count;
    /** Free text: error, fault description, reason. */
    String value;

    Event(String type, String f) {
        this.type = type;
        this.f = f;
    }

    static Event of(String type, String f, long op) {
        return new Event(type, f).op(op);
    }

    Event t(long t) {
        this.t = t;
        return this;
    }

    Event op(long op) {
        this.op = op;
        return this;
    }

    Event client(int client) {
        this.client = client;
        return this;
    }

    Event worker(int worker) {
        this.worker = worker;
        return this;
    }

    Event key(String key) {
        this.key = key;
        return this;
    }

    Event tok(String tok) {
        this.tok = tok;
        return this;
    }

    Event fence(Long fence) {
        this.fence = fence;
        return this;
    }

    Event oracle(long oracle) {
        this.oracle = oracle;
        return this;
    }

    Event deadline(long deadline) {
        this.deadline = deadline;
        return this;
    }

    Event granted(int granted) {
        this.granted = granted;
        return this;
    }

    /** A semaphore operation: {@code permits} of the semaphore's {@code limit}. */
    Event permits(int permits, int limit) {
        this.permits = permits;
        this.limit = limit;
        return this;
    }

    /** A fair lock's acquire: the waiter's priority, heartbeat timeout and lease time. */
    Event fair(int priority, long heartbeatMillis, long leaseMillis) {
        this.priority = priority;
        this.heartbeat = heartbeatMillis;
        this.lease = leaseMillis;
        return this;
    }

    /** A lock with modes: what its lease holds ({@link Checker#holds}). */
    Event holds(String holds) {
        this.holds = holds;
        return this;
    }

    Event until(long until) {
        this.until = until;
        return this;
    }

    Event rv(long rv) {
        this.rv = rv;
        return this;
    }

    Event nv(long nv) {
        this.nv = nv;
        return this;
    }

    Event accepted(boolean accepted) {
        this.accepted = accepted;
        return this;
    }

    Event count(long count) {
        this.count = count;
        return this;
    }

    Event value(String value) {
        this.value = value;
        return this;
    }

    boolean isOp() {
        return ACQUIRE.equals(f) || WRITE.equals(f) || RELEASE.equals(f) || EXTEND.equals(f);
    }

    boolean is(String type, String f) {
        return type.equals(this.type) && f.equals(this.f);
    }

    String toJson() {
        StringBuilder b = new StringBuilder(160).append('{');
        Json.field(b, "seq", seq);
        Json.field(b, "t", t);
        Json.field(b, "type", type);
        Json.field(b, "f", f);
        Json.field(b, "op", op);
        Json.field(b, "client", client);
        Json.field(b, "worker", worker);
        Json.field(b, "key", key);
        Json.field(b, "tok", tok);
        Json.field(b, "fence", fence);
        Json.field(b, "oracle", oracle);
        Json.field(b, "deadline", deadline);
        Json.field(b, "granted", granted);
        Json.field(b, "permits", permits);
        Json.field(b, "limit", limit);
        Json.field(b, "priority", priority);
        Json.field(b, "heartbeat", heartbeat);
        Json.field(b, "lease", lease);
        Json.field(b, "holds", holds);
        Json.field(b, "until", until);
        Json.field(b, "rv", rv);
        Json.field(b, "nv", nv);
        Json.field(b, "accepted", accepted);
        Json.field(b, "count", count);
        Json.field(b, "value", value);
        return b.append('}').toString();
    }

    static Event fromJson(String line) {
        Map<String, Object> m = Json.parse(line);
        Event e = new Event((String) m.get("type"), (String) m.get("f"));
        e.seq = m.get("seq") == null ? 0 : (Long) m.get("seq");
        e.t = m.get("t") == null ? 0 : (Long) m.get("t");
        e.op = (Long) m.get("op");
        e.client = m.get("client") == null ? null : ((Long) m.get("client")).intValue();
        e.worker = m.get("worker") == null ? null : ((Long) m.get("worker")).intValue();
        e.key = (String) m.get("key");
        e.tok = (String) m.get("tok");
        e.fence = (Long) m.get("fence");
        e.oracle = (Long) m.get("oracle");
        e.deadline = (Long) m.get("deadline");
        e.granted = m.get("granted") == null ? null : ((Long) m.get("granted")).intValue();
        e.permits = m.get("permits") == null ? null : ((Long) m.get("permits")).intValue();
        e.limit = m.get("limit") == null ? null : ((Long) m.get("limit")).intValue();
        e.priority = m.get("priority") == null ? null : ((Long) m.get("priority")).intValue();
        e.heartbeat = (Long) m.get("heartbeat");
        e.lease = (Long) m.get("lease");
        e.holds = (String) m.get("holds");
        e.until = (Long) m.get("until");
        e.rv = (Long) m.get("rv");
        e.nv = (Long) m.get("nv");
        e.accepted = (Boolean) m.get("accepted");
        e.count = (Long) m.get("count");
        e.value = (String) m.get("value");
        return e;
    }

    @Override
    public String toString() {
        return toJson();
    }
}
