package org.granary.store;


import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.granary.nar.FileTrees;
import org.granary.nar.NarFormatException;
import org.granary.nar.NarReader;
import org.granary.nar.NarRestorer;
import org.granary.nar.NarVisitor;

/**
 * A strict streaming parser of export streams, the format of {@code nix-store --export} and
 * {@code guix archive --export}: a sequence of items, each {@code int(1)}, the item's NAR,
 * {@code int(0x4558494e)} ("NIXE"), the store path, the number of references and each reference, the
 * deriver or {@code ""}, then {@code int(0)}, or {@code int(1)} and a signature; the stream ends with
 * {@code int(0)}. Integers are u64 little-endian, strings as in a NAR (length, bytes, zero padding to 8).
 *
 * <p>Each call to {@link #next(NarVisitor)} or {@link #restoreNext(Path)} reads one item: the NAR goes
 * through {@link NarReader} (or {@link NarRestorer}) and is hashed with SHA-256 and counted in the same
 * pass; then the trailer is checked: the magic, a store path of the reader's store dir, references that
 * are store paths of that dir without repeats, a deriver that is one or empty, a signature marker of 0
 * or 1. A malformed NAR is a {@link NarFormatException}, anything else malformed an
 * {@link ExportFormatException}; both give the offset from the start of the stream and say what was
 * expected and found. After an exception the reader refuses further use.
 *
 * <p>Guarantees: it reads exactly the export's bytes and never one past the end marker, so pass a
 * buffered stream (it reads in small pieces). Memory does not depend on any length or count read from the
 * input: strings longer than their field allows (a store path: the store dir, {@code /} and 255 bytes; a
 * signature: 64 KiB) are refused before they are read, and references are read one by one, never
 * preallocated by their declared count (they are kept, so memory grows with those actually present).
 *
 * <p>Not thread-safe: one reader per stream and thread.
 */
public final class ExportReader {
    private final Tracking in;
    private final String storeDir;
    private final int maxPathBytes;
    private final MessageDigest sha256 = HashAlgorithm.SHA256.newDigest();
    private byte[] scratch = new byte[512];
    private int items;
    private boolean ended;
    private boolean failed;

    /**
     * Creates a reader of the export in {@code in} whose paths must be in {@code storeDir}.
     *
     * @param in the export stream, positioned at its start; not closed by the reader
     * @param storeDir the store dir every path of the export must be in (only its logical dir is used)
     */
    public ExportReader(InputStream in, StoreDir storeDir) {
        this.in = new Tracking(Objects.requireNonNull(in, "in"));
        this.storeDir = storeDir.logical();
        this.maxPathBytes = ExportWire.maxPathBytes(this.storeDir);
    }

    /**
     * Reads the next item, reporting its NAR to {@code visitor} as it is read (the visitor sees the NAR
     * before its trailer has been checked: an item can still turn out malformed after all its events).
     *
     * @param visitor receives the events of the item's NAR
     * @return the item, or empty at the end marker (and on every call after it, without reading)
     * @throws NarFormatException if the item's NAR is malformed, with its offset in the stream
     * @throws ExportFormatException if the framing or the trailer is malformed or the stream ends early
     * @throws IllegalStateException if an earlier call failed
     * @throws IOException if reading fails, or as thrown by the visitor
     */
    public Optional<ExportedItem> next(NarVisitor visitor) throws IOException {
        Objects.requireNonNull(visitor, "visitor");
        return item(nar -> NarReader.read(nar, visitor), null);
    }

    /**
     * Reads the next item and restores its NAR at {@code target} with {@link NarRestorer}: all or nothing,
     * including the trailer, so on any exception nothing is left at {@code target}. The files keep the
     * restorer's modes; canonicalising them is the importer's job.
     *
     * @param target where to create the item's files: must not exist, its parent must; untouched at the
     *     end marker
     * @return the item, or empty at the end marker (and on every call after it, without reading)
     * @throws NarFormatException if the item's NAR is malformed, with its offset in the stream
     * @throws ExportFormatException if the framing or the trailer is malformed or the stream ends early
     * @throws org.granary.nar.NarRestoreException if the files cannot be created
     * @throws IllegalStateException if an earlier call failed
     * @throws IOException if reading fails
     */
    public Optional<ExportedItem> restoreNext(Path target) throws IOException {
        Objects.requireNonNull(target, "target");
        return item(nar -> NarRestorer.restore(nar, target), target);
    }

    /**
     * Returns how many bytes of the stream have been read: after the end marker, the export's length.
     *
     * @return the offset of the next byte to read
     */
    public long offset() {
        return in.offset;
    }

    /** Reads an item with {@code nar} consuming its NAR; deletes {@code restored} if the item fails after it. */
    private Optional<ExportedItem> item(NarConsumer nar, Path restored) throws IOException {
        if (failed) {
            throw new IllegalStateException("an earlier read of this export failed");
        }
        if (ended) {
            return Optional.empty();
        }
        failed = true; // until the item is complete
        long markerAt = in.offset;
        long marker = readLong("the item marker");
        if (marker == ExportWire.END) {
            ended = true;
            failed = false;
            return Optional.empty();
        }
        if (marker != ExportWire.ITEM) {
            throw malformed(markerAt, "1 (an item follows) or 0 (the end of the export)", Long.toUnsignedString(marker));
        }
        long narStart = in.offset;
        long narSize;
        sha256.reset();
        in.digest = sha256;
        try {
            narSize = nar.consume(in);
        } catch (NarFormatException e) {
            NarFormatException located = new NarFormatException("export item " + (items + 1) + ", its NAR starting at"
                    + " export offset " + narStart + ": " + e.getMessage(), narStart + e.offset());
            located.initCause(e);
            throw located;
        } finally {
            in.digest = null;
        }
        Hash narHash = Hash.of(HashAlgorithm.SHA256, sha256.digest());
        ExportedItem item;
        try {
            item = trailer(narHash, narSize);
        } catch (IOException | RuntimeException | Error e) {
            if (restored != null) {
                try {
                    FileTrees.deleteTree(restored);
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        items++;
        failed = false;
        return Optional.of(item);
    }

    private ExportedItem trailer(Hash narHash, long narSize) throws IOException {
        long magicAt = in.offset;
        long magic = readLong("the export magic");
        if (magic != ExportWire.MAGIC) {
            throw malformed(magicAt, "the export magic 0x4558494e (\"NIXE\")", "0x" + Long.toHexString(magic));
        }
        StorePath path = storePath("the item's store path");
        long countAt = in.offset;
        long count = readLong("the number of references");
        Set<StorePath> references = new HashSet<>();
        for (long i = 0; Long.compareUnsigned(i, count) < 0; i++) {
            long at = in.offset;
            StorePath reference = storePath("reference " + (i + 1) + " of " + Long.toUnsignedString(count)
                    + " (count at offset " + countAt + ")");
            if (!references.add(reference)) {
                throw malformed(at, "a reference not given before", "a repeated " + reference);
            }
        }
        long deriverAt = in.offset;
        String deriverText = string(maxPathBytes, "the deriver (a store path or \"\")");
        Optional<StorePath> deriver = deriverText.isEmpty()
                ? Optional.empty() : Optional.of(parse(deriverText, deriverAt, "the deriver"));
        long signedAt = in.offset;
        long signed = readLong("the signature marker");
        Optional<String> signature;
        if (signed == ExportWire.UNSIGNED) {
            signature = Optional.empty();
        } else if (signed == ExportWire.SIGNED) {
            signature = Optional.of(signature());
        } else {
            throw malformed(signedAt, "the signature marker 0 (none) or 1 (a signature follows)",
                    Long.toUnsignedString(signed));
        }
        return new ExportedItem(path, references, deriver, narHash, narSize, signature);
    }

    private StorePath storePath(String what) throws IOException {
        long at = in.offset;
        return parse(string(maxPathBytes, what + " (a store path)"), at, what);
    }

    private StorePath parse(String text, long at, String what) throws ExportFormatException {
        try {
            return StorePath.parse(text, storeDir);
        } catch (InvalidStorePathException e) {
            throw malformed(at, what + " as a store path of " + storeDir, e.getMessage());
        }
    }

    /** A string of at most {@code max} bytes, strictly UTF-8. */
    private String string(int max, String what) throws IOException {
        long at = in.offset;
        int length = length(max, what);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(scratch, 0, length)).toString();
        } catch (CharacterCodingException e) {
            throw malformed(at, what + " in UTF-8", "bytes that are not (" + e.getMessage() + ")");
        }
    }

    /** The signature's bytes, one char each. */
    private String signature() throws IOException {
        int length = length(ExportWire.MAX_SIGNATURE, "a signature");
        return new String(scratch, 0, length, StandardCharsets.ISO_8859_1);
    }

    /**
     * Reads a string of at most {@code max} bytes into {@code scratch}, padding checked; returns its length.
     * A longer one is refused before anything is allocated or read.
     */
    private int length(int max, String what) throws IOException {
        long at = in.offset;
        long length = readLong(what);
        if (Long.compareUnsigned(length, max) > 0) {
            throw malformed(at, what + " of at most " + max + " bytes",
                    "a length of " + Long.toUnsignedString(length));
        }
        int len = (int) length;
        int padded = len + ExportWire.padding(len);
        if (scratch.length < padded) {
            scratch = new byte[padded];
        }
        readFully(padded, what);
        for (int i = len; i < padded; i++) {
            if (scratch[i] != 0) {
                throw malformed(in.offset - padded + i, "zero padding after " + what,
                        String.format("byte 0x%02x", scratch[i] & 0xff));
            }
        }
        return len;
    }

    private long readLong(String what) throws IOException {
        readFully(8, what);
        return ExportWire.getLong(scratch, 0);
    }

    private void readFully(int length, String what) throws IOException {
        int done = 0;
        while (done < length) {
            int n = in.read(scratch, done, length - done);
            if (n < 0) {
                throw new ExportFormatException("unexpected end of export at offset " + in.offset + " while reading "
                        + what, in.offset);
            }
            done += n;
        }
    }

    private static ExportFormatException malformed(long at, String expected, String found) {
        return new ExportFormatException("export offset " + at + ": expected " + expected + " but found " + found, at);
    }

    /** Reads one NAR from the stream it is given and returns its length. */
    private interface NarConsumer {
        long consume(InputStream nar) throws IOException;
    }

    /** The caller's stream, counting every byte and hashing those read while {@link #digest} is set. */
    private static final class Tracking extends InputStream {
        private final InputStream in;
        long offset;
        MessageDigest digest;

        Tracking(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                offset++;
                if (digest != null) {
                    digest.update((byte) b);
                }
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                offset += n;
                if (digest != null) {
                    digest.update(b, off, n);
                }
            }
            return n;
        }

        @Override
        public int available() throws IOException {
            return in.available();
        }
    }
}
