package dev.redlock.bench;

import dev.redlock.LockOptions;
import dev.redlock.testkit.RedisServers;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * What one trial runs on: {@code nodes} fresh redis-server processes started from the embedded binary on 127.0.0.1
 * (no persistence; see {@link RedisServers}), and one lock implementation connected to them. Every trial starts its
 * own processes, so no trial sees another's keys (Redisson's unlock latches, for one). Blocking; setup only.
 */
final class Env implements AutoCloseable {

    final RedisServers servers;
    final LockDriver driver;
    /** The {@code impl} parameter's value, for the {@code LEFTOVER} line. */
    final String impl;

    private Env(RedisServers servers, LockDriver driver, String impl) {
        this.servers = servers;
        this.driver = driver;
        this.impl = impl;
    }

    static Env start(int nodes, String impl) {
        return start(nodes, Impl.of(impl), LockOptions.defaults());
    }

    static Env start(int nodes, Impl impl, LockOptions redlockOptions) {
        return start(nodes, impl, redlockOptions, 1);
    }

    /**
     * With {@code clients} separate clients of the implementation (each with its own connections), the workers of
     * slot {@code i} on client {@code i / (slots / clients)} ({@link ClientsDriver}).
     */
    static Env start(int nodes, Impl impl, LockOptions redlockOptions, int clients) {
        return start(nodes, impl.param(), uris -> clients == 1 ? impl.start(uris, redlockOptions)
                : ClientsDriver.start(clients, () -> impl.start(uris, redlockOptions)));
    }

    /**
     * {@code nodes} fresh nodes and the driver {@code driver} makes for their URIs ({@code impl} names it in the
     * {@code LEFTOVER} line).
     */
    static Env start(int nodes, String impl, Function<List<String>, LockDriver> driver) {
        RedisServers servers = RedisServers.start(nodes);
        try {
            return new Env(servers, driver.apply(servers.uris()), impl);
        } catch (RuntimeException e) {
            servers.close();
            throw e;
        }
    }

    Slot[] prepare(Slot[] slots) {
        for (Slot slot : slots) {
            driver.prepare(slot);
        }
        return slots;
    }

    /**
     * Checks that no lock key outlived its release (the "per-node command order" pitfall of ecosystem.md §7 leaves
     * stale keys behind): waits up to 2 s for the releases still finishing in the background, prints one
     * {@code LEFTOVER} line and fails the trial if lock keys remain. Fencing counters and Redisson's unlock latches
     * are not lock keys and are left alone.
     */
    void verifyNoLocksLeft(String label) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        List<String> left = lockKeys();
        while (!left.isEmpty() && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            left = lockKeys();
        }
        System.out.println("LEFTOVER " + label + " impl=" + impl + " nodes="
                + servers.size() + " keys=" + left.size() + (left.isEmpty() ? "" : " " + left));
        if (!left.isEmpty()) {
            throw new IllegalStateException(label + ": lock keys outlived their release: " + left);
        }
    }

    private List<String> lockKeys() {
        List<String> keys = new ArrayList<>();
        for (List<String> node : servers.keys("*bench:*")) {
            for (String key : node) {
                if (!key.startsWith("redisson_") && !key.endsWith(":fence")) {
                    keys.add(key);
                }
            }
        }
        return keys;
    }

    @Override
    public void close() {
        try {
            driver.close();
        } finally {
            servers.close();
        }
    }
}
