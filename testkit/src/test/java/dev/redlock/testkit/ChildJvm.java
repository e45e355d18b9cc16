package dev.redlock.testkit;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Entry point of a separate JVM used by {@link ProcessLifetimeIT}.
 *
 * <ul>
 *   <li>{@code serve hang}: starts one node, prints {@code READY <pid> <port> <dir>} and waits to be killed;</li>
 *   <li>{@code serve exit}: the same, then exits without closing anything (the shutdown hook must clean up);</li>
 *   <li>{@code lock <file>}: prints {@code LOCKED} if it can lock the file, {@code BUSY} if another JVM holds it.</li>
 * </ul>
 */
public final class ChildJvm {

    private ChildJvm() {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "serve": {
                RedisServers servers = RedisServers.start(1);
                RedisServer server = servers.get(0);
                System.out.println("READY " + server.pid() + " " + server.port() + " "
                        + ((LocalRedisProcess) server.process()).directory());
                System.out.flush();
                if (args[1].equals("exit")) {
                    System.exit(0);
                }
                Thread.sleep(Long.MAX_VALUE); // the scenario: a JVM that hangs until the test kills it
                break;
            }
            case "lock": {
                try (FileChannel channel = FileChannel.open(Path.of(args[1]), StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE)) {
                    FileLock lock = channel.tryLock();
                    System.out.println(lock == null ? "BUSY" : "LOCKED");
                }
                break;
            }
            default:
                throw new IllegalArgumentException(args[0]);
        }
    }
}
