package dev.redlock;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redlock.internal.Tokens;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.blockhound.BlockingOperationError;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** Proves BlockHound is active in this test JVM, so every other test runs with blocking detection on. */
class BlockHoundInstalledTest {

    @Test
    void blockingOnANonBlockingThreadFails() {
        assertThatThrownBy(() -> Mono.fromCallable(() -> {
                            Thread.sleep(1); // the blocking call BlockHound must catch
                            return 1;
                        })
                        .subscribeOn(Schedulers.parallel())
                        .block(Duration.ofSeconds(5)))
                .hasCauseInstanceOf(BlockingOperationError.class);
    }

    @Test
    void tokensAreMadeWithoutBlockingOnceSeeded() {
        Tokens.init(); // what RedLockBuilder.build() does on the caller's thread: seeding may read /dev/urandom
        Mono.fromCallable(Tokens::next).repeat(1000).subscribeOn(Schedulers.parallel()).blockLast(Duration.ofSeconds(5));
    }
}
