package dev.redlock;

import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/** Lease tokens: 128 bits from a CSPRNG, as 32 hex digits. */
final class Tokens {

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /**
     * A DRBG generates from its internal state after seeding, so {@code nextBytes} never reads a device file on a
     * non-blocking thread. It is seeded here, when the class is first used (by the client builder).
     */
    private static final SecureRandom RANDOM = create();

    private Tokens() {}

    private static SecureRandom create() {
        SecureRandom random;
        try {
            random = SecureRandom.getInstance("DRBG");
        } catch (NoSuchAlgorithmException e) {
            random = new SecureRandom();
        }
        random.nextBytes(new byte[16]);
        return random;
    }

    /** Forces seeding on the calling thread. */
    static void init() {
        // class initialisation does the work
    }

    static String next() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        char[] out = new char[32];
        for (int i = 0; i < 16; i++) {
            out[2 * i] = HEX[(bytes[i] >> 4) & 0xF];
            out[2 * i + 1] = HEX[bytes[i] & 0xF];
        }
        return new String(out);
    }

    /** 8 hex digits identifying a token in logs and events without revealing it. */
    static String shortHash(String token) {
        if (token == null) {
            return null;
        }
        int h = token.hashCode() * 0x9E3779B9;
        h ^= h >>> 16;
        char[] out = new char[8];
        for (int i = 7; i >= 0; i--) {
            out[i] = HEX[h & 0xF];
            h >>>= 4;
        }
        return new String(out);
    }
}
