package dev.redlock.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.testkit.RedisServers;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The demo end to end, in this JVM (BlockHound installed), against real redis-server processes. */
class DemoIT {

    @Test
    void defaultRunOnFiveEmbeddedNodesPassesAndStopsTheNodes() {
        DemoRun run = DemoRun.of("--duration", "3s", "--workers", "8");

        assertThat(run.exitCode).as(run.toString()).isZero();
        assertThat(run.out).contains("Starting 5 embedded redis-server nodes", "(quorum 3 of 5)",
                "Leases lost:  0", "Errors:       0", "(embedded, stopped at exit)");
        assertThat(run.lastLine()).isEqualTo("RESULT: PASS");
        assertPassingRows(run, 3);
        assertThat(run.out).containsPattern("Dashboard: http://127\\.0\\.0\\.1:\\d+/dashboard ");
        assertThat(run.out).containsPattern("\\[ ?\\ds/3s\\] ops/s +\\d+  wait p50 .* ms p99 .* ms  lost 0  errors 0");
        assertThat(DemoRun.redisChildren()).as("redis-server processes left behind").isZero();
    }

    @Test
    void runsAgainstGivenNodesAndResetsTheCountersOnEachRun() {
        try (RedisServers servers = RedisServers.start(4)) {
            String nodes = String.join(",", servers.uris().subList(0, 3));
            String data = servers.get(3).uri();
            for (int attempt = 1; attempt <= 2; attempt++) {
                // the nodes were started by this test: no lease can exist that they could have forgotten
                DemoRun run = DemoRun.of("--nodes", nodes, "--data", data, "--restart-guard", "RUN_ID",
                        "--duration", "2s", "--workers", "6", "--keys", "2");

                assertThat(run.exitCode).as("run %d: %s", attempt, run).isZero();
                assertThat(run.out).doesNotContain("Starting").contains("(quorum 2 of 3)", "Leases lost:  0");
                assertThat(run.lastLine()).isEqualTo("RESULT: PASS");
                List<String[]> rows = assertPassingRows(run, 2);
                // the counters are on the data node and survive the run: they equal this run's sections only
                for (String[] row : rows) {
                    assertThat(servers.get(3).admin().get("demo:counter:" + row[0])).isEqualTo(row[1]);
                }
                assertThat(servers.get(0).keys("demo:counter:*")).as("no counter on a lock node").isEmpty();
            }
            assertThat(servers.keys("lock:{*")).allSatisfy(keys -> assertThat(keys).isEmpty());
            assertThat(DemoRun.redisChildren()).as("only the test's own nodes run").isEqualTo(4);
        }
    }

    @Test
    void anUpdateOutsideTheLockIsReportedAsMismatchAndFails() {
        try (RedisServers servers = RedisServers.start(4)) {
            String nodes = String.join(",", servers.uris().subList(0, 3));
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong interferences = new AtomicLong();
            Thread intruder = new Thread(() -> {
                // writes without taking the lock, after the demo's reset (it only reads what is there)
                while (!stop.get()) {
                    try {
                        if (servers.get(3).admin().exists("demo:counter:hot-0") > 0) {
                            servers.get(3).admin().incr("demo:counter:hot-0");
                            interferences.incrementAndGet();
                        }
                        TimeUnit.MILLISECONDS.sleep(20); // the scenario: the intruder's pace, not a wait
                    } catch (InterruptedException e) {
                        return;
                    } catch (RuntimeException e) {
                        // node not ready: try again
                    }
                }
            }, "intruder");
            intruder.setDaemon(true);
            intruder.start();
            DemoRun run;
            try {
                run = DemoRun.of("--nodes", nodes, "--data", servers.get(3).uri(), "--restart-guard", "RUN_ID",
                        "--duration", "2s", "--workers", "4", "--keys", "1");
            } finally {
                stop.set(true);
            }

            assertThat(interferences.get()).isPositive();
            assertThat(run.exitCode).as(run.toString()).isEqualTo(Demo.FAIL);
            assertThat(run.out).contains("MISMATCH");
            assertThat(run.lastLine()).startsWith("RESULT: FAIL (1 key has lost updates");
        }
    }

    static List<String[]> assertPassingRows(DemoRun run, int keys) {
        List<String[]> rows = run.keyRows();
        assertThat(rows).as(run.toString()).hasSize(keys);
        long sum = 0;
        for (int i = 0; i < keys; i++) {
            String[] row = rows.get(i);
            assertThat(row[0]).isEqualTo("hot-" + i);
            assertThat(Long.parseLong(row[1])).as("sections on %s", row[0]).isPositive();
            assertThat(row[2]).as("counter of %s", row[0]).isEqualTo(row[1]);
            assertThat(row[3]).isEqualTo("OK");
            sum += Long.parseLong(row[1]);
        }
        assertThat(run.totalSections()).isEqualTo(sum);
        return rows;
    }

}
