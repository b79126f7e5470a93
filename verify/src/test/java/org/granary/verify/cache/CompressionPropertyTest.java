package org.granary.verify.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class CompressionPropertyTest {

    @Property(tries = 30)
    void everyCodecDecodesWhatItEncodes(@ForAll Compression compression, @ForAll("data") byte[] data)
            throws IOException {
        assertArrayEquals(data, decode(compression, encode(compression, data)));
    }

    @Property(tries = 30)
    void aTruncatedFileIsAnErrorNotAShorterResult(@ForAll Compression compression, @ForAll("data") byte[] data,
            @ForAll @IntRange(min = 1, max = 1000) int cut) throws IOException {
        if (compression == Compression.NONE) {
            return; // nothing in a stored file says where it ends
        }
        byte[] encoded = encode(compression, data);
        byte[] truncated = Arrays.copyOf(encoded, Math.max(0, encoded.length - cut));
        assertThrows(IOException.class, () -> decode(compression, truncated));
    }

    @Property(tries = 30)
    void lzipMembersConcatenateAsTheToolDoes(@ForAll("data") byte[] first, @ForAll("data") byte[] second)
            throws IOException {
        ByteArrayOutputStream both = new ByteArrayOutputStream();
        both.write(smallLzip(first));
        both.write(smallLzip(second));
        byte[] expected = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, expected, first.length, second.length);
        assertArrayEquals(expected, decode(Compression.LZIP, both.toByteArray()));
    }

    @Property(tries = 50)
    void aChangedByteInAnLzipFileIsRejectedOrDecodesToTheSameData(@ForAll("data") byte[] data,
            @ForAll @IntRange(min = 0, max = 100_000) int position, @ForAll @IntRange(min = 1, max = 255) int xor)
            throws IOException {
        byte[] encoded = smallLzip(data);
        int at = position % encoded.length;
        encoded[at] ^= (byte) xor;
        try {
            // The LZMA stream may absorb a change (an unused bit); the CRC and sizes catch all else.
            assertArrayEquals(data, decode(Compression.LZIP, encoded));
        } catch (LzipFormatException e) {
            assertEquals(true, e.offset() >= 0 && e.offset() <= encoded.length, e.getMessage());
        }
    }

    @Test
    void trailingGarbageAfterAnLzipMemberIsRejected() throws IOException {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.write(encode(Compression.LZIP, "hello".getBytes()));
        file.write("junk".getBytes());
        LzipFormatException e = assertThrows(LzipFormatException.class,
            () -> decode(Compression.LZIP, file.toByteArray()));
        assertEquals(file.size() - 4, e.offset(), e.getMessage());
    }

    @Test
    void anLzipDictionaryAboveTheLimitIsRefusedBeforeAllocation() throws IOException {
        byte[] encoded = encode(Compression.LZIP, "hello".getBytes());
        encoded[5] = 29; // 512 MiB
        LzipFormatException e = assertThrows(LzipFormatException.class, () -> decode(Compression.LZIP, encoded));
        assertEquals(5, e.offset(), e.getMessage());
    }

    @Test
    void theCodedDictionarySizeFollowsTheLzipManual() {
        assertEquals(1 << 12, LzipInputStream.dictionarySize((byte) 12));
        assertEquals(1 << 23, LzipInputStream.dictionarySize((byte) 23));
        // 0xD3: 2^19 less 6/16 of it (the manual's example: 0xD3 = 327_680).
        assertEquals(327_680, LzipInputStream.dictionarySize((byte) 0xD3));
    }

    @Provide
    Arbitrary<byte[]> data() {
        Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(3000);
        // Repetitive data exercises the matches of LZ77 coders, random data their literals.
        Arbitrary<byte[]> repetitive = Arbitraries.strings().withChars("ab\n").ofMaxLength(200)
            .map(s -> s.repeat(50).getBytes());
        return Arbitraries.oneOf(random, repetitive);
    }

    static byte[] encode(Compression compression, byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream encoder = compression.compress(out)) {
            encoder.write(data);
        }
        return out.toByteArray();
    }

    /** lzip with a 64 KiB dictionary: the default 8 MiB costs 0.1 s of allocation per file. */
    static byte[] smallLzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream encoder = new LzipOutputStream(out, 1 << 16)) {
            encoder.write(data);
        }
        return out.toByteArray();
    }

    static byte[] decode(Compression compression, byte[] encoded) throws IOException {
        try (InputStream in = compression.decompress(new ByteArrayInputStream(encoded))) {
            return in.readAllBytes();
        }
    }
}
