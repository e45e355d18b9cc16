package dev.redlock.testkit;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/** Finds the {@code redis-server} binary for a {@link RedisSource}; extracts the embedded one once per JVM. */
final class RedisBinary {

    static final String EXECUTABLE = "redis-server";

    private static final Object EMBEDDED_LOCK = new Object();
    private static Path embedded; // guarded by EMBEDDED_LOCK

    private RedisBinary() {
    }

    /**
     * Returns the binary to start for a local source.
     *
     * @throws RedisTestkitException when it cannot be found, is not executable or cannot be extracted
     */
    static Path resolve(RedisSource source) {
        switch (source.kind()) {
            case EMBEDDED:
                return embedded();
            case PATH:
                return findOnPath(System.getenv("PATH"), source);
            case FILE:
                return checkExecutable(source.file(), source);
            default:
                throw new IllegalArgumentException("no local binary for " + source.describe());
        }
    }

    /** The embedded binary for this OS/architecture, extracted on first use and reused for the JVM's life. */
    static Path embedded() {
        synchronized (EMBEDDED_LOCK) {
            if (embedded == null) {
                String resource = embeddedResourceName(System.getProperty("os.name"), System.getProperty("os.arch"));
                embedded = extract(resource, Path.of(System.getProperty("java.io.tmpdir")));
            }
            return embedded;
        }
    }

    /**
     * Picks the classpath resource of the embedded-redis jar that runs on the given OS and architecture.
     *
     * @throws RedisTestkitException when the jar ships no binary for them
     */
    static String embeddedResourceName(String osName, String osArch) {
        String os = osName == null ? "" : osName.toLowerCase(Locale.ROOT);
        String arch = osArch == null ? "" : osArch.toLowerCase(Locale.ROOT);
        boolean x64 = arch.equals("amd64") || arch.equals("x86_64");
        boolean arm64 = arch.equals("aarch64") || arch.equals("arm64");
        boolean x86 = arch.equals("x86") || arch.equals("i386") || arch.equals("i486") || arch.equals("i586")
                || arch.equals("i686");
        if (os.contains("linux")) {
            if (x64) {
                return "redis-server-6.2.6-v5-linux-amd64";
            }
            if (arm64) {
                return "redis-server-6.2.7-linux-arm64";
            }
            if (x86) {
                return "redis-server-6.2.7-linux-386";
            }
        } else if (os.contains("mac") || os.contains("darwin")) {
            if (x64) {
                return "redis-server-6.2.6-v5-darwin-amd64";
            }
            if (arm64) {
                return "redis-server-6.2.6-v5-darwin-arm64";
            }
        }
        throw new RedisTestkitException("The embedded-redis jar has no redis-server for os.name=" + osName
                + ", os.arch=" + osArch + " (the test kit supports Linux amd64/arm64/x86 and macOS amd64/arm64)."
                + " Set -D" + RedisSource.PROPERTY + "=path to use redis-server from PATH, or -D"
                + RedisSource.PROPERTY + "=<path to redis-server>");
    }

    /**
     * Extracts a classpath resource to {@code <baseDir>/redlock-testkit-<sha256 prefix>/redis-server} unless a
     * complete copy is already there. Safe when several JVMs do it at once: each writes its own temporary file in
     * the target directory, makes it executable and renames it atomically over the target.
     */
    static Path extract(String resource, Path baseDir) {
        byte[] bytes;
        try (InputStream in = RedisBinary.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new RedisTestkitException("Classpath resource '" + resource + "' not found: is"
                        + " com.github.codemonstur:embedded-redis on the test classpath? (or set -D"
                        + RedisSource.PROPERTY + "=path / <path to redis-server>)");
            }
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new RedisTestkitException("Cannot read classpath resource '" + resource + "'", e);
        }
        Path dir = baseDir.resolve("redlock-testkit-" + sha256Prefix(bytes));
        Path target = dir.resolve(EXECUTABLE);
        if (isComplete(target, bytes.length)) {
            return target;
        }
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, EXECUTABLE + "-", ".part");
            Files.write(tmp, bytes);
            makeExecutable(tmp);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            } catch (FileAlreadyExistsException e) {
                // another JVM won the race on a file system that does not replace on rename; fine if complete
                if (!isComplete(target, bytes.length)) {
                    throw e;
                }
            }
        } catch (IOException e) {
            throw new RedisTestkitException("Cannot extract '" + resource + "' (" + bytes.length + " bytes) to "
                    + target + "; set java.io.tmpdir to a writable directory", e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // leftover .part file, harmless
                }
            }
        }
        if (!isComplete(target, bytes.length)) {
            throw new RedisTestkitException("Extracted " + target + " is incomplete or not executable (expected "
                    + bytes.length + " bytes)");
        }
        return target;
    }

    /**
     * Finds an executable {@code redis-server} in the directories of a {@code PATH} value.
     *
     * @throws RedisTestkitException when none is found, naming the searched {@code PATH}
     */
    static Path findOnPath(String pathValue, RedisSource source) {
        if (pathValue != null) {
            for (String entry : pathValue.split(File.pathSeparator)) {
                if (entry.isEmpty()) {
                    continue;
                }
                Path candidate = Path.of(entry).resolve(EXECUTABLE);
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                    return candidate;
                }
            }
        }
        throw new RedisTestkitException(source.describe() + " but no executable " + EXECUTABLE
                + " was found on PATH=" + pathValue);
    }

    private static Path checkExecutable(Path file, RedisSource source) {
        if (!Files.exists(file)) {
            throw new RedisTestkitException(source.describe() + " but " + file + " does not exist");
        }
        if (!Files.isRegularFile(file) || !Files.isExecutable(file)) {
            throw new RedisTestkitException(source.describe() + " but " + file
                    + " is not an executable regular file");
        }
        return file;
    }

    private static boolean isComplete(Path target, long size) {
        try {
            return Files.isRegularFile(target) && Files.size(target) == size && Files.isExecutable(target);
        } catch (IOException e) {
            return false;
        }
    }

    private static void makeExecutable(Path file) throws IOException {
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (UnsupportedOperationException e) {
            if (!file.toFile().setExecutable(true, false)) {
                throw new IOException("cannot make " + file + " executable");
            }
        }
    }

    private static String sha256Prefix(byte[] bytes) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes);
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new UncheckedIOException(new IOException("SHA-256 not available", e));
        }
    }
}
