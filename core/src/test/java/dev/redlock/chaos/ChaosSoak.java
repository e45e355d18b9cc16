package dev.redlock.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The soak (reliability.md G2), run by hand before a release through the {@code soak} profile:
 *
 * <pre>
 * ./mvnw -B -pl core -am verify -Psoak -Dchaos.runs=100 -Dchaos.seconds=120
 * </pre>
 *
 * Runs {@code chaos.runs} chaos runs of {@code chaos.seconds} each, seeds {@code chaos.seed}, {@code chaos.seed}+1,
 * ... (default 1000), or exactly the seeds in {@code -Dchaos.seeds=101,202} (to replay a failure). Every run must show
 * 0 violations; a run whose environment broke an assumption is re-run once. The name does not match Failsafe's
 * default includes, so the default build does not run it; the profile includes it explicitly.
 */
class ChaosSoak {

    @TestFactory
    Stream<DynamicTest> soak(@RedisNodes(5) RedisServers servers) {
        long[] seeds = seeds();
        Duration run = Duration.ofSeconds(Long.getLong("chaos.seconds", 120));
        String name = System.getProperty("chaos.name", "soak");
        List<ChaosRun.Result> results = new ArrayList<>();
        Stream<DynamicTest> runs = Arrays.stream(seeds).mapToObj(seed -> DynamicTest.dynamicTest("seed " + seed, () -> {
            ChaosRun.Config cfg = new ChaosRun.Config().name(name).seed(seed).duration(run);
            ChaosRun.Result result = ChaosRun.run(servers, cfg);
            if (result.assumptionBroken != null) {
                System.out.println("re-running seed " + seed + ": " + result.assumptionBroken);
                result = ChaosRun.run(servers, cfg);
            }
            results.add(result);
            assertThat(result.violations()).as(result.report()).isZero();
        }));
        Stream<DynamicTest> totals = Stream.of(DynamicTest.dynamicTest("totals", () -> {
            long cs = results.stream().mapToLong(r -> r.verdict.completedCs).sum();
            long faults = results.stream().mapToLong(r -> r.verdict.faults).sum();
            long lost = results.stream().mapToLong(r -> r.verdict.lost).sum();
            long closed = results.stream().mapToLong(r -> r.verdict.closed).sum();
            long violations = results.stream().mapToLong(ChaosRun.Result::violations).sum();
            String line = "chaos " + name + " total runs=" + results.size() + " seconds=" + run.toSeconds() + " cs=" + cs
                    + " faults=" + faults + " lost=" + lost + " closed=" + closed + " violations=" + violations;
            System.out.println(line);
            ChaosRun.appendSummary(new ChaosRun.Config().outDir, line);
            assertThat(violations).as(line).isZero();
        }));
        return Stream.concat(runs, totals);
    }

    private static long[] seeds() {
        String list = System.getProperty("chaos.seeds", "").trim();
        if (!list.isEmpty()) {
            return Arrays.stream(list.split(",")).map(String::trim).mapToLong(Long::parseLong).toArray();
        }
        long base = Long.getLong("chaos.seed", 1000);
        return LongStream.range(0, Integer.getInteger("chaos.runs", 3)).map(i -> base + i).toArray();
    }
}
