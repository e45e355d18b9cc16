package dev.redlock.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.blockhound.BlockingOperationError;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;

/**
 * Proves BlockHound is active in this module's test JVMs and watches the threads the monitor's handler runs on
 * (Reactor Netty's event loops), so that every other test would fail on a blocking call there.
 */
class BlockHoundInstalledTest {

    @Test
    void blockingOnAReactorNettyEventLoopFails() {
        AtomicReference<Throwable> caught = new AtomicReference<>();
        DisposableServer server = HttpServer.create().host("127.0.0.1").port(0)
                .handle((request, response) -> Mono.fromCallable(() -> {
                            Thread.sleep(1); // the blocking call BlockHound must catch
                            return "slept";
                        })
                        .doOnError(caught::set)
                        .onErrorReturn("caught")
                        .flatMap(text -> response.sendString(Mono.just(text)).then()))
                .bindNow();
        try {
            String body = HttpClient.create().get().uri("http://127.0.0.1:" + server.port() + "/")
                    .responseSingle((r, content) -> content.asString())
                    .block(Duration.ofSeconds(10));
            assertThat(body).isEqualTo("caught");
            assertThat(caught.get()).isInstanceOf(BlockingOperationError.class);
        } finally {
            server.disposeNow();
        }
    }
}
