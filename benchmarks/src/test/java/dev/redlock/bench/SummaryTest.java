package dev.redlock.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The README tables come out of a JMH CSV and the HANDOFF lines of the log, with the ratios and the goals. */
class SummaryTest {

    private static Path fixture() throws URISyntaxException {
        return Path.of(SummaryTest.class.getResource("/summary-fixture.csv").toURI());
    }

    @Test
    void readsPrimaryAndSecondaryRowsWithTheirParameters() throws Exception {
        List<Summary.Row> rows = Summary.readCsv(fixture());
        assertThat(rows).hasSize(9);
        Summary.Row alloc = rows.get(1);
        assertThat(alloc.benchmark).isEqualTo("UncontendedBenchmark.cycles");
        assertThat(alloc.metric).isEqualTo("gc.alloc.rate.norm");
        assertThat(alloc.score).isEqualTo(18000.0);
        assertThat(alloc.p("impl")).isEqualTo("redlock");
        assertThat(alloc.p("inFlight")).isEqualTo("16");
        assertThat(alloc.p("workers")).isEmpty();
    }

    @Test
    void rendersRatiosAndGoalVerdicts() throws Exception {
        String md = Summary.render(fixture(), List.of(
                "Iteration   1: HANDOFF scope=trial impl=redlock nodes=1 workers=16 acquisitions=3500 handoffs=3499"
                        + " gapP50us=250.0 gapP99us=900.0 anyGapP50us=250.0 anyGapP99us=900.0 sameOwnerPct=0.0 violations=0",
                "HANDOFF scope=trial impl=redisson nodes=1 workers=16 acquisitions=3200 handoffs=600 gapP50us=400.0"
                        + " gapP99us=1200.0 anyGapP50us=380.0 anyGapP99us=1100.0 sameOwnerPct=81.3 violations=0"));
        // 9000 / 10000 = 0.90 of the floor, 9000 / 2500 = 3.60 of the better Redisson: both goals met
        assertThat(md).contains("| 5 | 16 | 9,000 | 10,000 | 2,000 | 2,500 | 0.90 | 4.50 | 3.60 |");
        assertThat(md).contains("≥ 0.8 × raw, ≥ 3.5 × RedLock/MultiLock | met |");
        // latency p50 330 / 300 = 1.10 <= 1.2
        assertThat(md).contains("| 1.10 |").contains("p50 ≤ 1.2 × raw | met |");
        // allocation table
        assertThat(md).contains("| 5 | 16 | 18,000 |");
        // contended: gap from the HANDOFF lines, goal 250 <= 300 and below Redisson's 400
        assertThat(md).contains("| 1 | redlock | 700 | 250 | 900 | 250 |")
                .contains("| 1 | redisson | 650 | 400 | 1,200 | 380 | 81.3 % |")
                .contains("gap p50 ≤ 300 µs and below Redisson's | met |");
    }

    @Test
    void rendersTheSemaphoreTableWithAVerdictAgainstEachRedissonSemaphore() throws Exception {
        Path csv = Path.of(SummaryTest.class.getResource("/summary-semaphore.csv").toURI());
        String md = Summary.render(csv, List.of("LEFTOVER semaphore impl=redlock nodes=5 keys=0"));
        assertThat(md).contains("### Semaphore acquire + release");
        // 1 node: 3.00 x RPermitExpirableSemaphore but 1.50 x RSemaphore: the 2 x goal is not met
        assertThat(md).contains("| 1 | 16 | 30,000 | 10,000 | 20,000 | 3.00 | 1.50 | ≥ 2 × each | **not met** |"
                + " 6,000 / – / – |");
        // 5 nodes: 3.60 and 3.00 x the single-master Redisson semaphores: met
        assertThat(md).contains("| 5 | 16 | 9,000 | 2,500 | 3,000 | 3.60 | 3.00 | ≥ 3 × each (Redisson on 1 of 5) | met |");
        assertThat(md).contains("single master").contains("none (1 trials checked)");
    }

    @Test
    void rendersTheFairLockTableWithRatiosToThePlainLockAndToRFairLock() throws Exception {
        Path csv = Path.of(SummaryTest.class.getResource("/summary-fair.csv").toURI());
        String md = Summary.render(csv, List.of(
                "FAIRNESS scope=trial impl=fair nodes=1 clients=3 workers=12 acquisitions=3000 handoffs=2999"
                        + " gapP50us=300.0 gapP99us=900.0 sameOwnerPct=0.0 clientSharePct=33.3/33.3/33.4"
                        + " workerMinPct=8.20 workerMaxPct=8.40 waitP50ms=10.00 waitP99ms=20.00 waitMaxMs=25.00 violations=0",
                "FAIRNESS scope=trial impl=redlock nodes=1 clients=3 workers=12 acquisitions=4000 handoffs=3999"
                        + " gapP50us=250.0 gapP99us=700.0 sameOwnerPct=0.0 clientSharePct=50.0/25.0/25.0"
                        + " workerMinPct=5.00 workerMaxPct=12.00 waitP50ms=5.00 waitP99ms=300.00 waitMaxMs=900.00 violations=0",
                "FAIRNESS scope=trial impl=redissonFair nodes=1 clients=3 workers=12 acquisitions=2000 handoffs=1999"
                        + " gapP50us=1200.0 gapP99us=4000.0 sameOwnerPct=0.0 clientSharePct=33.3/33.3/33.3"
                        + " workerMinPct=8.30 workerMaxPct=8.36 waitP50ms=30.00 waitP99ms=60.00 waitMaxMs=70.00 violations=0",
                "COMMANDS fair impl=fair nodes=1 acquisitions=3000 scriptsPerAcq=3.10 subscribePerAcq=1.00"
                        + " unsubscribePerAcq=0.90 publishPerAcq=1.00 scriptUsecPerAcq=40.0 usecPerScript=12.9"
                        + " serverUsecPerAcq=55.0"));
        assertThat(md).contains("### Fair lock: contended handoff");
        // 300 / 250 = 1.20 <= 1.5 of the plain lock; 300 / 1200 = 0.25, at most a third of RFairLock's: met
        assertThat(md).contains("| 1 | fair | 3 × 4 | 300 | 300 | 900 | 33.3/33.3/33.4 | 8.20–8.40 | 10.0 / 20.0 | 25.0 |"
                + " 1.20 | 0.25 | ≤ 1.5 × plain, ≤ RFairLock ÷ 3 | met |");
        assertThat(md).contains("| 1 | redlock | 3 × 4 | 400 | 250 | 700 | 50.0/25.0/25.0 |");
        assertThat(md).contains("| 1 | fair | 3.10 | 1.00 | 0.90 | 1.00 | 40.0 | 12.9 | 55.0 |");
    }

    @Test
    void rendersTheReadWriteAndMultiKeyLockTablesWithTheCommandsPerCycle() throws Exception {
        Path csv = Path.of(SummaryTest.class.getResource("/summary-rw-multi.csv").toURI());
        String md = Summary.render(csv, List.of(
                "Iteration   1: COMMANDS rw impl=redlock nodes=1 inFlight=16 lock=read acquisitions=3000"
                        + " scriptsPerAcq=2.00 subscribePerAcq=0.00 unsubscribePerAcq=0.00 publishPerAcq=1.00"
                        + " scriptUsecPerAcq=40.0 usecPerScript=20.0 serverUsecPerAcq=50.0 commandsPerAcq=12.00",
                "COMMANDS rw impl=redisson nodes=1 inFlight=16 lock=read acquisitions=3000 scriptsPerAcq=2.00"
                        + " subscribePerAcq=0.00 unsubscribePerAcq=0.00 publishPerAcq=0.10 scriptUsecPerAcq=60.0"
                        + " usecPerScript=30.0 serverUsecPerAcq=70.0 commandsPerAcq=40.00",
                "COMMANDS multi impl=redissonMulti nodes=5 inFlight=16 keys=3 acquisitions=3000 scriptsPerAcq=45.00"
                        + " subscribePerAcq=0.00 unsubscribePerAcq=0.00 publishPerAcq=15.00 scriptUsecPerAcq=600.0"
                        + " usecPerScript=13.3 serverUsecPerAcq=700.0 commandsPerAcq=150.00",
                "LEFTOVER rw impl=redlock nodes=1 keys=0"));
        // 20000 / 8000 = 2.50 >= 2 on 1 node; 6000 / 2000 = 3.00 < 4 on 5 nodes
        assertThat(md).contains("### Read-write lock acquire + release")
                .contains("| 1 | 16 | read | 20,000 | 8,000 | 2.50 | ≥ 2 × | met | 2.00 / 2.00 | 12.00 / 40.00 |"
                        + " 50.0 / 70.0 |")
                .contains("| 5 | 16 | write | 6,000 | 2,000 | 3.00 | ≥ 4 × (Redisson on 1 of 5) | **not met** | – / – |");
        // 5000 / 1000 = 5.00 >= 4 against the MultiLock on every node, 5000 / 2000 = 2.50 < 4 against the one on the
        // first node
        assertThat(md).contains("### Multi-key lock acquire + release")
                .contains("| 5 | 3 | 16 | 5,000 | 1,000 | 2,000 | 5.00 | 2.50 | ≥ 4 × | met | **not met** |"
                        + " – / 45.00 / – | – / 150.00 / – | – / 700.0 / – |");
    }

    @Test
    void rendersTheMetricsBindingTableWithTheRatioToOffAndTheAcquiresRecorded() throws Exception {
        Path csv = Path.of(SummaryTest.class.getResource("/summary-metrics.csv").toURI());
        String md = Summary.render(csv, List.of(
                "METRICS metrics=micrometer nodes=5 inFlight=16 acquired=120000 released=120000 observed=0"
                        + " scrapeBytes=9000",
                "Iteration   5: METRICS metrics=micrometerObserved nodes=5 inFlight=16 acquired=110000 released=110000"
                        + " observed=110000 scrapeBytes=12000"));
        assertThat(md).contains("### Micrometer binding on and off");
        // 9600 / 10000 = 0.96 >= 0.95: met; 9000 / 10000 = 0.90 with Observations (no goal)
        assertThat(md).contains("| 5 | 16 | 10,000 | 9,600 | 9,000 | 0.96 | 0.90 | ≥ 0.95 × off | met |"
                + " 18,000 / 19,000 / 21,000 | 120000 / 110000 |");
        // 1800 / 2000 = 0.90 < 0.95
        assertThat(md).contains("| 5 | 1 | 2,000 | 1,800 | – | 0.90 | – | ≥ 0.95 × off | **not met** | – / – / – | – / – |");
    }
}
