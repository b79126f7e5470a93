package org.granary.verify.cache;

import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PushbackInputStream;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream;
import org.tukaani.xz.BasicArrayCache;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZInputStream;
import org.tukaani.xz.XZOutputStream;

/**
 * The compressions of NAR files in a binary cache, by their names in a narinfo's {@code Compression}
 * field (store-facts.md §10): Nix writes {@code xz} by default, {@code guix publish} {@code gzip},
 * {@code zstd} and {@code lzip}.
 *
 * <p>Each decoder accepts concatenated streams (members, frames) as the reference tools do, refuses a
 * truncated or corrupt input with an {@link IOException}, and allocates at most
 * {@link #MAX_DICTIONARY} bytes of dictionary whatever its input declares. Stateless; safe to share.
 */
public enum Compression {
    /** Stored as is. */
    NONE("none", ""),
    /** gzip (RFC 1952), through the JDK's zlib. */
    GZIP("gzip", ".gz"),
    /** bzip2, through Commons Compress. */
    BZIP2("bzip2", ".bz2"),
    /** xz, through xz-java. */
    XZ("xz", ".xz"),
    /** Zstandard, through zstd-jni. */
    ZSTD("zstd", ".zst"),
    /** lzip, Guix's preferred compression, on xz-java's LZMA decoder. */
    LZIP("lzip", ".lz");

    /**
     * The largest dictionary (xz, lzip) a decoder allocates: 64 MiB, twice what the strongest presets
     * of {@code xz -9} and {@code lzip -9} use. A file that declares more is refused rather than let
     * an input's header choose how much memory is taken.
     */
    public static final int MAX_DICTIONARY = 64 << 20;

    private static final int BUFFER = 64 * 1024;

    private final String fieldName;
    private final String extension;

    Compression(String fieldName, String extension) {
        this.fieldName = fieldName;
        this.extension = extension;
    }

    /**
     * Returns the compression a narinfo's {@code Compression} field names, if Granary has a codec for it.
     *
     * @param name such as {@code xz}, exactly as written (lower case)
     * @return the compression, or empty for a name Granary cannot decode (Nix also knows {@code br},
     *     {@code lz4}, {@code lzma}, …)
     */
    public static Optional<Compression> forName(String name) {
        for (Compression c : values()) {
            if (c.fieldName.equals(name)) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    /**
     * Returns the name written in a narinfo's {@code Compression} field.
     *
     * @return such as {@code xz}
     */
    public String fieldName() {
        return fieldName;
    }

    /**
     * Returns the suffix of a NAR file compressed this way, as Nix names them.
     *
     * @return such as {@code .xz}; empty for {@link #NONE}
     */
    public String extension() {
        return extension;
    }

    /**
     * Wraps a compressed stream in its decoder. Closing the result closes {@code in}.
     *
     * @param in the compressed bytes
     * @return the decompressed bytes
     * @throws IOException if the stream's header is already malformed
     */
    public InputStream decompress(InputStream in) throws IOException {
        return switch (this) {
            case NONE -> in;
            case GZIP -> new GZIPInputStream(in, BUFFER);
            case BZIP2 -> new BZip2CompressorInputStream(in, true);
            case XZ -> new XZInputStream(in, MAX_DICTIONARY / 1024 * 2);
            case ZSTD -> new ZstdInputStream(nonEmpty(in));
            case LZIP -> new LzipInputStream(in, MAX_DICTIONARY);
        };
    }

    /** zstd-jni reads an empty input as no frames and no data: a file cut to nothing must not pass. */
    private InputStream nonEmpty(InputStream in) throws IOException {
        PushbackInputStream pushback = new PushbackInputStream(in, 1);
        int first = pushback.read();
        if (first < 0) {
            throw new EOFException(fieldName + ": empty file, expected at least one frame");
        }
        pushback.unread(first);
        return pushback;
    }

    /**
     * Wraps a stream in an encoder at the default level of the usual tool ({@code gzip -6},
     * {@code bzip2 -9}, {@code xz -6}, {@code zstd -3}, {@code lzip -6}). xz and lzip, the slow ones,
     * compress 24 MiB chunks on up to four cores at once and write them as concatenated streams, as
     * {@code xz -T} and {@code plzip} do ({@link ParallelCompressingOutputStream}). Closing the result
     * finishes the compressed stream and closes {@code out}.
     *
     * @param out where the compressed bytes go
     * @return the stream to write uncompressed bytes to
     * @throws IOException if the header cannot be written
     */
    public OutputStream compress(OutputStream out) throws IOException {
        return switch (this) {
            case NONE -> out;
            case GZIP -> new GZIPOutputStream(out, BUFFER);
            case BZIP2 -> new BZip2CompressorOutputStream(out);
            case XZ -> new ParallelCompressingOutputStream(out,
                chunk -> new XZOutputStream(chunk, new LZMA2Options(LZMA2Options.PRESET_DEFAULT),
                    BasicArrayCache.getInstance()));
            case ZSTD -> new ZstdOutputStream(out, 3);
            case LZIP -> new ParallelCompressingOutputStream(out,
                chunk -> new LzipOutputStream(chunk, LzipOutputStream.DEFAULT_DICTIONARY));
        };
    }

    /**
     * Returns the name written in a narinfo.
     *
     * @return {@link #fieldName()}
     */
    @Override
    public String toString() {
        return fieldName;
    }
}
