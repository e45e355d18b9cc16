package dev.redlock.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;

class TestcontainersModeTest {

    @Test
    void withoutDockerStartingFailsWithAClearMessage() {
        assumeFalse(dockerAvailable(), "Docker is available here, so the no-Docker failure cannot be observed");
        RedisSource source = RedisSource.parse("testcontainers", null);
        long before = ProcessReaper.openCount();

        assertThatThrownBy(() -> RedisServers.start(3, false, source))
                .isInstanceOf(RedisTestkitException.class)
                .hasMessageStartingWith("redlock.test.redis=testcontainers (system property redlock.test.redis)"
                        + " but no Docker environment is available (")
                .hasMessageContaining("unset redlock.test.redis");
        assertThat(ProcessReaper.openCount()).isEqualTo(before);
    }

    @Test
    void pidIsUnsupportedInContainerModeAndSaysWhy() {
        assertThatThrownBy(() -> new ContainerRedisProcess(false, false).pid())
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("redlock.test.redis=testcontainers")
                .hasMessageContaining("no host pid");
    }

    private static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (Throwable t) {
            return false;
        }
    }
}
