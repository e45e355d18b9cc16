package dev.redlock.internal.mode;

import dev.redlock.LockOptions;
import dev.redlock.RedLock;
import dev.redlock.hierarchy.RedHierarchicalLock;
import dev.redlock.internal.Checks;
import dev.redlock.internal.engine.Engine;
import dev.redlock.internal.lock.LockHandle;
import dev.redlock.rw.LockMode;
import dev.redlock.rw.RedReadWriteLock;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Makes the read-write and hierarchical locks' handles: each side or mode is a {@link LockHandle} whose specs are
 * {@link ModeLockSpec}s over the right keys. Checks names, paths and options at call time.
 */
public final class ModeLocks {

    private final Engine engine;
    private final String prefix;
    private final UnaryOperator<LockOptions> check;

    /**
     * @param check the client's check of options (lease time within its maximum); fencing is refused here
     */
    public ModeLocks(Engine engine, String prefix, UnaryOperator<LockOptions> check) {
        this.engine = engine;
        this.prefix = prefix;
        this.check = options -> {
            check.apply(options);
            if (options.fencing()) {
                throw new IllegalArgumentException("fencing tokens are not offered by read-write and hierarchical "
                        + "locks: use LockOptions.fencing(false) (got " + options + ")");
            }
            return options;
        };
    }

    /** The read-write lock {@code name}, keyed {@code <prefix>{<name>}:rw}. */
    public RedReadWriteLock readWriteLock(String name, LockOptions options) {
        Checks.key(name, "name");
        return new ReadWrite(name, check.apply(options));
    }

    /** The hierarchical lock on {@code path}. */
    public RedHierarchicalLock hierarchicalLock(String path, LockOptions options) {
        return new Hierarchical(path, segments(path), check.apply(options));
    }

    private RedLock lock(String name, LockMode mode, String[] keys, String channel, LockOptions options) {
        String[] held = {ModeScript.digit(mode) + ""};
        String[] target = {keys[keys.length - 1]};
        return new LockHandle(engine, name, waits -> new ModeLockSpec(name, mode, keys, channel, waits), options,
                check, () -> engine.heldByQuorum(name, ModeScript.HELD, target, held, options.nodeTimeout()));
    }

    private static List<String> segments(String path) {
        Checks.key(path, "path");
        List<String> segments = new ArrayList<>();
        int start = 0;
        while (true) {
            int slash = path.indexOf('/', start);
            String segment = slash < 0 ? path.substring(start) : path.substring(start, slash);
            if (segment.isEmpty()) {
                throw new IllegalArgumentException("path '" + path + "' has an empty segment (number "
                        + (segments.size() + 1) + "): segments are separated by a single '/', with none at either end");
            }
            segments.add(segment);
            if (segments.size() > RedHierarchicalLock.MAX_DEPTH) {
                throw new IllegalArgumentException("path '" + path + "' is deeper than "
                        + RedHierarchicalLock.MAX_DEPTH + " segments");
            }
            if (slash < 0) {
                return List.copyOf(segments);
            }
            start = slash + 1;
        }
    }

    private final class ReadWrite implements RedReadWriteLock {

        private final String name;
        private final LockOptions options;
        private final RedLock read;
        private final RedLock write;

        ReadWrite(String name, LockOptions options) {
            this.name = name;
            this.options = options;
            String[] keys = {prefix + "{" + name + "}:rw"};
            String channel = keys[0] + ":released";
            this.read = lock(name, LockMode.SHARED, keys, channel, options);
            this.write = lock(name, LockMode.EXCLUSIVE, keys, channel, options);
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public LockOptions options() {
            return options;
        }

        @Override
        public RedReadWriteLock withOptions(LockOptions options) {
            return new ReadWrite(name, check.apply(options));
        }

        @Override
        public RedLock readLock() {
            return read;
        }

        @Override
        public RedLock writeLock() {
            return write;
        }

        @Override
        public String toString() {
            return "RedReadWriteLock{" + name + '}';
        }
    }

    private final class Hierarchical implements RedHierarchicalLock {

        private final String path;
        private final List<String> segments;
        private final LockOptions options;
        /** The keys of the path's nodes, from the root: {@code <prefix>{<root>}:tree:<path to the node>}. */
        private final String[] keys;
        private final String channel;

        Hierarchical(String path, List<String> segments, LockOptions options) {
            this.path = path;
            this.segments = segments;
            this.options = options;
            String base = prefix + "{" + segments.get(0) + "}:tree";
            this.keys = new String[segments.size()];
            StringBuilder node = new StringBuilder();
            for (int i = 0; i < keys.length; i++) {
                node.append(i == 0 ? "" : "/").append(segments.get(i));
                keys[i] = base + ":" + node;
            }
            this.channel = base + ":released";
        }

        @Override
        public String path() {
            return path;
        }

        @Override
        public List<String> segments() {
            return segments;
        }

        @Override
        public LockOptions options() {
            return options;
        }

        @Override
        public RedHierarchicalLock withOptions(LockOptions options) {
            return new Hierarchical(path, segments, check.apply(options));
        }

        @Override
        public RedLock lock(LockMode mode) {
            Checks.notNull(mode, "mode");
            if (mode == LockMode.INTENTION_SHARED || mode == LockMode.INTENTION_EXCLUSIVE) {
                throw new IllegalArgumentException("mode " + mode + " is an intention mode, taken on a path's "
                        + "ancestors automatically; lock a path in SHARED, SHARED_INTENTION_EXCLUSIVE or EXCLUSIVE");
            }
            return ModeLocks.this.lock(path, mode, keys, channel, options);
        }

        @Override
        public RedHierarchicalLock child(String segment) {
            if (segment == null || segment.isEmpty() || segment.indexOf('/') >= 0) {
                throw new IllegalArgumentException("segment must be non-empty and without '/', got "
                        + (segment == null ? "null" : "'" + segment + "'"));
            }
            String child = path + "/" + segment;
            return new Hierarchical(child, ModeLocks.segments(child), options);
        }

        @Override
        public String toString() {
            return "RedHierarchicalLock{" + path + '}';
        }
    }
}
