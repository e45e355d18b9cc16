package dev.redlock.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The command line: help, version, and every bad option rejected with exit code 2 before anything starts. */
class DemoOptionsTest {

    @Test
    void helpListsEveryOptionWithItsDefault() {
        DemoRun run = DemoRun.of("--help");

        assertThat(run.exitCode).isZero();
        assertThat(run.err).isEmpty();
        assertThat(run.out).startsWith("Usage: redlock-demo")
                .contains("--workers=K", "(default: 16)")
                .contains("--duration=D", "(default: 20s)")
                .contains("--keys=H", "(default: 3)")
                .contains("--hold=T", "(default: 2ms)")
                .contains("--lease=T", "(default: 5s)")
                .contains("--nodes=URI[,URI...]", "embedded")
                .contains("--data=URI", "--chaos", "--chaos-seed=SEED", "--monitor-port=PORT", "--no-monitor")
                .contains("--help", "--version");
    }

    @Test
    void versionPrintsAndExitsZero() {
        DemoRun run = DemoRun.of("--version");

        assertThat(run.exitCode).isZero();
        assertThat(run.out).startsWith("redlock-demo ");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "--bogus                                                    | Unknown option: '--bogus'",
        "--workers abc                                              | Invalid value for option '--workers': 'abc' is not an int",
        "--workers 0                                                | --workers must be at least 1, got 0",
        "--workers -3                                               | --workers must be at least 1, got -3",
        "--keys 0                                                   | --keys must be at least 1, got 0",
        "--duration 0                                               | --duration must be positive, got 0s",
        "--duration -5s                                             | --duration must be positive, got -5s",
        "--duration soon                                            | 'soon' is not a duration",
        "--hold -1ms                                                | --hold must not be negative",
        "--lease 50ms                                               | must be shorter than leaseTime",
        "--nodes http://127.0.0.1:6379                              | node URI must start with redis:// or rediss://",
        "--nodes redis://127.0.0.1:6379,redis://127.0.0.1:6380 --data redis://127.0.0.1:6390 | the number of nodes must be odd",
        "--nodes redis://127.0.0.1:6379,redis://127.0.0.1:6379,redis://127.0.0.1:6381 --data redis://127.0.0.1:6390 | is listed twice",
        "--nodes redis://127.0.0.1:6379,redis://127.0.0.1:6380,redis://127.0.0.1:6381 | --nodes needs --data redis://host:port",
        "--nodes redis://127.0.0.1:6379,redis://127.0.0.1:6380,redis://127.0.0.1:6381 --data redis://127.0.0.1:6380 | --data 127.0.0.1:6380 is one of the --nodes",
        "--data http://127.0.0.1:6390                               | Invalid value for option '--data'",
        "--chaos --nodes redis://127.0.0.1:6379,redis://127.0.0.1:6380,redis://127.0.0.1:6381 --data redis://127.0.0.1:6390 | --chaos kills, pauses and restarts lock nodes, so it runs only on the embedded nodes",
        "--chaos-seed 7                                             | --chaos-seed needs --chaos",
        "--monitor-port 70000                                       | --monitor-port must be between 0 (a free port) and 65535, got 70000",
        "--chaos --chaos-seed x                                     | Invalid value for option '--chaos-seed': 'x' is not a long",
        "unexpected                                                 | Unmatched argument at index 0: 'unexpected'",
    })
    void badOptionsExitWithTwoAndAClearMessageBeforeStartingAnything(String args, String message) {
        long redisBefore = DemoRun.redisChildren();

        DemoRun run = DemoRun.of(args.trim().split("\\s+"));

        assertThat(run.exitCode).as(run.toString()).isEqualTo(Demo.USAGE);
        assertThat(run.out).as("nothing started, nothing printed on stdout").isEmpty();
        assertThat(run.err.lines()).as(run.toString()).containsExactly(
                run.err.lines().findFirst().orElseThrow(), "Run with --help for the options.");
        assertThat(run.err.lines().findFirst().orElseThrow()).startsWith("redlock-demo: ").contains(message);
        assertThat(DemoRun.redisChildren()).isEqualTo(redisBefore).isZero();
    }

    @ParameterizedTest(name = "{0} = {1} ms")
    @CsvSource({"20s, 20000", "500ms, 500", "2m, 120000", "20, 20000", "1.5s, 1500", "PT3S, 3000", " 7s , 7000", "250us, 0.25"})
    void durationsAcceptShortFormsAndPlainSeconds(String text, double millis) {
        assertThat(Durations.parse(text)).isEqualTo(Duration.ofNanos(Math.round(millis * 1_000_000)));
    }

    @Test
    void durationsPrintShort() {
        assertThat(Durations.format(Duration.ofSeconds(20))).isEqualTo("20s");
        assertThat(Durations.format(Duration.ofMillis(500))).isEqualTo("500ms");
        assertThat(Durations.format(Duration.ofMinutes(2))).isEqualTo("2m");
        assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1.5s");
        assertThat(Durations.format(Duration.ZERO)).isEqualTo("0s");
    }
}
