package dev.redlock.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Smoke test of the benchmark suite: runs the quick mode ({@link Suite#quickPlan}) and checks that every benchmark
 * method produced a result, that every lock implementation ran, that the contended runs (the fair lock's too) saw no
 * violation of mutual exclusion and left no lock key or waiter queue behind, that the read-write and multi-key
 * lock trials reported what the nodes ran, and that the Micrometer binding's trial recorded its acquires. No timing is
 * asserted.
 *
 * <p>Each trial runs in a forked JVM (one fork per trial, as in real runs): the benchmarks start Redisson, whose
 * Netty threads may block in ways BlockHound would flag in-process, and a forked JVM measures what users would run.
 * This test JVM only drives JMH, so it needs no BlockHound either. About 1–2 minutes.
 */
class BenchmarksSmokeIT {

    @Test
    void quickModeProducesAResultForEveryBenchmark() throws Exception {
        Path out = Path.of(System.getProperty("benchmarks.smoke.output", "target/smoke"));
        Collection<RunResult> results = Suite.run(true, out, "BenchmarksSmokeIT (Suite --quick)");

        Set<String> expected = new TreeSet<>();
        for (BenchmarkListEntry entry : BenchmarkList.defaultList().getAll(
                OutputFormatFactory.createFormatInstance(new PrintStream(PrintStream.nullOutputStream()), VerboseMode.SILENT),
                List.of())) {
            expected.add(entry.getUsername());
        }
        Set<String> measured = results.stream()
                .map(r -> r.getParams().getBenchmark())
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(expected).as("benchmarks in META-INF/BenchmarkList").hasSizeGreaterThanOrEqualTo(8);
        assertThat(measured).as("benchmarks that produced a result").isEqualTo(expected);

        for (RunResult r : results) {
            assertThat(r.getPrimaryResult().getScore())
                    .as("score of %s %s", r.getParams().getBenchmark(), r.getParams().getParamsKeys().stream()
                            .map(k -> k + "=" + r.getParams().getParam(k)).collect(Collectors.joining(" ")))
                    .isPositive();
        }
        Set<String> impls = results.stream()
                .filter(r -> r.getParams().getParamsKeys().contains("impl"))
                .map(r -> r.getParams().getParam("impl"))
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(impls).containsExactlyInAnyOrder("redlock", "raw", "redisson", "redissonMulti", "polling", "fair",
                "redissonFair");

        String log = Files.readString(out.resolve("run.log"), StandardCharsets.UTF_8);
        for (String impl : List.of("redlock", "redisson", "polling")) {
            assertThat(log).as("handoff line of %s", impl).containsPattern("HANDOFF scope=trial impl=" + impl + " .* violations=0");
        }
        for (String fair : List.of("impl=fair nodes=5", "impl=redissonFair nodes=1")) {
            assertThat(log).as("fairness line of %s", fair)
                    .containsPattern("FAIRNESS scope=trial " + fair + " clients=3 workers=12 acquisitions=[1-9].* violations=0");
            assertThat(log).as("waiter queues and lock keys of %s", fair).contains("LEFTOVER fair " + fair + " keys=0");
        }
        assertThat(log).containsPattern("WATCHDOG nodes=\\d+ held=\\d+ heldLeaseMs=\\d+ lost=0 ");
        assertThat(log).as("permits check of the semaphore").contains("LEFTOVER semaphore impl=redlock nodes=5 keys=0");
        assertThat(log).as("accuracy line of the rate limiter")
                .containsPattern("RATELIMIT impl=redlock nodes=1 decisions=\\d+ failed=0 admitted=\\d+");
        assertThat(log).as("commands line and leftover check of the read lock")
                .containsPattern("COMMANDS rw impl=redlock nodes=1 inFlight=16 lock=read acquisitions=[1-9]")
                .contains("LEFTOVER rw impl=redlock nodes=1 keys=0");
        assertThat(log).as("commands line and leftover check of the multi-key lock")
                .containsPattern("COMMANDS multi impl=redlock nodes=5 inFlight=16 keys=3 acquisitions=[1-9]")
                .contains("LEFTOVER multi impl=redlock nodes=5 keys=0");
        assertThat(log).as("commands line, leftover check and recorded acquires of the Micrometer binding")
                .containsPattern("COMMANDS metrics metrics=micrometer nodes=5 inFlight=16 acquisitions=[1-9]")
                .containsPattern("METRICS metrics=micrometer nodes=5 inFlight=16 acquired=[1-9]\\d* released=[1-9]")
                .contains("LEFTOVER metrics impl=redlock nodes=5 keys=0");
        assertThat(log).as("lock keys left after a trial").contains("LEFTOVER ").doesNotContainPattern("LEFTOVER .* keys=[1-9]");
        assertThat(Files.readString(out.resolve("summary.md"), StandardCharsets.UTF_8))
                .contains("### Uncontended acquire + release")
                .contains("### Contended handoff")
                .contains("### Semaphore acquire + release")
                .contains("### Fair lock: contended handoff")
                .contains("### Read-write lock acquire + release")
                .contains("### Multi-key lock acquire + release")
                .contains("### Micrometer binding on and off");
    }
}
