package org.granary.verify.cache;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.zip.CRC32;
import org.tukaani.xz.BasicArrayCache;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.LZMAOutputStream;

/**
 * Encodes one lzip member (see {@link LzipInputStream}) with xz-java's LZMA encoder: header, raw LZMA
 * with lc=3, lp=0, pb=2 and an end marker, trailer. Closing finishes the member and closes the
 * underlying stream. Not thread-safe.
 */
final class LzipOutputStream extends OutputStream {
    /** 8 MiB, the dictionary of {@code lzip -6}. */
    static final int DEFAULT_DICTIONARY = 1 << 23;

    private final OutputStream out;
    private final CountingOutputStream counted;
    private final LZMAOutputStream lzma;
    private final CRC32 crc = new CRC32();
    private long dataSize;
    private boolean closed;

    /**
     * Writes the header and starts the LZMA stream.
     *
     * @param out where the lzip file goes
     * @param dictionary a power of two from 4 KiB to 512 MiB
     * @throws IOException if the header cannot be written
     */
    LzipOutputStream(OutputStream out, int dictionary) throws IOException {
        if (Integer.bitCount(dictionary) != 1 || dictionary < LzipInputStream.MIN_DICTIONARY
                || dictionary > LzipInputStream.MAX_DICTIONARY) {
            throw new IllegalArgumentException("lzip dictionary size " + dictionary
                + " is not a power of two from 4 KiB to 512 MiB");
        }
        // The range encoder writes one byte at a time.
        this.out = new BufferedOutputStream(out, 64 * 1024);
        this.counted = new CountingOutputStream(this.out);
        counted.write(LzipInputStream.MAGIC);
        counted.write(LzipInputStream.VERSION);
        counted.write(Integer.numberOfTrailingZeros(dictionary));
        LZMA2Options options = new LZMA2Options(LZMA2Options.PRESET_DEFAULT);
        options.setLcLp(3, 0);
        options.setPb(2);
        options.setDictSize(dictionary);
        // The cache shares the encoder's large arrays between the members a parallel compression makes.
        lzma = new LZMAOutputStream(counted, options, true, BasicArrayCache.getInstance());
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] buffer, int offset, int length) throws IOException {
        lzma.write(buffer, offset, length);
        crc.update(buffer, offset, length);
        dataSize += length;
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try (out) {
            lzma.finish();
            byte[] trailer = new byte[LzipInputStream.TRAILER_SIZE];
            putLittleEndian(trailer, 0, 4, crc.getValue());
            putLittleEndian(trailer, 4, 8, dataSize);
            putLittleEndian(trailer, 12, 8, counted.count + LzipInputStream.TRAILER_SIZE);
            counted.write(trailer);
            counted.flush();
        }
    }

    private static void putLittleEndian(byte[] bytes, int offset, int length, long value) {
        for (int i = 0; i < length; i++) {
            bytes[offset + i] = (byte) (value >>> (8 * i));
        }
    }

    /** Counts the member's bytes for its trailer; never closes the file (the encoder's finish must not). */
    private static final class CountingOutputStream extends FilterOutputStream {
        long count;

        CountingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] buffer, int offset, int length) throws IOException {
            out.write(buffer, offset, length);
            count += length;
        }

        @Override
        public void close() {
        }
    }
}
