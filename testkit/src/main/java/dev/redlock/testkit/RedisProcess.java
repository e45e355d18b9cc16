package dev.redlock.testkit;

/**
 * One redis node's process side: start it, kill it, freeze it. Implemented by {@link LocalRedisProcess} (a real
 * {@code redis-server} child) and {@link ContainerRedisProcess} (a Docker container). All methods block the caller
 * and are called by {@link RedisServer} under its lock.
 */
interface RedisProcess extends AutoCloseable {

    /** The host clients connect to. */
    String host();

    /** The port clients connect to; the same for the node's whole life. */
    int port();

    /** Starts the node (first start, or again on the same port after {@link #kill()}) and waits until it answers. */
    void start();

    /** Kills the node abruptly (SIGKILL) and waits until it is gone; no-op when it is not running. */
    void kill();

    /** Freezes the node (SIGSTOP or container pause). */
    void pause();

    /** Unfreezes the node (SIGCONT or container unpause). */
    void resume();

    /** Whether the node's process exists (also true while paused). */
    boolean isRunning();

    /** The pid of the current or last {@code redis-server} process. */
    long pid();

    /** Kills the node if needed and releases everything it holds: port, directory, container. Idempotent. */
    @Override
    void close();
}
