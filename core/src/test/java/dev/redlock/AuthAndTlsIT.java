package dev.redlock;

import static dev.redlock.RedisFixtures.lockKeys;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.redlock.internal.Checks;
import dev.redlock.testkit.RedisServer;
import dev.redlock.testkit.RedisServers;
import io.lettuce.core.AclSetuserArgs;
import io.lettuce.core.SslOptions;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Node URIs with a password, with an ACL user, and over TLS ({@code rediss://}) on real nodes. Each test starts its
 * own nodes: turning authentication on would lock out the shared nodes' fresh admin connections.
 */
class AuthAndTlsIT {

    private static final LockOptions QUICK = LockOptions.builder()
            .leaseTime(Duration.ofSeconds(5))
            .maxWait(Duration.ofMillis(300))
            .build();

    /** Acquire, check, release, check: the whole lease cycle through the given client. */
    private static void fullCycle(ReactiveRedLock lock, RedisServers servers) {
        Lease lease = lock.acquire("secured", QUICK).block(Duration.ofSeconds(10));
        assertThat(lease).isNotNull();
        assertThat(lockKeys(servers)).as("one lock key per granting node").isPositive();
        assertThat(lock.isLocked("secured").block(Duration.ofSeconds(5))).isTrue();
        lease.release().block(Duration.ofSeconds(5));
        assertThat(lock.isLocked("secured").block(Duration.ofSeconds(5))).isFalse();
        // release is decided at the quorum; the last node's release follows right after
        await().atMost(Duration.ofSeconds(2)).until(() -> lockKeys(servers) == 0);
    }

    private static ReactiveRedLock client(RedisServers servers, IntFunction<String> uriOfNode) {
        // a cold JSSE on a loaded 2-core machine has taken more than the default second to handshake
        RedLockBuilder builder = ReactiveRedLock.builder().connectTimeout(Duration.ofSeconds(5)).defaults(QUICK)
                .restartGuard(RestartGuard.RUN_ID); // nodes the test kit just started (RedisFixtures.builder)
        for (int i = 0; i < servers.size(); i++) {
            builder.nodes(uriOfNode.apply(i));
        }
        return builder.build();
    }

    @Test
    void passwordsAndAclUsersAuthenticateAndWrongOnesCostOnlyTheirNodes() {
        try (RedisServers servers = RedisServers.start(3)) {
            for (RedisServer server : servers) {
                // the admin connection is already open and stays authenticated
                server.admin().configSet("requirepass", "node-secret");
                server.admin().aclSetuser("locker", AclSetuserArgs.Builder
                        .on().addPassword("locker-secret").allKeys().allChannels().allCommands());
            }
            IntFunction<String> port = i -> "127.0.0.1:" + servers.get(i).port();

            try (ReactiveRedLock lock = client(servers, i -> "redis://node-secret@" + port.apply(i))) {
                fullCycle(lock, servers);
            }
            try (ReactiveRedLock lock = client(servers, i -> "redis://locker:locker-secret@" + port.apply(i))) {
                fullCycle(lock, servers);
            }
            try (ReactiveRedLock lock = client(servers, i -> i == 0
                    ? "redis://locker:wrong@" + port.apply(i)
                    : "redis://locker:locker-secret@" + port.apply(i))) {
                fullCycle(lock, servers);
            }
            try (ReactiveRedLock lock = client(servers, i -> i == 2
                    ? "redis://locker:locker-secret@" + port.apply(i)
                    : "redis://" + port.apply(i))) {
                assertThatThrownBy(() -> lock.acquire("secured").block(Duration.ofSeconds(10)))
                        .isInstanceOfSatisfying(QuorumUnavailableException.class, e -> {
                            assertThat(e.granted()).isLessThan(e.required());
                            assertThat(e.nodeFailures()).containsOnlyKeys(
                                    servers.get(0).host() + ":" + servers.get(0).port(),
                                    servers.get(1).host() + ":" + servers.get(1).port());
                            // the cause says what is wrong, not just that the node failed
                            assertThat(e.getMessage()).containsIgnoringCase("NOAUTH");
                        });
                assertThat(lockKeys(servers)).isZero();
            }
        }
    }

    @Test
    void tlsNodesWorkWithTheirCertificateTrustedAndAreRefusedWithoutIt(@TempDir Path dir) throws IOException {
        Path cert = copyResource("tls/node-cert.pem", dir);
        Path key = copyResource("tls/node-key.pem", dir);
        try (RedisServers servers = RedisServers.start(3)) {
            List<Integer> tlsPorts = new ArrayList<>();
            for (RedisServer server : servers) {
                server.admin().configSet("tls-cert-file", cert.toString());
                server.admin().configSet("tls-key-file", key.toString());
                server.admin().configSet("tls-ca-cert-file", cert.toString());
                server.admin().configSet("tls-auth-clients", "no");
                tlsPorts.add(listenOnTls(server));
            }
            IntFunction<String> tlsUri = i -> "rediss://127.0.0.1:" + tlsPorts.get(i);

            try (ReactiveRedLock lock = ReactiveRedLock.builder()
                    .nodes(tlsUri.apply(0), tlsUri.apply(1), tlsUri.apply(2))
                    .sslOptions(SslOptions.builder().jdkSslProvider().trustManager(trusting(cert)).build())
                    .connectTimeout(Duration.ofSeconds(5))
                    .restartGuard(RestartGuard.RUN_ID) // nodes the test kit just started (RedisFixtures.builder)
                    .defaults(QUICK)
                    .build()) {
                lock.connect().block(Duration.ofSeconds(10)); // TLS handshakes (and a cold JSSE) take longer than QUICK's wait
                fullCycle(lock, servers);
                // health checks that ran during a slow cold handshake may have marked nodes down; the next ones, over
                // the established TLS connections, must see every node up
                await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(lock.nodeStatus())
                        .allSatisfy(status -> assertThat(status.up()).isTrue()));
            }
            // the JDK's default trust store does not know the self-signed certificate: the handshake fails
            try (ReactiveRedLock lock = client(servers, tlsUri)) {
                assertThatThrownBy(() -> lock.acquire("secured").block(Duration.ofSeconds(10)))
                        .isInstanceOfSatisfying(QuorumUnavailableException.class,
                                e -> {
                                    // decided as soon as a quorum could no longer grant: 2 or 3 failures
                                    assertThat(e.nodeFailures()).hasSizeGreaterThanOrEqualTo(2);
                                    assertThat(e.nodeFailures().values()).allSatisfy(cause -> assertThat(Checks.describe(cause))
                                            .containsAnyOf("certification path", "no reply"));
                                    assertThat(e.getMessage()).contains("unable to find valid certification path");
                                });
                assertThat(lockKeys(servers)).isZero();
            }
        }
    }

    /**
     * Trust in the node certificate, loaded once. {@code SslOptions.Builder.trustManager(File)} would make Lettuce
     * read the file again for every connection, on a Netty event-loop thread (BlockHound reports it).
     */
    private static TrustManagerFactory trusting(Path cert) throws IOException {
        try (InputStream in = Files.newInputStream(cert)) {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            store.setCertificateEntry("node", CertificateFactory.getInstance("X.509").generateCertificate(in));
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            return factory;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Opens a TLS port on the node at run time; retries when another process took the free port first. */
    private static int listenOnTls(RedisServer server) throws IOException {
        RuntimeException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            int port;
            try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = probe.getLocalPort();
            }
            try {
                server.admin().configSet("tls-port", Integer.toString(port));
                return port;
            } catch (RuntimeException e) {
                last = e;
            }
        }
        throw last;
    }

    private static Path copyResource(String name, Path dir) throws IOException {
        Path target = dir.resolve(Path.of(name).getFileName());
        try (InputStream in = AuthAndTlsIT.class.getClassLoader().getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            Files.copy(in, target);
        }
        return target;
    }
}
