package org.granary.nar.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Assertions on byte streams too large to hold, such as the NAR of a JDK: compared in one streaming
 * pass, and a mismatch reported by the first differing offset, a few bytes of each side from there,
 * and both sizes and SHA-256s. Stateless and thread-safe.
 */
public final class StreamAssertions {

    /** How many bytes of each side a failure message shows from the first difference on. */
    private static final int CONTEXT = 32;

    private StreamAssertions() {}

    /**
     * Asserts that {@code actual} writes exactly the bytes that {@code expected} yields, and returns their
     * number. {@code expected} is read to its end but not closed.
     *
     * @param what names the two streams in a failure message, e.g. {@code "NAR of /x vs nix-store --dump"}
     */
    public static long assertSameBytes(String what, InputStream expected, ByteSource actual) throws IOException {
        Comparison comparison = new Comparison(expected);
        actual.writeTo(comparison);
        comparison.finish();
        if (comparison.firstDifference >= 0) {
            fail(what + ": first difference at offset " + comparison.firstDifference
                    + "\n  expected " + comparison.expectedContext.describe()
                    + "\n  actual   " + comparison.actualContext.describe()
                    + "\n  expected " + comparison.expectedSize + " bytes, SHA-256 " + hex(comparison.expectedDigest)
                    + "\n  actual   " + comparison.actualSize + " bytes, SHA-256 " + hex(comparison.actualDigest));
        }
        return comparison.actualSize;
    }

    private static String hex(MessageDigest digest) {
        return HexFormat.of().formatHex(digest.digest());
    }

    /** Receives the actual bytes and reads as many expected ones alongside. */
    private static final class Comparison extends OutputStream {
        private final InputStream expected;
        private final MessageDigest expectedDigest = StreamDigest.newSha256();
        private final MessageDigest actualDigest = StreamDigest.newSha256();
        private final Context expectedContext = new Context();
        private final Context actualContext = new Context();
        private byte[] buffer = new byte[0];
        private long expectedSize;
        private long actualSize;
        private long firstDifference = -1;

        Comparison(InputStream expected) {
            this.expected = expected;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (buffer.length < len) {
                buffer = new byte[len];
            }
            int read = expected.readNBytes(buffer, 0, len);
            if (firstDifference < 0) {
                int common = Math.min(read, len);
                int i = mismatch(b, off, common);
                if (i < common || read < len) {
                    firstDifference = actualSize + i;
                }
            }
            expectedContext.add(buffer, 0, read, expectedSize, firstDifference);
            actualContext.add(b, off, len, actualSize, firstDifference);
            expectedDigest.update(buffer, 0, read);
            actualDigest.update(b, off, len);
            expectedSize += read;
            actualSize += len;
        }

        private int mismatch(byte[] b, int off, int length) {
            int i = Arrays.mismatch(b, off, off + length, buffer, 0, length);
            return i < 0 ? length : i;
        }

        /** Reads what the actual side did not match, so that the sizes and digests are complete. */
        void finish() throws IOException {
            byte[] rest = new byte[64 * 1024];
            for (int n; (n = expected.read(rest)) > 0; ) {
                if (firstDifference < 0) {
                    firstDifference = actualSize;
                }
                expectedContext.add(rest, 0, n, expectedSize, firstDifference);
                expectedDigest.update(rest, 0, n);
                expectedSize += n;
            }
        }
    }

    /** Up to {@link #CONTEXT} bytes of one side, from the first difference on. */
    private static final class Context {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        /** Keeps the part of a chunk at stream offset {@code chunkOffset} that falls in the window. */
        void add(byte[] b, int off, int len, long chunkOffset, long firstDifference) {
            if (firstDifference < 0) {
                return;
            }
            long from = Math.max(chunkOffset, firstDifference + bytes.size());
            long to = Math.min(chunkOffset + len, firstDifference + CONTEXT);
            if (from < to) {
                bytes.write(b, off + (int) (from - chunkOffset), (int) (to - from));
            }
        }

        String describe() {
            byte[] shown = bytes.toByteArray();
            if (shown.length == 0) {
                return "(end of stream)";
            }
            StringBuilder text = new StringBuilder();
            for (byte b : shown) {
                text.append(b >= 0x20 && b < 0x7f ? (char) b : '.');
            }
            return HexFormat.ofDelimiter(" ").formatHex(shown) + "  |" + text + "|";
        }
    }
}
