package org.granary.verify.cache;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.CRC32;
import org.tukaani.xz.LZMAInputStream;

/**
 * Decodes an lzip file (the format of {@code lzip} 1.x and lzlib, which {@code guix publish} serves):
 * one or more members, each a header ({@code LZIP}, version 1, coded dictionary size), a raw LZMA
 * stream with an end marker and the fixed properties lc=3, lp=0, pb=2, and a trailer of the CRC32 of
 * the data, the data size and the member size (little-endian, 4 + 8 + 8 bytes).
 *
 * <p>Every trailer is checked against what was decoded; any byte after the last member that does not
 * begin a valid member is an error (a NAR file has no trailing data). Not thread-safe.
 */
final class LzipInputStream extends InputStream {
    static final byte[] MAGIC = {'L', 'Z', 'I', 'P'};
    static final int VERSION = 1;
    static final int HEADER_SIZE = 6;
    static final int TRAILER_SIZE = 20;
    static final int MIN_DICTIONARY = 1 << 12;
    static final int MAX_DICTIONARY = 1 << 29;

    private final CountingInputStream in;
    private final int maxDictionary;
    private final CRC32 crc = new CRC32();
    private LZMAInputStream member;
    private long memberStart;
    private long dataSize;
    private boolean finished;

    /**
     * Starts decoding; the first member's header is read on the first {@code read}.
     *
     * @param in the lzip file
     * @param maxDictionary the largest dictionary size a member may declare
     */
    LzipInputStream(InputStream in, int maxDictionary) {
        // The LZMA decoder reads one byte at a time: buffer below the count, which stays exact.
        this.in = new CountingInputStream(new BufferedInputStream(in, 64 * 1024));
        this.maxDictionary = maxDictionary;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        while (!finished) {
            if (member == null && !startMember()) {
                finished = true;
                break;
            }
            int n;
            try {
                n = member.read(buffer, offset, length);
            } catch (EOFException e) {
                throw new LzipFormatException(in.count(), "truncated member (starting at byte " + memberStart
                    + ")", e);
            } catch (IOException e) {
                throw new LzipFormatException(in.count(), "corrupt LZMA data in the member starting at byte "
                    + memberStart + ": " + e.getMessage(), e);
            }
            if (n > 0) {
                crc.update(buffer, offset, n);
                dataSize += n;
                return n;
            }
            endMember();
        }
        return -1;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    /** Reads a member's header; returns false at a clean end of file after at least one member. */
    private boolean startMember() throws IOException {
        memberStart = in.count();
        byte[] header = new byte[HEADER_SIZE];
        int n = in.readNBytes(header, 0, HEADER_SIZE);
        if (n == 0 && memberStart > 0) {
            return false;
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (i >= n || header[i] != MAGIC[i]) {
                throw new LzipFormatException(memberStart + i, i >= n
                    ? "file ends inside the magic \"LZIP\"" + (memberStart > 0 ? " of a member after the first" : "")
                    : "expected the magic \"LZIP\", found byte 0x" + Integer.toHexString(header[i] & 0xff)
                        + (memberStart > 0 ? " (trailing data after the last member)" : ""));
            }
        }
        if (n < HEADER_SIZE) {
            throw new LzipFormatException(memberStart + n, "file ends inside a member header");
        }
        if (header[4] != VERSION) {
            throw new LzipFormatException(memberStart + 4, "version " + (header[4] & 0xff) + ", only " + VERSION
                + " is defined");
        }
        int dictionary = dictionarySize(header[5]);
        if (dictionary < MIN_DICTIONARY || dictionary > MAX_DICTIONARY) {
            throw new LzipFormatException(memberStart + 5, "dictionary size " + dictionary + " outside "
                + MIN_DICTIONARY + ".." + MAX_DICTIONARY);
        }
        if (dictionary > maxDictionary) {
            throw new LzipFormatException(memberStart + 5, "dictionary size " + dictionary
                + " exceeds this decoder's limit of " + maxDictionary + " bytes");
        }
        crc.reset();
        dataSize = 0;
        try {
            // The decoder reads the range coder's first five bytes at once.
            member = new LZMAInputStream(new NonClosing(in), -1, 3, 0, 2, dictionary, null);
        } catch (EOFException e) {
            throw new LzipFormatException(in.count(), "truncated member (starting at byte " + memberStart + ")", e);
        } catch (IOException e) {
            throw new LzipFormatException(in.count(), "corrupt LZMA data in the member starting at byte "
                + memberStart + ": " + e.getMessage(), e);
        }
        return true;
    }

    /** Checks the trailer against what the member decoded to. */
    private void endMember() throws IOException {
        member = null;
        long trailerAt = in.count();
        byte[] trailer = new byte[TRAILER_SIZE];
        int n = in.readNBytes(trailer, 0, TRAILER_SIZE);
        if (n < TRAILER_SIZE) {
            throw new LzipFormatException(trailerAt + n, "file ends inside the trailer of the member starting at byte "
                + memberStart);
        }
        long storedCrc = littleEndian(trailer, 0, 4);
        long storedDataSize = littleEndian(trailer, 4, 8);
        long storedMemberSize = littleEndian(trailer, 12, 8);
        if (storedCrc != crc.getValue()) {
            throw new LzipFormatException(trailerAt, "CRC32 of the data is " + hex(crc.getValue())
                + ", the trailer says " + hex(storedCrc));
        }
        if (storedDataSize != dataSize) {
            throw new LzipFormatException(trailerAt + 4, "member decoded to " + dataSize
                + " bytes, the trailer says " + storedDataSize);
        }
        long memberSize = in.count() - memberStart;
        if (storedMemberSize != memberSize) {
            throw new LzipFormatException(trailerAt + 12, "member is " + memberSize
                + " bytes long, the trailer says " + storedMemberSize);
        }
    }

    /** The coded size: 2^(bits 0-4) less (bits 5-7) sixteenths of it. */
    static int dictionarySize(byte coded) {
        int exponent = coded & 0x1f;
        if (exponent > 29) {
            return Integer.MAX_VALUE;
        }
        int size = 1 << exponent;
        return size - (size / 16) * ((coded >> 5) & 7);
    }

    private static long littleEndian(byte[] bytes, int offset, int length) {
        long value = 0;
        for (int i = length - 1; i >= 0; i--) {
            value = value << 8 | (bytes[offset + i] & 0xff);
        }
        return value;
    }

    private static String hex(long value) {
        return String.format("0x%08x", value);
    }

    /** Counts the bytes read, for offsets and the member size; reads through without buffering. */
    static final class CountingInputStream extends FilterInputStream {
        private long count;

        CountingInputStream(InputStream in) {
            super(in);
        }

        long count() {
            return count;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = in.read(buffer, offset, length);
            if (n > 0) {
                count += n;
            }
            return n;
        }

        @Override
        public long skip(long n) {
            throw new UnsupportedOperationException("skip would hide bytes from the count");
        }
    }

    /** Keeps one member's decoder from closing the file under the next. */
    private static final class NonClosing extends FilterInputStream {
        NonClosing(InputStream in) {
            super(in);
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            return in.read(buffer, offset, length);
        }

        @Override
        public void close() {
        }
    }
}
