package dev.redlock.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * A loopback TCP port reserved for one node for its whole life, restarts included.
 *
 * <p>Ports come from {@code [20000, 32000)}, below the Linux ephemeral range (32768-60999) so outgoing connections
 * never take them. A port is reserved by an exclusive {@link FileChannel#tryLock() file lock} on
 * {@code ${java.io.tmpdir}/redlock-testkit-ports/<port>.lock}, which keeps parallel test JVMs apart and is released
 * by {@link #close()} or, at the latest, when the JVM exits. Lock files are never deleted: deleting them would let
 * two JVMs lock different inodes for the same port.
 *
 * <p>A cluster-mode node also listens on its cluster bus port, which Redis 6.2 fixes at the client port plus
 * {@value #CLUSTER_BUS_OFFSET}; {@link #reserveWithClusterBus()} reserves both, so no other node of any test JVM can
 * take the bus port while the node lives.
 */
final class PortReservation implements AutoCloseable {

    static final int FIRST_PORT = 20000;
    static final int END_PORT = 32000; // exclusive
    static final String LOCK_DIR = "redlock-testkit-ports";
    /** The cluster bus port of a cluster-mode node is its client port plus this (fixed in Redis 6.2). */
    static final int CLUSTER_BUS_OFFSET = 10000;

    private static final Set<Integer> HELD_BY_THIS_JVM = ConcurrentHashMap.newKeySet();

    private final int port;
    private final FileChannel channel;
    private final FileLock lock;
    private PortReservation bus; // the cluster bus port's reservation, set once before the reservation is handed out
    private boolean closed;

    private PortReservation(int port, FileChannel channel, FileLock lock) {
        this.port = port;
        this.channel = channel;
        this.lock = lock;
    }

    /** Reserves a free port, starting the search at a random port of the range. */
    static PortReservation reserve() {
        int start = FIRST_PORT + ThreadLocalRandom.current().nextInt(END_PORT - FIRST_PORT);
        return reserve(defaultLockDir(), start);
    }

    static Path defaultLockDir() {
        return Path.of(System.getProperty("java.io.tmpdir")).resolve(LOCK_DIR);
    }

    /**
     * Takes the lock of {@code port} if no test JVM holds it, without checking whether the port is bindable; used
     * to recognise directories of nodes whose JVM is gone. Returns null when the lock is held.
     */
    static @Nullable PortReservation lockIfFree(Path lockDir, int port) {
        if (!Files.isDirectory(lockDir) || !HELD_BY_THIS_JVM.add(port)) {
            return null;
        }
        PortReservation reservation = null;
        try {
            reservation = tryLock(lockDir, port);
            return reservation;
        } catch (RedisTestkitException e) {
            return null;
        } finally {
            if (reservation == null) {
                HELD_BY_THIS_JVM.remove(port);
            }
        }
    }

    static PortReservation reserve(Path lockDir, int start) {
        createLockDir(lockDir);
        int range = END_PORT - FIRST_PORT;
        int[] misses = new int[2];
        for (int i = 0; i < range; i++) {
            int port = FIRST_PORT + Math.floorMod(start - FIRST_PORT + i, range);
            PortReservation reservation = tryReserve(lockDir, port, misses);
            if (reservation != null) {
                return reservation;
            }
        }
        throw new RedisTestkitException("No free port in [" + FIRST_PORT + ", " + END_PORT + ") on 127.0.0.1: "
                + misses[0] + " locked by other test JVMs in " + lockDir + ", " + misses[1]
                + " in use by other processes");
    }

    /**
     * Reserves a free port {@code p} together with its cluster bus port {@code p + }{@value #CLUSTER_BUS_OFFSET},
     * both inside the range: {@code p} comes from {@code [20000, 22000)}, the bus port from {@code [30000, 32000)}.
     * {@link #close()} releases both.
     */
    static PortReservation reserveWithClusterBus() {
        int start = FIRST_PORT + ThreadLocalRandom.current().nextInt(END_PORT - FIRST_PORT - CLUSTER_BUS_OFFSET);
        return reserveWithClusterBus(defaultLockDir(), start);
    }

    static PortReservation reserveWithClusterBus(Path lockDir, int start) {
        createLockDir(lockDir);
        int range = END_PORT - FIRST_PORT - CLUSTER_BUS_OFFSET;
        int[] misses = new int[2];
        for (int i = 0; i < range; i++) {
            int port = FIRST_PORT + Math.floorMod(start - FIRST_PORT + i, range);
            PortReservation client = tryReserve(lockDir, port, misses);
            if (client == null) {
                continue;
            }
            PortReservation bus = tryReserve(lockDir, port + CLUSTER_BUS_OFFSET, misses);
            if (bus == null) {
                client.close();
                continue;
            }
            client.bus = bus;
            return client;
        }
        throw new RedisTestkitException("No free pair of a port in [" + FIRST_PORT + ", "
                + (END_PORT - CLUSTER_BUS_OFFSET) + ") and its cluster bus port (+" + CLUSTER_BUS_OFFSET
                + ") on 127.0.0.1: " + misses[0] + " ports locked by other test JVMs in " + lockDir + ", "
                + misses[1] + " in use by other processes");
    }

    private static void createLockDir(Path lockDir) {
        try {
            Files.createDirectories(lockDir);
        } catch (IOException e) {
            throw new RedisTestkitException("Cannot create the port lock directory " + lockDir
                    + "; set java.io.tmpdir to a writable directory", e);
        }
    }

    /**
     * Reserves exactly {@code port} if no test JVM holds it and it is bindable, else returns null and counts why in
     * {@code misses}: {@code [0]} locked by another test JVM, {@code [1]} in use by another process.
     */
    private static @Nullable PortReservation tryReserve(Path lockDir, int port, int[] misses) {
        if (!HELD_BY_THIS_JVM.add(port)) {
            return null;
        }
        PortReservation reservation = null;
        try {
            reservation = tryLock(lockDir, port);
            if (reservation == null) {
                misses[0]++;
            } else if (!isBindable(port)) {
                misses[1]++;
                reservation.close();
                reservation = null;
            }
            return reservation;
        } finally {
            if (reservation == null) {
                HELD_BY_THIS_JVM.remove(port);
            }
        }
    }

    private static @Nullable PortReservation tryLock(Path lockDir, int port) {
        Path file = lockDir.resolve(port + ".lock");
        FileChannel channel = null;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock != null) {
                return new PortReservation(port, channel, lock);
            }
        } catch (OverlappingFileLockException e) {
            // held by this JVM through a channel we do not track; treat as taken
        } catch (IOException e) {
            closeQuietly(channel);
            throw new RedisTestkitException("Cannot lock port file " + file
                    + "; set java.io.tmpdir to a writable directory", e);
        }
        closeQuietly(channel);
        return null;
    }

    /** Whether a listening socket can be bound to {@code 127.0.0.1:port} right now (as redis does, SO_REUSEADDR). */
    static boolean isBindable(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    int port() {
        return port;
    }

    /** The reserved cluster bus port, or -1 unless this reservation came from {@link #reserveWithClusterBus()}. */
    int busPort() {
        PortReservation b = bus;
        return b == null ? -1 : b.port;
    }

    /** Releases the file lock; the port may then be taken by any test JVM. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel below releases it too
        }
        closeQuietly(channel);
        HELD_BY_THIS_JVM.remove(port);
        if (bus != null) {
            bus.close();
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing left to release
            }
        }
    }

    @Override
    public String toString() {
        return "PortReservation[" + port + (bus == null ? "" : ", bus " + bus.port) + (closed ? ", released]" : "]");
    }
}
