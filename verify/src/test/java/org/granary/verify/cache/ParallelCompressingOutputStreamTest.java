package org.granary.verify.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

/**
 * Chunks compressed on several threads come out as concatenated streams, in order, that Granary's
 * decoders and the reference tools read back as the input; an empty input still makes one stream, and
 * a failing chunk fails the whole.
 */
class ParallelCompressingOutputStreamTest {
    private static final int CHUNK = 1000;

    @TempDir
    Path tmp;

    private static final ParallelCompressingOutputStream.Encoder XZ =
        out -> new XZOutputStream(out, new LZMA2Options(1));
    private static final ParallelCompressingOutputStream.Encoder LZIP =
        out -> new LzipOutputStream(out, LzipOutputStream.DEFAULT_DICTIONARY);

    private static byte[] compress(ParallelCompressingOutputStream.Encoder encoder, byte[] input, int threads)
            throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Random random = new Random(input.length);
        try (OutputStream compressing = new ParallelCompressingOutputStream(out, encoder, CHUNK, threads)) {
            // Writes of every size, across chunk boundaries.
            for (int off = 0; off < input.length; ) {
                int n = Math.min(input.length - off, 1 + random.nextInt(2 * CHUNK));
                compressing.write(input, off, n);
                off += n;
            }
        }
        return out.toByteArray();
    }

    private static byte[] decompress(Compression compression, byte[] compressed) throws IOException {
        try (InputStream in = compression.decompress(new ByteArrayInputStream(compressed))) {
            return in.readAllBytes();
        }
    }

    private static int count(byte[] haystack, byte[] needle) {
        int found = 0;
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            boolean match = true;
            for (int j = 0; j < needle.length && match; j++) {
                match = haystack[i + j] == needle[j];
            }
            found += match ? 1 : 0;
        }
        return found;
    }

    @Test
    void everyLengthRoundTripsThroughGranarysDecodersAsOneStreamPerChunk() throws IOException {
        byte[] xzMagic = {(byte) 0xFD, '7', 'z', 'X', 'Z', 0};
        byte[] lzipMagic = "LZIP".getBytes(StandardCharsets.US_ASCII);
        for (int length : new int[] {0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 7 * CHUNK + 5}) {
            byte[] input = new byte[length];
            new Random(length).nextBytes(input);
            for (int threads : new int[] {1, 3}) {
                byte[] xz = compress(XZ, input, threads);
                assertArrayEquals(input, decompress(Compression.XZ, xz), "xz, " + length + " bytes");
                int streams = Math.max(1, (length + CHUNK - 1) / CHUNK);
                assertEquals(streams, count(xz, xzMagic), "xz streams for " + length + " bytes");
                byte[] lzip = compress(LZIP, input, threads);
                assertArrayEquals(input, decompress(Compression.LZIP, lzip), "lzip, " + length + " bytes");
                assertEquals(streams, count(lzip, lzipMagic), "lzip members for " + length + " bytes");
            }
        }
    }

    @Test
    void theReferenceToolsReadTheConcatenatedStreams() throws IOException, InterruptedException {
        byte[] input = new byte[10 * CHUNK + 17];
        new Random(9).nextBytes(input);
        for (int i = 0; i < input.length; i += 3) {
            input[i] = 'a'; // some redundancy, so that the encoders do more than store
        }
        check("xz", compress(XZ, input, 2), input);
        check("lzip", compress(LZIP, input, 2), input);
    }

    private void check(String tool, byte[] compressed, byte[] expected) throws IOException, InterruptedException {
        boolean present = new ProcessBuilder("sh", "-c", "command -v " + tool).start().waitFor() == 0;
        if (!present && "true".equals(System.getenv("CI"))) {
            throw new IllegalStateException(tool + " not found under CI=true: .ci/run installs it");
        }
        Assumptions.assumeTrue(present, tool + " not installed: skipping");
        Path file = Files.write(tmp.resolve("in." + tool), compressed);
        Path decoded = tmp.resolve("out." + tool);
        Process process = new ProcessBuilder(tool, "-dc", file.toString()).redirectOutput(decoded.toFile())
            .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        assertEquals(0, process.waitFor(), tool + " -dc");
        assertArrayEquals(expected, Files.readAllBytes(decoded), tool + " -dc");
    }

    @Test
    void aChunkThatFailsFailsTheWhole() {
        ParallelCompressingOutputStream.Encoder failing = out -> new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("disk full, say");
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                throw new IOException("disk full, say");
            }
        };
        IOException e = assertThrows(IOException.class, () -> compress(failing, new byte[5 * CHUNK], 2));
        assertTrue(e.getMessage().contains("disk full"), e.getMessage());
    }
}
