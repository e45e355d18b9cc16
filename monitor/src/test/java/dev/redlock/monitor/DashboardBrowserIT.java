package dev.redlock.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.LockOptions;
import dev.redlock.ratelimit.RateLimit;
import dev.redlock.ratelimit.RedRateLimiter;
import dev.redlock.semaphore.RedSemaphore;
import dev.redlock.testkit.RedisNodes;
import dev.redlock.testkit.RedisServers;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.remote.RemoteWebDriver;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The dashboard in a real browser (headless Chromium through its chromedriver) over a live server and real nodes:
 * the page shows the nodes, its charts grow while locks are taken, a killed node turns down on the page. Leaves a
 * screenshot in {@code target/dashboard.png}.
 *
 * <p>Needs Debian's {@code chromium} and {@code chromium-driver} packages; skipped without them, except where
 * {@code REDLOCK_TEST_BROWSER=required} (CI), where their absence fails.
 */
class DashboardBrowserIT {

    private static final File CHROMIUM = new File("/usr/bin/chromium");
    private static final File CHROMEDRIVER = new File("/usr/bin/chromedriver");
    private static final Path SCREENSHOT = Path.of("target", "dashboard.png");

    @Test
    void theDashboardFollowsTheLocksAndTheNodes(@RedisNodes(3) RedisServers servers) throws Exception {
        boolean installed = CHROMIUM.canExecute() && CHROMEDRIVER.canExecute();
        // CI installs the browser and says so (REDLOCK_TEST_BROWSER=required): there, a missing browser fails
        if ("required".equals(System.getenv("REDLOCK_TEST_BROWSER"))) {
            assertThat(installed).as("REDLOCK_TEST_BROWSER=required, but %s or %s is missing", CHROMIUM,
                    CHROMEDRIVER).isTrue();
        }
        Assumptions.assumeTrue(installed, "needs headless Chromium: apt-get install chromium chromium-driver");
        Path profile = Files.createTempDirectory("redlock-dashboard-chromium");
        LockStats stats = LockStats.groupedBy(name -> name.substring(0, Math.max(1, name.indexOf(':'))));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER)
                .usingAnyFreePort().build();
        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM).addArguments("--headless=new",
                "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,1500",
                "--user-data-dir=" + profile.toAbsolutePath());
        // the browser starts (seconds) while the client and the server do; the plain WebDriver protocol, as
        // ChromeDriver would also look for a DevTools (CDP) binding matching the browser's version, which takes
        // seconds more and is not needed here
        CompletableFuture<RemoteWebDriver> starting = CompletableFuture.supplyAsync(() -> {
            try {
                service.start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return new RemoteWebDriver(service.getUrl(), options);
        });
        WebDriver driver = null;
        Disposable workload = null;
        MonitorFixture fixture = null;
        try {
            // not try-with-resources: the server must still run when the finally block takes the screenshot
            fixture = new MonitorFixture(servers, stats, b -> {});
            MonitorFixture f = fixture;
            workload = workload(f);
            mark("server up");
            driver = starting.get(60, TimeUnit.SECONDS);
            mark("browser up");
            WebDriver browser = driver;
            browser.get(f.server.dashboardUrl().toString());

            List<String> nodes = servers.list().stream().map(s -> "127.0.0.1:" + s.port()).toList();
            // generous for a loaded machine (the first load and poll take well under a second otherwise)
            Awaitility.await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                for (String node : nodes) {
                    assertThat(state(browser, node)).as(node).isEqualTo("up");
                }
                assertThat(browser.findElement(By.id("status")).getAttribute("data-status")).isEqualTo("up");
                assertThat(points(browser, "chart-rate")).isGreaterThanOrEqualTo(1);
            });
            // the charts grow with each poll, without a reload
            mark("nodes shown");
            int ratePoints = points(browser, "chart-rate");
            int latencyPoints = points(browser, "chart-latency");
            Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertThat(points(browser, "chart-rate")).isGreaterThan(ratePoints + 1);
                assertThat(points(browser, "chart-latency")).isGreaterThan(latencyPoints + 1);
                assertThat(browser.findElements(By.cssSelector("#groups tr[data-group='orders']"))).hasSize(1);
                assertThat(browser.findElements(By.cssSelector("#events li[data-type='ACQUIRED']"))).isNotEmpty();
            });

            soak();
            mark("charts grew");
            servers.get(2).kill();
            Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertThat(state(browser, nodes.get(2))).isEqualTo("down");
                assertThat(state(browser, nodes.get(0))).isEqualTo("up");
                assertThat(browser.findElements(By.cssSelector("#node-events li[data-type='NODE_DOWN']"))).isNotEmpty();
            });
            // two more polls, so that the charts show the locks going on with a node down
            mark("node down shown");
            int afterKill = points(browser, "chart-rate");
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> points(browser, "chart-rate") >= afterKill + 2
                    || points(browser, "chart-rate") >= 120);
            soak();
        } finally {
            try {
                if (driver == null) {
                    // the test failed before it took the browser: quit it once it is up
                    driver = starting.handle((started, error) -> started).get(60, TimeUnit.SECONDS);
                } else {
                    // also when an assertion failed: the page shows why
                    screenshot((TakesScreenshot) driver);
                }
                if (driver != null) {
                    driver.quit();
                }
            } finally {
                service.stop();
                if (workload != null) {
                    workload.dispose();
                }
                if (fixture != null) {
                    fixture.close();
                }
                deleteQuietly(profile);
            }
        }
    }

    /** Locks in two groups, a semaphore and a rate limiter, all the time, until disposed; failures are skipped. */
    private static Disposable workload(MonitorFixture f) {
        LockOptions options = LockOptions.builder().leaseTime(Duration.ofSeconds(5)).maxWait(Duration.ofSeconds(2))
                .build();
        RedSemaphore pool = f.client.semaphore("pool:db", 4);
        RedRateLimiter limiter = f.client.rateLimiter("api:calls", RateLimit.perSecond(20));
        return Flux.interval(Duration.ofMillis(15))
                // ticks while 32 operations are in flight are skipped, not an error
                .onBackpressureDrop()
                .flatMap(i -> {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    Mono<?> work = switch ((int) (i % 4)) {
                        case 0, 1 -> f.client.withLock("orders:" + random.nextInt(8), options,
                                Mono.delay(Duration.ofMillis(5 + random.nextInt(30))));
                        case 2 -> f.client.withLock("inventory:" + random.nextInt(3), options,
                                Mono.delay(Duration.ofMillis(2 + random.nextInt(10))));
                        default -> random.nextBoolean()
                                ? pool.withPermits(1, Mono.delay(Duration.ofMillis(50 + random.nextInt(100))))
                                : limiter.tryAcquire(1);
                    };
                    return work.onErrorResume(e -> Mono.empty());
                }, 32)
                .subscribe();
    }

    private static final long T0 = System.nanoTime();
    /**
     * Seconds to let the page run before and after the kill (0 by default): {@code -Ddashboard.soakSeconds=30} makes
     * a screenshot with fuller charts, such as the one in the README.
     */
    private static final int SOAK_SECONDS = Integer.getInteger("dashboard.soakSeconds", 0);

    private static void soak() throws InterruptedException {
        Thread.sleep(SOAK_SECONDS * 1000L);
    }

    /** Logs how long the test took to reach a step (in its output file): the module's tests have a time budget. */
    private static void mark(String what) {
        System.err.printf("%6d ms %s%n", (System.nanoTime() - T0) / 1_000_000, what);
    }

    private static void screenshot(TakesScreenshot driver) throws IOException {
        Files.createDirectories(SCREENSHOT.getParent());
        Files.write(SCREENSHOT, driver.getScreenshotAs(OutputType.BYTES));
    }

    /** The {@code data-state} of the node's row, or {@code "no row"} before the page shows it. */
    private static String state(WebDriver browser, String node) {
        List<WebElement> rows = browser.findElements(By.cssSelector("#nodes tr[data-node='" + node + "']"));
        return rows.isEmpty() ? "no row" : rows.get(0).getAttribute("data-state");
    }

    private static int points(WebDriver browser, String chart) {
        String points = browser.findElement(By.id(chart)).getAttribute("data-points");
        return points == null ? 0 : Integer.parseInt(points);
    }

    private static void deleteQuietly(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | RuntimeException e) {
            // a temporary profile left behind is harmless
        }
    }
}
