package dev.redlock.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * A real {@code redis-server} child process on {@code 127.0.0.1}, started through a small {@code sh} wrapper.
 *
 * <p>The wrapper starts redis-server in the background, prints its pid on the first stdout line (so signals target
 * redis-server itself, not the shell), and runs a watcher that SIGKILLs redis-server within about a second once the
 * JVM is gone. That covers a {@code kill -9} of the JVM, which skips shutdown hooks; {@link ProcessReaper}'s
 * shutdown hook covers normal exits. The wrapper exits as soon as redis-server has exited and been reaped, so "the
 * wrapper has exited" means "redis-server is gone".
 */
final class LocalRedisProcess implements RedisProcess {

    static final String HOST = "127.0.0.1";
    static final String LOG_FILE = "redis.log";
    static final String OUT_FILE = "redis-stdout.log";
    /** The cluster config file of a cluster-mode node, in its own directory; kept across restarts. */
    static final String CLUSTER_CONFIG_FILE = "nodes.conf";
    static final Duration READY_TIMEOUT = Duration.ofSeconds(10);
    static final Duration EXIT_TIMEOUT = Duration.ofSeconds(10);
    private static final int START_ATTEMPTS = 5;
    private static final int LOG_TAIL_LINES = 20;
    /** Node directories are {@code ${java.io.tmpdir}/redlock-redis-<port>-<random>}. */
    static final String DIR_PREFIX = "redlock-redis-";
    private static final AtomicBoolean SWEPT = new AtomicBoolean();

    /**
     * {@code sh -c WRAPPER name <jvm pid> <stdout file> <redis-server> <args...>}. The watcher also stops once the
     * child is gone; the main shell kills the watcher right after reaping the child so it never signals a reused pid.
     */
    static final String WRAPPER = String.join("\n",
            "jvm=\"$1\"; out=\"$2\"; shift 2",
            "\"$@\" >>\"$out\" 2>&1 </dev/null &",
            "child=$!",
            "echo \"$child\"",
            "(",
            "  while kill -0 \"$child\" 2>/dev/null; do",
            "    if ! kill -0 \"$jvm\" 2>/dev/null; then kill -9 \"$child\" 2>/dev/null; exit 0; fi",
            "    sleep 1",
            "  done",
            ") >/dev/null 2>&1 &",
            "watcher=$!",
            "wait \"$child\"",
            "rc=$?",
            "kill \"$watcher\" 2>/dev/null",
            "exit \"$rc\"",
            "");

    private final Path binary;
    private final boolean persistent;
    private final boolean clusterMode;

    private volatile @Nullable PortReservation reservation; // set at first start, kept across restarts
    private volatile @Nullable Path dir;
    private volatile @Nullable Process wrapper;
    private volatile @Nullable ProcessHandle redis;
    private volatile long redisPid = -1;
    private boolean closed;

    LocalRedisProcess(Path binary, boolean persistent, boolean clusterMode) {
        this.binary = binary;
        this.persistent = persistent;
        this.clusterMode = clusterMode;
    }

    @Override
    public String host() {
        return HOST;
    }

    @Override
    public int port() {
        PortReservation r = reservation;
        if (r == null) {
            throw new IllegalStateException("redis-server " + binary + " has not been started yet");
        }
        return r.port();
    }

    @Override
    public synchronized void start() {
        if (closed) {
            throw new IllegalStateException("redis-server on port " + port() + " is closed");
        }
        if (isRunning()) {
            return;
        }
        if (reservation == null) {
            startOnNewPort();
        } else {
            try {
                launch();
                awaitReady();
            } catch (RuntimeException e) {
                destroyNow();
                waitForWrapperQuietly();
                throw e;
            }
        }
    }

    private void startOnNewPort() {
        sweepAbandonedDirectoriesOnce();
        List<Integer> tried = new ArrayList<>();
        for (int attempt = 1; ; attempt++) {
            // Redis 6.2 puts a cluster node's bus on port + 10000 (no cluster-port option): reserve that one too
            reservation = clusterMode ? PortReservation.reserveWithClusterBus() : PortReservation.reserve();
            tried.add(reservation.port());
            try {
                dir = Files.createTempDirectory(DIR_PREFIX + reservation.port() + "-").toAbsolutePath();
                launch();
                awaitReady();
                return;
            } catch (IOException | RuntimeException e) {
                destroyNow();
                waitForWrapperQuietly();
                deleteDirQuietly();
                reservation.close();
                reservation = null;
                dir = null;
                if (!(e instanceof PortTakenException)) {
                    if (e instanceof IOException) {
                        throw new RedisTestkitException("Cannot create a temporary directory for redis-server"
                                + " in java.io.tmpdir=" + System.getProperty("java.io.tmpdir"), e);
                    }
                    throw (RuntimeException) e;
                }
                if (attempt == START_ATTEMPTS) {
                    throw new RedisTestkitException("redis-server " + binary + " could not bind any of the ports "
                            + tried + " on " + HOST + " (taken by processes outside the test kit)", e);
                }
            }
        }
    }

    /**
     * Deletes node directories left behind by JVMs that were killed with SIGKILL (their watcher killed redis-server
     * but nobody deleted the directory). A directory is abandoned when the lock of its port is free: a live node
     * holds that lock from before its directory is created until after it is deleted.
     */
    static void sweepAbandonedDirectoriesOnce() {
        if (SWEPT.compareAndSet(false, true)) {
            sweepAbandonedDirectories();
        }
    }

    static void sweepAbandonedDirectories() {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        Path lockDir = PortReservation.defaultLockDir();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tmp, DIR_PREFIX + "*")) {
            for (Path candidate : dirs) {
                String[] parts = candidate.getFileName().toString().substring(DIR_PREFIX.length()).split("-", 2);
                int port;
                try {
                    port = Integer.parseInt(parts[0]);
                } catch (NumberFormatException e) {
                    continue;
                }
                try (PortReservation lock = PortReservation.lockIfFree(lockDir, port)) {
                    if (lock != null) {
                        deleteRecursively(candidate);
                    }
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // best effort: stale directories only cost disk space in java.io.tmpdir
        }
    }

    private void launch() {
        int port = reservation.port();
        Path out = dir.resolve(OUT_FILE);
        List<String> command = new ArrayList<>(List.of("sh", "-c", WRAPPER, "redlock-testkit-wrapper",
                String.valueOf(ProcessHandle.current().pid()), out.toString(), binary.toString()));
        command.addAll(List.of("--port", String.valueOf(port), "--bind", HOST, "--protected-mode", "no",
                "--daemonize", "no", "--dir", dir.toString(), "--logfile", dir.resolve(LOG_FILE).toString(),
                "--loglevel", "notice"));
        if (persistent) {
            command.addAll(List.of("--appendonly", "yes", "--appendfsync", "always", "--save", ""));
        } else {
            command.addAll(List.of("--save", "", "--appendonly", "no"));
        }
        if (clusterMode) {
            // the file is this node's own and stays across restarts; ClusterSlots copes with it being there or not
            command.addAll(List.of("--cluster-enabled", "yes",
                    "--cluster-config-file", dir.resolve(CLUSTER_CONFIG_FILE).toString()));
        }
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectError(ProcessBuilder.Redirect.appendTo(out.toFile()));
        Process started;
        try {
            started = builder.start();
        } catch (IOException e) {
            throw new RedisTestkitException("Cannot run 'sh' to start " + binary + " on port " + port, e);
        }
        wrapper = started;
        redis = null;
        redisPid = -1;
        ProcessReaper.register(this);
        String line;
        try (InputStream in = started.getInputStream()) {
            started.getOutputStream().close();
            line = Resp.readLine(in).trim();
        } catch (IOException e) {
            throw new RedisTestkitException("The sh wrapper for " + binary + " on port " + port
                    + " did not report the redis-server pid" + logTail(), e);
        }
        try {
            redisPid = Long.parseLong(line);
        } catch (NumberFormatException e) {
            throw new RedisTestkitException("The sh wrapper for " + binary + " printed '" + line
                    + "' instead of the redis-server pid" + logTail(), e);
        }
        redis = ProcessHandle.of(redisPid).orElse(null);
    }

    private void awaitReady() {
        int port = reservation.port();
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        String lastReply = null;
        IOException lastError = null;
        while (true) {
            if (!isRunning()) {
                Integer exit = waitForWrapperQuietly();
                String tail = logTail();
                if (tail.contains("Address already in use")) {
                    throw new PortTakenException("redis-server pid " + redisPid + " could not bind " + HOST + ":"
                            + port + tail);
                }
                throw new RedisTestkitException("redis-server " + binary + " (pid " + redisPid + ") exited during"
                        + " startup on " + HOST + ":" + port + " with exit code " + exit + tail);
            }
            try {
                lastReply = Resp.ping(HOST, port, Duration.ofMillis(250));
                if ("+PONG".equals(lastReply)) {
                    long answering = Resp.serverPid(HOST, port, Duration.ofSeconds(2));
                    if (answering == redisPid) {
                        if (clusterMode) {
                            ClusterSlots.claimAllAndAwaitOk(HOST, port, READY_TIMEOUT, this::logTail);
                        }
                        return;
                    }
                    throw new PortTakenException("port " + HOST + ":" + port + " is answered by redis-server pid "
                            + answering + ", not by the one just started (pid " + redisPid + ")" + logTail());
                }
            } catch (IOException e) {
                lastError = e;
            }
            if (System.nanoTime() - deadline > 0) {
                String tail = logTail();
                destroyNow();
                throw new RedisTestkitException("redis-server " + binary + " (pid " + redisPid + ") on " + HOST
                        + ":" + port + " did not answer PING with +PONG within " + READY_TIMEOUT.toMillis()
                        + " ms (last reply: " + lastReply + ", last error: " + lastError + ")" + tail);
            }
            sleepMillis(10);
        }
    }

    @Override
    public synchronized void kill() {
        ProcessHandle target = redis;
        Process shell = wrapper;
        if (target != null && target.isAlive()) {
            target.destroyForcibly();
        }
        if (shell != null) {
            boolean exited;
            try {
                exited = shell.waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RedisTestkitException("Interrupted while waiting for redis-server pid " + redisPid
                        + " on port " + port() + " to exit", e);
            }
            if (!exited) {
                shell.destroyForcibly();
                throw new RedisTestkitException("redis-server pid " + redisPid + " on port " + port()
                        + " was sent SIGKILL but its sh wrapper (pid " + shell.pid() + ") did not exit within "
                        + EXIT_TIMEOUT.toMillis() + " ms");
            }
        }
        if (target != null) {
            long deadline = System.nanoTime() + EXIT_TIMEOUT.toNanos();
            while (target.isAlive()) {
                if (System.nanoTime() - deadline > 0) {
                    throw new RedisTestkitException("redis-server pid " + redisPid + " on port " + port()
                            + " is still alive " + EXIT_TIMEOUT.toMillis() + " ms after SIGKILL");
                }
                sleepMillis(5);
            }
        }
    }

    @Override
    public synchronized void pause() {
        signalAndAwaitState("STOP", true);
    }

    @Override
    public synchronized void resume() {
        signalAndAwaitState("CONT", false);
    }

    private void signalAndAwaitState(String signal, boolean stopped) {
        if (!isRunning()) {
            throw new IllegalStateException("Cannot send SIG" + signal + ": redis-server pid " + redisPid
                    + " on port " + port() + " is not running");
        }
        ProcessReaper.signal(redisPid, signal);
        // Delivery is asynchronous; on Linux wait until the kernel reports the new state so callers can rely on it.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (true) {
            char state = ProcessReaper.linuxState(redisPid);
            if (state == 0 || (state == 'T') == stopped) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new RedisTestkitException("redis-server pid " + redisPid + " on port " + port()
                        + " is in state '" + state + "' 2 s after SIG" + signal);
            }
            sleepMillis(1);
        }
    }

    @Override
    public boolean isRunning() {
        Process shell = wrapper;
        ProcessHandle target = redis;
        return shell != null && shell.isAlive() && target != null && target.isAlive();
    }

    @Override
    public long pid() {
        long pid = redisPid;
        if (pid < 0) {
            throw new IllegalStateException("redis-server " + binary + " has not been started yet");
        }
        return pid;
    }

    /** Pid of the sh wrapper of the current or last start, -1 if never started (for tests). */
    long wrapperPid() {
        Process shell = wrapper;
        return shell == null ? -1 : shell.pid();
    }

    /** The per-node temporary directory (logs, AOF), null before the first start and after close. */
    @Nullable Path directory() {
        return dir;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        try {
            kill();
        } catch (RuntimeException e) {
            failure = e;
            destroyNow();
        }
        if (reservation != null) {
            reservation.close();
        }
        deleteDirQuietly();
        ProcessReaper.unregister(this);
        if (failure != null) {
            throw failure;
        }
    }

    /** SIGKILLs redis-server and its wrapper without waiting or locking; used by the shutdown hook. */
    void destroyNow() {
        ProcessHandle target = redis;
        if (target != null) {
            target.destroyForcibly();
        }
        Process shell = wrapper;
        if (shell != null) {
            shell.destroyForcibly();
        }
    }

    void deleteDirQuietly() {
        Path d = dir;
        if (d != null) {
            deleteRecursively(d);
        }
    }

    private static void deleteRecursively(Path d) {
        try (var paths = Files.walk(d)) {
            paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort: it lives in java.io.tmpdir
                }
            });
        } catch (IOException | RuntimeException ignored) {
            // best effort
        }
    }

    private @Nullable Integer waitForWrapperQuietly() {
        Process shell = wrapper;
        if (shell == null) {
            return null;
        }
        try {
            if (shell.waitFor(1, TimeUnit.SECONDS)) {
                return shell.exitValue();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return null;
    }

    /** The last lines of the redis log and of the wrapper's stdout/stderr file, formatted for exception messages. */
    String logTail() {
        Path d = dir;
        if (d == null) {
            return "";
        }
        StringBuilder text = new StringBuilder();
        for (String name : List.of(LOG_FILE, OUT_FILE)) {
            Path file = d.resolve(name);
            try {
                if (!Files.isRegularFile(file) || Files.size(file) == 0) {
                    continue;
                }
                List<String> lines = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
                text.append("\n--- last lines of ").append(name).append(" ---");
                for (String line : lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size())) {
                    text.append('\n').append(line);
                }
            } catch (IOException e) {
                text.append("\n--- cannot read ").append(name).append(": ").append(e);
            }
        }
        return text.toString();
    }

    static void sleepMillis(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RedisTestkitException("Interrupted while waiting for redis-server", e);
        }
    }

    @Override
    public String toString() {
        PortReservation r = reservation;
        return "redis-server[" + HOST + ":" + (r == null ? "?" : r.port()) + ", pid " + redisPid + "]";
    }

    /** redis-server could not get its port; the first start retries on another one. */
    private static final class PortTakenException extends RedisTestkitException {
        private static final long serialVersionUID = 1L;

        PortTakenException(String message) {
            super(message);
        }
    }
}
