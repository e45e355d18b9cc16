package dev.redlock.testkit;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * A {@code redis:7.4-alpine} container per node, for {@code redlock.test.redis=testcontainers}.
 *
 * <p>This is the only class that refers to Testcontainers (an optional dependency); it is loaded only in that mode.
 * The container publishes 6379 on a fixed host port reserved like a local node's, so restarts keep the port.
 * {@link #kill()} is {@code docker kill} (SIGKILL), {@link #pause()} is {@code docker pause} (cgroup freezer), and
 * {@link #start()} after a kill is {@code docker start} of the same container, which keeps its file system (and so
 * the AOF of a persistent node, and the cluster config file of a cluster-mode node). There is no host pid:
 * {@link #pid()} throws.
 */
final class ContainerRedisProcess implements RedisProcess {

    static final String IMAGE = "redis:7.4-alpine";
    private static final int REDIS_PORT = 6379;

    private final boolean persistent;
    private final boolean clusterMode;
    private volatile @Nullable PortReservation reservation;
    private volatile @Nullable RedisContainer container;
    private boolean closed;

    ContainerRedisProcess(boolean persistent, boolean clusterMode) {
        this.persistent = persistent;
        this.clusterMode = clusterMode;
    }

    /**
     * Fails unless Testcontainers finds a Docker environment.
     *
     * @throws RedisTestkitException naming the setting and the reason Docker is unusable
     */
    static void requireDocker(RedisSource source) {
        Throwable reason = null;
        boolean available;
        try {
            available = DockerClientFactory.instance().isDockerAvailable();
        } catch (Throwable t) {
            available = false;
            reason = t;
        }
        if (!available) {
            throw new RedisTestkitException(source.describe() + " but no Docker environment is available ("
                    + (reason == null ? "Testcontainers found no working Docker client strategy; see its log"
                            : reason.toString())
                    + "). Start Docker, or unset " + RedisSource.PROPERTY + " to use the embedded redis-server.",
                    reason);
        }
    }

    @Override
    public String host() {
        RedisContainer c = container;
        return c == null ? LocalRedisProcess.HOST : c.getHost();
    }

    @Override
    public int port() {
        PortReservation r = reservation;
        if (r == null) {
            throw new IllegalStateException("container " + IMAGE + " has not been started yet");
        }
        return r.port();
    }

    @Override
    public synchronized void start() {
        if (closed) {
            throw new IllegalStateException("container for port " + port() + " is closed");
        }
        if (container == null) {
            reservation = PortReservation.reserve();
            container = new RedisContainer(reservation.port(), persistent, clusterMode);
            try {
                container.start();
            } catch (RuntimeException e) {
                reservation.close();
                throw new RedisTestkitException("Cannot start container " + IMAGE + " on host port "
                        + reservation.port(), e);
            }
        } else if (!isRunning()) {
            docker().startContainerCmd(container.getContainerId()).exec();
        }
        awaitReady();
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + LocalRedisProcess.READY_TIMEOUT.toNanos();
        String lastReply = null;
        IOException lastError = null;
        while (true) {
            try {
                lastReply = Resp.ping(host(), port(), Duration.ofMillis(250));
                if ("+PONG".equals(lastReply)) {
                    if (clusterMode) {
                        ClusterSlots.claimAllAndAwaitOk(host(), port(), LocalRedisProcess.READY_TIMEOUT,
                                () -> "\n" + container.getLogs());
                    }
                    return;
                }
            } catch (IOException e) {
                lastError = e;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new RedisTestkitException("Container " + container.getContainerId() + " (" + IMAGE + ") on "
                        + host() + ":" + port() + " did not answer PING with +PONG within "
                        + LocalRedisProcess.READY_TIMEOUT.toMillis() + " ms (last reply: " + lastReply
                        + ", last error: " + lastError + ")\n" + container.getLogs());
            }
            LocalRedisProcess.sleepMillis(10);
        }
    }

    @Override
    public synchronized void kill() {
        if (container == null || !isRunning()) {
            return;
        }
        docker().killContainerCmd(container.getContainerId()).exec();
        long deadline = System.nanoTime() + LocalRedisProcess.EXIT_TIMEOUT.toNanos();
        while (isRunning()) {
            if (System.nanoTime() - deadline > 0) {
                throw new RedisTestkitException("Container " + container.getContainerId() + " still running "
                        + LocalRedisProcess.EXIT_TIMEOUT.toMillis() + " ms after docker kill");
            }
            LocalRedisProcess.sleepMillis(10);
        }
    }

    @Override
    public synchronized void pause() {
        docker().pauseContainerCmd(runningContainerId("pause")).exec();
    }

    @Override
    public synchronized void resume() {
        docker().unpauseContainerCmd(runningContainerId("resume")).exec();
    }

    private String runningContainerId(String operation) {
        if (container == null || !isRunning()) {
            throw new IllegalStateException("Cannot " + operation + " container for port " + port()
                    + ": it is not running");
        }
        return container.getContainerId();
    }

    @Override
    public boolean isRunning() {
        RedisContainer c = container;
        if (c == null || c.getContainerId() == null) {
            return false;
        }
        InspectContainerResponse.ContainerState state =
                c.getDockerClient().inspectContainerCmd(c.getContainerId()).exec().getState();
        return Boolean.TRUE.equals(state.getRunning());
    }

    @Override
    public long pid() {
        throw new UnsupportedOperationException("pid() is not available with " + RedisSource.PROPERTY
                + "=testcontainers: redis-server runs inside container "
                + (container == null ? "(not started)" : container.getContainerId()) + " and has no host pid");
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (container != null) {
                try {
                    InspectContainerResponse.ContainerState state =
                            docker().inspectContainerCmd(container.getContainerId()).exec().getState();
                    if (Boolean.TRUE.equals(state.getPaused())) {
                        docker().unpauseContainerCmd(container.getContainerId()).exec();
                    }
                } catch (RuntimeException ignored) {
                    // stop() below removes it anyway
                }
                container.stop();
            }
        } finally {
            if (reservation != null) {
                reservation.close();
            }
        }
    }

    private DockerClient docker() {
        return container.getDockerClient();
    }

    @Override
    public String toString() {
        return "container[" + IMAGE + ", port " + (reservation == null ? "?" : reservation.port()) + "]";
    }

    /** The redis image with 6379 published on a fixed host port, so the port survives docker kill/start. */
    private static final class RedisContainer extends GenericContainer<RedisContainer> {

        RedisContainer(int hostPort, boolean persistent, boolean clusterMode) {
            super(DockerImageName.parse(IMAGE));
            addFixedExposedPort(hostPort, REDIS_PORT);
            List<String> command = new ArrayList<>(List.of("redis-server", "--port", String.valueOf(REDIS_PORT),
                    "--protected-mode", "no", "--loglevel", "notice"));
            if (persistent) {
                command.addAll(List.of("--appendonly", "yes", "--appendfsync", "always", "--save", ""));
            } else {
                command.addAll(List.of("--save", "", "--appendonly", "no"));
            }
            if (clusterMode) {
                // in the container's working directory /data, which docker start after docker kill keeps; the
                // cluster bus (16379) is not published: a one-node cluster has nobody to talk to
                command.addAll(List.of("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"));
            }
            withCommand(command.toArray(new String[0]));
            waitingFor(Wait.forLogMessage(".*Ready to accept connections.*", 1));
        }
    }
}
