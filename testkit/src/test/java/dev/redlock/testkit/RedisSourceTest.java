package dev.redlock.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class RedisSourceTest {

    @Test
    void unsetOrBlankMeansEmbedded() {
        assertThat(RedisSource.parse(null, null).kind()).isEqualTo(RedisSource.Kind.EMBEDDED);
        assertThat(RedisSource.parse("  ", "").kind()).isEqualTo(RedisSource.Kind.EMBEDDED);
        assertThat(RedisSource.parse("Embedded", null).kind()).isEqualTo(RedisSource.Kind.EMBEDDED);
    }

    @Test
    void keywordsAndPaths() {
        assertThat(RedisSource.parse("path", null).kind()).isEqualTo(RedisSource.Kind.PATH);
        assertThat(RedisSource.parse(" testcontainers ", null).kind()).isEqualTo(RedisSource.Kind.TESTCONTAINERS);
        RedisSource file = RedisSource.parse("opt/redis/bin/redis-server", null);
        assertThat(file.kind()).isEqualTo(RedisSource.Kind.FILE);
        assertThat(file.file()).isEqualTo(Path.of("opt", "redis", "bin", "redis-server"));
    }

    @Test
    void systemPropertyWinsOverEnvironmentVariable() {
        RedisSource source = RedisSource.parse("path", "testcontainers");
        assertThat(source.kind()).isEqualTo(RedisSource.Kind.PATH);
        assertThat(source.describe()).isEqualTo("redlock.test.redis=path (system property redlock.test.redis)");

        RedisSource fromEnv = RedisSource.parse(null, "testcontainers");
        assertThat(fromEnv.kind()).isEqualTo(RedisSource.Kind.TESTCONTAINERS);
        assertThat(fromEnv.describe()).contains("environment variable REDLOCK_TEST_REDIS");
    }

    @Test
    void unknownValueIsRejectedWithTheValueAndTheChoices() {
        assertThatThrownBy(() -> RedisSource.parse(null, "docker"))
                .isInstanceOf(RedisTestkitException.class)
                .hasMessageContaining("'docker'")
                .hasMessageContaining("environment variable REDLOCK_TEST_REDIS")
                .hasMessageContaining("'embedded'")
                .hasMessageContaining("'path'")
                .hasMessageContaining("'testcontainers'");
    }
}
