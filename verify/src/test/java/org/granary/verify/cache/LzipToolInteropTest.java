package org.granary.verify.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Granary's lzip codec against the {@code lzip} tool (Debian's {@code lzip}, which .ci/run installs). */
class LzipToolInteropTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void lzipIsInstalled() {
        boolean present = Files.isExecutable(Path.of("/usr/bin/lzip"));
        if (!present && "true".equals(System.getenv("CI"))) {
            throw new IllegalStateException("lzip not found under CI=true: .ci/run installs it");
        }
        Assumptions.assumeTrue(present, "lzip not installed (apt-get install lzip): skipping");
    }

    @Test
    void filesOfEveryLevelOfTheToolDecode() throws Exception {
        byte[] data = sample(300_000);
        Path plain = Files.write(dir.resolve("data"), data);
        for (String level : List.of("-0", "-6", "-9")) {
            Path compressed = dir.resolve("data" + level + ".lz");
            run(List.of("lzip", "-k", "-c", level, plain.toString()), compressed);
            assertArrayEquals(data, decode(compressed), "lzip " + level);
        }
    }

    @Test
    void multiMemberFilesOfTheToolDecode() throws Exception {
        // Random bytes do not compress, so that -b (a new member once one reaches 100 kB) cuts often.
        byte[] data = new byte[400_000];
        new Random(1).nextBytes(data);
        Path plain = Files.write(dir.resolve("data"), data);
        Path compressed = dir.resolve("data.lz");
        run(List.of("lzip", "-k", "-c", "-b", "100000", plain.toString()), compressed);
        assertTrue(count(Files.readAllBytes(compressed), "LZIP".getBytes(StandardCharsets.US_ASCII)) >= 3,
            "lzip -b made one member only");
        assertArrayEquals(data, decode(compressed));
    }

    @Test
    void theToolDecodesAndTestsGranarysFiles() throws Exception {
        byte[] data = sample(200_000);
        Path compressed = dir.resolve("granary.lz");
        try (OutputStream out = Compression.LZIP.compress(Files.newOutputStream(compressed))) {
            out.write(data);
        }
        run(List.of("lzip", "-t", compressed.toString()), dir.resolve("test.out"));
        Path decoded = dir.resolve("decoded");
        run(List.of("lzip", "-d", "-c", compressed.toString()), decoded);
        assertArrayEquals(data, Files.readAllBytes(decoded));
    }

    @Test
    void aFileOfTheToolWithAFlippedTrailerBitIsRejected() throws Exception {
        byte[] data = sample(10_000);
        Path plain = Files.write(dir.resolve("data"), data);
        Path compressed = dir.resolve("data.lz");
        run(List.of("lzip", "-k", "-c", plain.toString()), compressed);
        byte[] bytes = Files.readAllBytes(compressed);
        bytes[bytes.length - 20] ^= 1; // the CRC32's low bit
        Files.write(compressed, bytes);
        LzipFormatException e = org.junit.jupiter.api.Assertions.assertThrows(LzipFormatException.class,
            () -> decode(compressed));
        assertEquals(bytes.length - 20, e.offset(), e.getMessage());
    }

    /** Text-like bytes with repeats and noise, so that every level finds matches and literals. */
    private static byte[] sample(int size) {
        Random random = new Random(size);
        byte[] data = new byte[size];
        String words = "store narinfo guix lzip member dictionary ";
        for (int i = 0; i < size; i++) {
            data[i] = random.nextInt(10) == 0 ? (byte) random.nextInt(256)
                : (byte) words.charAt((i * 7 + random.nextInt(3)) % words.length());
        }
        return data;
    }

    private static byte[] decode(Path file) throws IOException {
        try (InputStream in = Compression.LZIP.decompress(Files.newInputStream(file))) {
            return in.readAllBytes();
        }
    }

    private static int count(byte[] haystack, byte[] needle) {
        int n = 0;
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            n++;
        }
        return n;
    }

    private static void run(List<String> command, Path stdout) throws Exception {
        Process process = new ProcessBuilder(new ArrayList<>(command)).redirectOutput(stdout.toFile())
            .redirectErrorStream(false).start();
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, process.waitFor(), command + ": " + err);
    }
}
