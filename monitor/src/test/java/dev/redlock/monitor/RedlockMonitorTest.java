package dev.redlock.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redlock.LockEvent;
import dev.redlock.ReactiveRedLock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The builder's checks and the JSON the server writes, without a server. */
class RedlockMonitorTest {

    @Test
    void badOptionsFailAtCallTimeNamingTheValue() {
        try (ReactiveRedLock client = ReactiveRedLock.builder().nodes("redis://127.0.0.1:1").build()) {
            RedlockMonitor.Builder builder = RedlockMonitor.builder(client);
            assertThatThrownBy(() -> builder.port(-1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("-1");
            assertThatThrownBy(() -> builder.port(65_536)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("65536");
            assertThatThrownBy(() -> builder.host(" ")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("host");
            assertThatThrownBy(() -> builder.bearerToken("   ")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("bearerToken");
            assertThatThrownBy(() -> builder.bearerToken("short")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageNotContaining("short");
            assertThatThrownBy(() -> builder.bearerToken("has a space in the token")).isInstanceOf(
                    IllegalArgumentException.class);
            assertThatThrownBy(() -> builder.stats(null)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> RedlockMonitor.builder(null)).isInstanceOf(IllegalArgumentException.class);
            assertThat(builder.host("0.0.0.0").port(0).build().toString()).contains("0.0.0.0:0");
        }
    }

    @Test
    void jsonIsEscapedAndErrorsCarryNoCredentials() {
        LockEvent event = new LockEvent(LockEvent.Type.NODE_DOWN, null, "127.0.0.1:6379", null,
                Instant.ofEpochMilli(1_000), Duration.ZERO,
                new IllegalStateException("cannot reach redis://user:pa55@127.0.0.1:6379/0 <\"x\">\n"));
        String frame = MonitorHandler.frame(event);
        assertThat(frame).startsWith("data: {").endsWith("}\n\n").doesNotContain("pa55").contains("redis://***@")
                .contains("\\u003c\\\"x\\\"\\u003e\\n");
        assertThat(MiniJson.object(frame.substring("data: ".length()).trim()))
                .containsEntry("type", "NODE_DOWN").containsEntry("node", "127.0.0.1:6379").containsEntry("key", null);
        String json = new Json().beginObject().field("a", 1).name("b").beginArray().value(1.5).value(Double.NaN)
                .beginObject().endObject().endArray().field("c", "\u0001").endObject().toString();
        assertThat(json).isEqualTo("{\"a\":1,\"b\":[1.5,null,{}],\"c\":\"\\u0001\"}");
    }

    @Test
    void groupNamesInPaths() {
        assertThat(MonitorHandler.validGroupName("orders")).isTrue();
        assertThat(MonitorHandler.validGroupName("a.b:c-d_e")).isTrue();
        assertThat(MonitorHandler.validGroupName("..")).isFalse();
        assertThat(MonitorHandler.validGroupName(".")).isFalse();
        assertThat(MonitorHandler.validGroupName("..%2fetc")).isFalse();
        assertThat(MonitorHandler.validGroupName("a/b")).isFalse();
        assertThat(MonitorHandler.validGroupName("")).isFalse();
        assertThat(MonitorHandler.validGroupName("x".repeat(129))).isFalse();
    }
}
