package dev.redlock.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Keeps track of every {@link LocalRedisProcess} that is not closed yet and kills them in a JVM shutdown hook, and
 * sends POSIX signals (Java has no API for SIGSTOP/SIGCONT). Only pids of processes the test kit started are ever
 * signalled.
 */
final class ProcessReaper {

    private static final Set<LocalRedisProcess> OPEN = ConcurrentHashMap.newKeySet();
    private static final Object HOOK_LOCK = new Object();
    private static boolean hookInstalled; // guarded by HOOK_LOCK

    private ProcessReaper() {
    }

    static void register(LocalRedisProcess process) {
        synchronized (HOOK_LOCK) {
            if (!hookInstalled) {
                Runtime.getRuntime().addShutdownHook(new Thread(ProcessReaper::killAll, "redlock-testkit-reaper"));
                hookInstalled = true;
            }
        }
        OPEN.add(process);
    }

    static void unregister(LocalRedisProcess process) {
        OPEN.remove(process);
    }

    /** Number of open local processes (for tests). */
    static int openCount() {
        return OPEN.size();
    }

    private static void killAll() {
        for (LocalRedisProcess process : OPEN) {
            process.destroyNow();
        }
        for (LocalRedisProcess process : OPEN) {
            process.deleteDirQuietly();
        }
    }

    /**
     * Runs {@code kill -<signal> <pid>} and waits for it.
     *
     * @throws RedisTestkitException when {@code kill} fails, with its exit code and output
     */
    static void signal(long pid, String signal) {
        Process kill;
        try {
            kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(pid)).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new RedisTestkitException("Cannot run 'kill -" + signal + " " + pid + "'", e);
        }
        try {
            kill.getOutputStream().close();
            String output = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!kill.waitFor(10, TimeUnit.SECONDS)) {
                kill.destroyForcibly();
                throw new RedisTestkitException("'kill -" + signal + " " + pid + "' did not finish within 10 s");
            }
            if (kill.exitValue() != 0) {
                throw new RedisTestkitException("'kill -" + signal + " " + pid + "' failed with exit code "
                        + kill.exitValue() + ": " + output);
            }
        } catch (IOException e) {
            throw new RedisTestkitException("Cannot read the output of 'kill -" + signal + " " + pid + "'", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RedisTestkitException("Interrupted while running 'kill -" + signal + " " + pid + "'", e);
        }
    }

    /**
     * The one-letter scheduler state of a process from {@code /proc/<pid>/stat} ({@code R}, {@code S},
     * {@code T} for stopped, ...), or {@code 0} where there is no procfs (macOS) or the process is gone.
     */
    static char linuxState(long pid) {
        Path stat = Path.of("/proc", String.valueOf(pid), "stat");
        try {
            String text = Files.readString(stat, StandardCharsets.ISO_8859_1);
            int end = text.lastIndexOf(')'); // the command name in parentheses may contain spaces
            String rest = end < 0 ? "" : text.substring(end + 1).trim();
            return rest.isEmpty() ? 0 : rest.charAt(0);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
