package dev.redlock.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The demo's {@code --chaos} run end to end, in this JVM (BlockHound installed): lock nodes killed, paused and
 * restarted while the counters stay exact. A class of its own so that CI's second pass (another Redis version) can
 * leave it out: the faults themselves run on that version in the testkit's and the core's integration tests.
 */
class DemoChaosIT {

    @Test
    void chaosKillsPausesAndRestartsAMinorityOfTheNodesAndTheCountersStayExact() {
        long t0 = System.nanoTime();
        // a 2 s lease: the restart guard holds a restarted node out for 2 s, so more faults fit into the run
        DemoRun run = DemoRun.of("--chaos", "--chaos-seed", "14", "--duration", "9s", "--workers", "8",
                "--lease", "2s");
        double wallSeconds = (System.nanoTime() - t0) / 1e9;

        assertThat(run.exitCode).as(run.toString()).isZero();
        assertThat(run.lastLine()).as(run.toString()).isEqualTo("RESULT: PASS");
        assertThat(run.out).contains("and a data node", "seed 14", "Errors:       0");
        DemoIT.assertPassingRows(run, 3);
        // faults were injected, on lock nodes only: the first is a kill, followed by the restart on the same port
        Matcher killed = Pattern.compile("chaos: node (127\\.0\\.0\\.1:\\d+) killed \\(SIGKILL\\)").matcher(run.out);
        assertThat(killed.find()).as(run.toString()).isTrue();
        assertThat(run.out).as(run.toString())
                .contains("chaos: node " + killed.group(1) + " restarted on the same port");
        List<String> faults = run.out.lines()
                .filter(l -> l.matches(".*chaos: node \\S+ (killed|paused) .*"))
                .collect(Collectors.toList());
        assertThat(faults).as(run.toString()).hasSizeGreaterThanOrEqualTo(2);
        Matcher summary = Pattern.compile("Summary after (\\d+\\.\\d) s").matcher(run.out);
        assertThat(summary.find()).isTrue();
        assertThat(Double.parseDouble(summary.group(1))).as("run time")
                .isLessThan(9 + Demo.END_GRACE.toMillis() / 1000.0 + 0.5);
        Matcher started = Pattern.compile("Started in (\\d+\\.\\d) s").matcher(run.out);
        assertThat(started.find()).isTrue();
        assertThat(wallSeconds - Double.parseDouble(started.group(1)))
                .as("the whole run after the nodes started, their stop included").isLessThan(9 + 4);
        assertThat(DemoRun.redisChildren()).as("redis-server processes left behind").isZero();
    }

}
