package dev.redlock.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Hex digests of text: script SHA-1s for {@code EVALSHA}, and lease identities that do not reveal the token. */
public final class Digests {

    private Digests() {}

    /** The lower-case hex digest of {@code text} in UTF-8 with {@code algorithm}, which every JDK provides. */
    public static String hex(String algorithm, String text) {
        try {
            byte[] digest = MessageDigest.getInstance(algorithm).digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is required by the Java platform", e);
        }
    }
}
