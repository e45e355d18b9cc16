package dev.redlock.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PortReservationTest {

    @Test
    void portsAreOutsideTheEphemeralRangeAndDistinct(@TempDir Path lockDir) {
        List<PortReservation> reservations = new ArrayList<>();
        try {
            Set<Integer> ports = new HashSet<>();
            for (int i = 0; i < 20; i++) {
                // all start at the same port: the search must move on to the next free one
                PortReservation reservation = PortReservation.reserve(lockDir, 31_995);
                reservations.add(reservation);
                assertThat(reservation.port()).isBetween(20_000, 31_999);
                assertThat(ports.add(reservation.port())).as("port %s handed out twice", reservation.port()).isTrue();
                assertThat(lockDir.resolve(reservation.port() + ".lock")).exists();
            }
            // only 5 ports above 31995: the search wrapped around to the bottom of the range
            assertThat(ports).anyMatch(port -> port < 31_995);
        } finally {
            reservations.forEach(PortReservation::close);
        }
    }

    @Test
    void theLockIsHeldUntilCloseAndTheFileStays(@TempDir Path lockDir) throws Exception {
        PortReservation reservation = PortReservation.reserve(lockDir, 25_000);
        Path file = lockDir.resolve(reservation.port() + ".lock");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            // the same JVM already holds it
            org.assertj.core.api.Assertions.assertThatThrownBy(channel::tryLock)
                    .isInstanceOf(OverlappingFileLockException.class);
        }
        reservation.close();
        reservation.close(); // idempotent
        assertThat(Files.exists(file)).isTrue();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            var lock = channel.tryLock();
            assertThat(lock).isNotNull();
            lock.release();
        }
        // the port can be reserved again, e.g. by the next test JVM
        try (PortReservation again = PortReservation.reserve(lockDir, reservation.port())) {
            assertThat(again.port()).isEqualTo(reservation.port());
        }
    }

    @Test
    void aClusterReservationHoldsThePortAndItsBusPortUntilClose(@TempDir Path lockDir) throws Exception {
        List<PortReservation> reservations = new ArrayList<>();
        try {
            Set<Integer> ports = new HashSet<>();
            for (int i = 0; i < 5; i++) {
                // all start near the top of the client range: the search wraps around to its bottom
                PortReservation reservation = PortReservation.reserveWithClusterBus(lockDir, 21_998);
                reservations.add(reservation);
                assertThat(reservation.port()).isBetween(20_000, 21_999);
                assertThat(reservation.busPort()).isEqualTo(reservation.port() + 10_000);
                assertThat(ports.add(reservation.port())).isTrue();
                assertThat(ports.add(reservation.busPort())).isTrue();
            }
            assertThat(ports).anyMatch(port -> port < 21_998);
            PortReservation first = reservations.get(0);
            // the bus port is held like the client port: a plain reservation starting there moves past it
            try (PortReservation plain = PortReservation.reserve(lockDir, first.busPort())) {
                assertThat(plain.port()).isNotEqualTo(first.busPort());
            }
            first.close();
            try (FileChannel channel = FileChannel.open(lockDir.resolve(first.busPort() + ".lock"),
                    StandardOpenOption.WRITE)) {
                var lock = channel.tryLock();
                assertThat(lock).as("bus port lock released by close()").isNotNull();
                lock.release();
            }
        } finally {
            reservations.forEach(PortReservation::close);
        }
    }
}
