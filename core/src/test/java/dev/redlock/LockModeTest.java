package dev.redlock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redlock.rw.LockMode;
import org.junit.jupiter.api.Test;

/** {@link LockMode}: the compatibility matrix against the standard one written out here, coverage, intentions. */
class LockModeTest {

    /** Rows and columns IS, IX, S, SIX, X (Gray et al.); the tests of the locks with modes check against it too. */
    static final boolean[][] STANDARD = {
        {true, true, true, true, false},
        {true, true, false, false, false},
        {true, false, true, false, false},
        {true, false, false, false, false},
        {false, false, false, false, false},
    };

    @Test
    void compatibilityIsTheStandardMatrix() {
        LockMode[] modes = LockMode.values();
        assertThat(modes).extracting(LockMode::abbreviation).containsExactly("IS", "IX", "S", "SIX", "X");
        for (int a = 0; a < 5; a++) {
            for (int b = 0; b < 5; b++) {
                assertThat(modes[a].compatibleWith(modes[b])).as("%s with %s", modes[a], modes[b])
                        .isEqualTo(STANDARD[a][b]);
            }
        }
    }

    @Test
    void intentionsAndCoverage() {
        assertThat(LockMode.SHARED.intention()).isEqualTo(LockMode.INTENTION_SHARED);
        assertThat(LockMode.EXCLUSIVE.intention()).isEqualTo(LockMode.INTENTION_EXCLUSIVE);
        assertThat(LockMode.SHARED_INTENTION_EXCLUSIVE.intention()).isEqualTo(LockMode.INTENTION_EXCLUSIVE);
        for (LockMode mode : LockMode.values()) {
            assertThat(LockMode.EXCLUSIVE.covers(mode)).isTrue();
            assertThat(mode.covers(mode)).isTrue();
        }
        assertThat(LockMode.SHARED.covers(LockMode.EXCLUSIVE)).as("an upgrade").isFalse();
        assertThat(LockMode.SHARED.covers(LockMode.SHARED_INTENTION_EXCLUSIVE)).isFalse();
        assertThat(LockMode.SHARED_INTENTION_EXCLUSIVE.covers(LockMode.SHARED)).isTrue();
        assertThat(LockMode.SHARED_INTENTION_EXCLUSIVE.covers(LockMode.EXCLUSIVE)).isFalse();
        assertThat(LockMode.INTENTION_EXCLUSIVE.covers(LockMode.SHARED)).isFalse();
    }
}
