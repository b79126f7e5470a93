package org.granary.verify.cache;

import java.io.IOException;
import java.io.InputStream;

/**
 * A stream that, once a read has failed, fails every later read with the same exception: a decoder or
 * checker that found bad data must not go on as if the data were whole (a caller that catches and
 * reads on would otherwise see a clean end). Subclasses implement {@link #readChecked}. Not thread-safe.
 */
abstract class FailStopInputStream extends InputStream {
    private final byte[] one = new byte[1];
    private IOException failure;

    @Override
    public final int read() throws IOException {
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public final int read(byte[] buffer, int offset, int length) throws IOException {
        if (failure != null) {
            throw failure;
        }
        try {
            return readChecked(buffer, offset, length);
        } catch (IOException e) {
            failure = e;
            throw e;
        }
    }

    /**
     * Reads as {@link InputStream#read(byte[], int, int)} does; an exception stops the stream.
     *
     * @param buffer where the bytes go
     * @param offset the first index to fill
     * @param length the most bytes to read
     * @return how many were read, or -1 at the end
     * @throws IOException if the data is bad or cannot be read
     */
    abstract int readChecked(byte[] buffer, int offset, int length) throws IOException;
}
