package dev.redlock.chaos;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

/**
 * Re-checks histories written by a chaos run or scenario, offline (reliability.md G11): prints the run's meta line,
 * its fault schedule size, the verdict and the first examples; exits with 1 if any history has a violation.
 *
 * <p>The checker needs nothing but the JDK, so after {@code ./mvnw -B -o -pl core test-compile}:
 *
 * <pre>
 * cd core &amp;&amp; java -cp target/test-classes dev.redlock.chaos.HistoryCheck target/chaos/ci-101/history.jsonl
 * </pre>
 */
public final class HistoryCheck {

    private HistoryCheck() {}

    public static void main(String[] args) {
        if (args.length == 0) {
            System.err.println("usage: HistoryCheck <history.jsonl>...");
            System.exit(2);
        }
        boolean violations = false;
        for (String arg : args) {
            Path file = Paths.get(arg);
            List<Event> events = History.read(file);
            String meta = events.stream().filter(e -> Event.META.equals(e.type)).map(e -> e.value).findFirst()
                    .orElse("(no meta line)");
            long planned = events.stream().filter(e -> Event.SCHEDULE.equals(e.type)).count();
            Checker.Verdict v = Checker.check(events);
            System.out.println(file + ": " + meta);
            System.out.println("  planned faults=" + planned + " applied=" + v.faults + " acquired=" + v.acquireOk
                    + " cs=" + v.completedCs + (v.permitGrants == 0 ? "" : " permit grants=" + v.permitGrants
                    + " permit peak=" + v.permitPeak) + (v.modeGrants.isEmpty() ? "" : " mode grants=" + v.modeGrants
                    + " mode peak=" + v.modePeak) + " lost=" + v.lost + " closed=" + v.closed + " violations=" + v.total() + " [" + v.breakdown()
                    + "]");
            v.examples.forEach(e -> System.out.println("  " + e));
            violations |= v.total() > 0;
        }
        System.exit(violations ? 1 : 0);
    }
}
