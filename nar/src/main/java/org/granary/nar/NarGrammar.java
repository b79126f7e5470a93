package org.granary.nar;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The NAR grammar in one place, shared by {@link NarWriter} and {@link NarReader}: the literal tokens,
 * the encoded runs of tokens the writer emits, the limits and the rules for entry names and symlink
 * targets. Stateless; the arrays are constants and must never be modified or handed out.
 *
 * <pre>
 * nar      = str("nix-archive-1") node
 * node     = str("(") str("type") body str(")")
 * body     = str("regular") [ str("executable") str("") ] str("contents") int(size) bytes padding
 *          | str("symlink") str("target") str(target)
 *          | str("directory") { str("entry") str("(") str("name") str(name) str("node") node str(")") }
 * str(s)   = int(length of s) s padding;  int(n) = n as 8 bytes little-endian;  padding = zeros to a multiple of 8
 * </pre>
 */
final class NarGrammar {
    private NarGrammar() {}

    /** NAME_MAX on Linux: the longest entry name. */
    static final int MAX_NAME = 255;
    /** PATH_MAX minus the terminating NUL: the longest symlink target. */
    static final int MAX_TARGET = 4095;

    static final byte[] MAGIC = ascii("nix-archive-1");
    static final byte[] OPEN = ascii("(");
    static final byte[] CLOSE = ascii(")");
    static final byte[] TYPE = ascii("type");
    static final byte[] REGULAR = ascii("regular");
    static final byte[] EXECUTABLE = ascii("executable");
    static final byte[] CONTENTS = ascii("contents");
    static final byte[] SYMLINK = ascii("symlink");
    static final byte[] TARGET = ascii("target");
    static final byte[] DIRECTORY = ascii("directory");
    static final byte[] ENTRY = ascii("entry");
    static final byte[] NAME = ascii("name");
    static final byte[] NODE = ascii("node");
    /** The longest literal token ({@code nix-archive-1}); a reader never needs more to recognise one. */
    static final int MAX_TOKEN = MAGIC.length;

    // Runs of tokens that always occur together, encoded once so that the writer emits each with one copy.
    static final byte[] BEGIN_NODE = encode(MAGIC, OPEN, TYPE);
    static final byte[] ENTRY_NAME = encode(ENTRY, OPEN, NAME);
    static final byte[] NODE_TYPE = encode(NODE, OPEN, TYPE);
    static final byte[] REGULAR_CONTENTS = encode(REGULAR, CONTENTS);
    static final byte[] EXECUTABLE_CONTENTS = encode(REGULAR, EXECUTABLE, new byte[0], CONTENTS);
    static final byte[] SYMLINK_TARGET = encode(SYMLINK, TARGET);
    static final byte[] DIRECTORY_BODY = encode(DIRECTORY);
    static final byte[] END = encode(CLOSE);
    /** Zero bytes to copy padding from. */
    static final byte[] ZEROS = new byte[8];

    /** The number of zero bytes that follow {@code length} bytes of a string or of file contents. */
    static int padding(long length) {
        return (int) (-length & 7);
    }

    static void putLong(byte[] b, int off, long value) {
        for (int i = 0; i < 8; i++) {
            b[off + i] = (byte) (value >>> (8 * i));
        }
    }

    static long getLong(byte[] b, int off) {
        long value = 0;
        for (int i = 7; i >= 0; i--) {
            value = (value << 8) | (b[off + i] & 0xff);
        }
        return value;
    }

    /**
     * The rule an entry name breaks, phrased as what was expected, or null if {@code b[off, off+len)} is a
     * valid name: 1 to 255 bytes, not {@code .} or {@code ..}, without {@code /} or NUL.
     */
    static String nameRule(byte[] b, int off, int len) {
        if (len == 0) {
            return "a non-empty entry name";
        }
        if (len > MAX_NAME) {
            return "an entry name of at most " + MAX_NAME + " bytes";
        }
        if (b[off] == '.' && (len == 1 || (len == 2 && b[off + 1] == '.'))) {
            return "an entry name other than \".\" and \"..\"";
        }
        for (int i = off; i < off + len; i++) {
            if (b[i] == '/') {
                return "an entry name without '/'";
            }
            if (b[i] == 0) {
                return "an entry name without NUL";
            }
        }
        return null;
    }

    /**
     * The rule a symlink target breaks, phrased as what was expected, or null if {@code b[off, off+len)} is
     * a valid target: 1 to 4095 bytes without NUL.
     */
    static String targetRule(byte[] b, int off, int len) {
        if (len == 0) {
            return "a non-empty symlink target";
        }
        if (len > MAX_TARGET) {
            return "a symlink target of at most " + MAX_TARGET + " bytes";
        }
        for (int i = off; i < off + len; i++) {
            if (b[i] == 0) {
                return "a symlink target without NUL";
            }
        }
        return null;
    }

    /** Entry order: unsigned byte-wise, as {@code strcmp} (Java's String order differs above U+FFFF). */
    static int compare(byte[] a, int aLen, byte[] b, int bLen) {
        return Arrays.compareUnsigned(a, 0, aLen, b, 0, bLen);
    }

    /** Bytes quoted for an error message: printable ASCII as is, anything else as {@code \xNN}. */
    static String quote(byte[] b, int off, int len) {
        int shown = Math.min(len, 80);
        StringBuilder s = new StringBuilder(shown + 16).append('"');
        for (int i = off; i < off + shown; i++) {
            int c = b[i] & 0xff;
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
                s.append((char) c);
            } else {
                s.append(String.format("\\x%02x", c));
            }
        }
        s.append('"');
        if (shown < len) {
            s.append("... (").append(len).append(" bytes)");
        }
        return s.toString();
    }

    static String quote(byte[] b) {
        return quote(b, 0, b.length);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** The concatenation of {@code str(t)} for each token. */
    private static byte[] encode(byte[]... tokens) {
        int size = 0;
        for (byte[] t : tokens) {
            size += 8 + t.length + padding(t.length);
        }
        byte[] out = new byte[size];
        int pos = 0;
        for (byte[] t : tokens) {
            putLong(out, pos, t.length);
            System.arraycopy(t, 0, out, pos + 8, t.length);
            pos += 8 + t.length + padding(t.length);
        }
        return out;
    }
}
