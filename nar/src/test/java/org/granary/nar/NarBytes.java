package org.granary.nar;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * NAR bytes encoded by hand, token by token, independently of the code under test: the expected side of
 * byte-exact tests and the raw material of malformed NARs.
 */
final class NarBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** Starts with the magic {@code str("nix-archive-1")}. */
    static NarBytes nar() {
        return new NarBytes().str("nix-archive-1");
    }

    /** Nothing yet, not even the magic. */
    static NarBytes empty() {
        return new NarBytes();
    }

    /** {@code int(n)}: 8 bytes little-endian. */
    NarBytes num(long n) {
        for (int i = 0; i < 8; i++) {
            out.write((int) (n >>> (8 * i)));
        }
        return this;
    }

    /** {@code str(s)} with s as UTF-8. */
    NarBytes str(String s) {
        return str(s.getBytes(StandardCharsets.UTF_8));
    }

    /** {@code str(b)}: length, bytes, zero padding to a multiple of 8. */
    NarBytes str(byte[] b) {
        num(b.length);
        out.writeBytes(b);
        return zeros((8 - b.length % 8) % 8);
    }

    /** Each of {@code tokens} as a {@code str}. */
    NarBytes strs(String... tokens) {
        for (String t : tokens) {
            str(t);
        }
        return this;
    }

    NarBytes raw(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    NarBytes zeros(int n) {
        out.writeBytes(new byte[n]);
        return this;
    }

    /** A complete regular-file node body after {@code ( type}: contents, padding and {@code )}. */
    NarBytes regular(boolean executable, byte[] contents) {
        str("regular");
        if (executable) {
            strs("executable", "");
        }
        return str("contents").str(contents).str(")");
    }

    /** The current length: the offset the next token will have. */
    int offset() {
        return out.size();
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    /** The NAR of {@code depth} directories named {@code d}, each inside the previous one. */
    static byte[] nested(int depth) {
        NarBytes nar = nar().strs("(", "type", "directory");
        for (int i = 0; i < depth; i++) {
            nar.strs("entry", "(", "name", "d", "node", "(", "type", "directory");
        }
        for (int i = 0; i < depth; i++) {
            nar.strs(")", ")");
        }
        return nar.str(")").bytes();
    }

    /** The NAR of a single regular file. */
    static byte[] file(boolean executable, byte[] contents) {
        return nar().strs("(", "type").regular(executable, contents).bytes();
    }
}
