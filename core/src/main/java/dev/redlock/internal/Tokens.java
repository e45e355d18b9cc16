package dev.redlock.internal;

import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/**
 * Lease tokens: 128 bits from a CSPRNG, as 32 hex digits. Each thread takes the DRBG's output 64 tokens at a time,
 * so the shared generator's lock and hash are paid once per 64 acquires.
 */
public final class Tokens {

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
    public static void init() {
        // class initialisation does the work
    }

    /** Tokens per refill of a thread's buffer: one DRBG call (a lock and a hash) serves this many tokens. */
    private static final int TOKENS_PER_REFILL = 64;

    /** Per thread: CSPRNG output not yet handed out, and where the next token starts. */
    private static final ThreadLocal<Buffer> BUFFERS = ThreadLocal.withInitial(Buffer::new);

    private static final class Buffer {
        final byte[] bytes = new byte[16 * TOKENS_PER_REFILL];
        int position = bytes.length;
    }

    public static String next() {
        Buffer buffer = BUFFERS.get();
        if (buffer.position == buffer.bytes.length) {
            RANDOM.nextBytes(buffer.bytes);
            buffer.position = 0;
        }
        byte[] bytes = buffer.bytes;
        int offset = buffer.position;
        char[] out = new char[32];
        for (int i = 0; i < 16; i++) {
            byte b = bytes[offset + i];
            bytes[offset + i] = 0; // handed out: never kept around
            out[2 * i] = HEX[(b >> 4) & 0xF];
            out[2 * i + 1] = HEX[b & 0xF];
        }
        buffer.position = offset + 16;
        return new String(out);
    }

    /** 8 hex digits identifying a token in logs and events without revealing it. */
    public static String shortHash(String token) {
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
