package org.granary.store;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.granary.nar.NarDigest;
import org.granary.nar.NarDumper;

/**
 * Writes an export stream, the format of {@code nix-store --export} and {@code guix archive --export}
 * (see {@link ExportReader}): for each item its NAR, streamed from the item's files by {@link NarDumper}
 * and hashed in the same pass, then its trailer (store path, references in sorted order, deriver, no
 * signature); {@link #finish()} writes the end marker. Given the same items in the same order, with the
 * references and deriver the database holds, the bytes are those Nix and the Guix daemon write without
 * signing (Nix exports in topological order, references first).
 *
 * <p>The writer checks nothing against a database: a caller exporting valid paths compares the returned
 * NAR hash with the registered one, as the daemons do, and stops on a mismatch (the stream then ends
 * inside an item, so no reader accepts it). After any exception the writer refuses further use.
 *
 * <p>Output goes to the stream in pieces of up to 128 KiB; it is flushed by {@link #finish()} and never
 * closed. Not thread-safe: one writer per stream and thread.
 */
public final class ExportWriter {
    private static final Comparator<StorePath> BY_BASE_NAME = Comparator.comparing(StorePath::baseName);

    private final OutputStream out;
    private final NarDumper dumper = new NarDumper();
    private final MessageDigest sha256 = HashAlgorithm.SHA256.newDigest();
    private boolean finished;
    private boolean failed;

    /**
     * Creates a writer that writes to {@code out}.
     *
     * @param out the stream to write the export to; not closed by the writer
     */
    public ExportWriter(OutputStream out) {
        this.out = Objects.requireNonNull(out, "out");
    }

    /**
     * Writes one item: the NAR of {@code files} and the trailer naming {@code path}.
     *
     * @param path the item's store path
     * @param files where the item's files are on this machine (for example
     *     {@link StoreDir#physicalPath})
     * @param references the item's references, in any order, without duplicates; written sorted
     * @param deriver the item's deriver, if it has one
     * @return the item as a reader will return it: path, references, deriver, NAR hash and size
     * @throws IllegalArgumentException if a reference or the deriver is in another store dir than
     *     {@code path}, or a reference is repeated
     * @throws IllegalStateException if {@link #finish()} was called or an earlier call failed
     * @throws org.granary.nar.NarDumpException if the files cannot be archived exactly
     * @throws IOException if reading the files or writing the stream fails
     */
    public ExportedItem write(StorePath path, Path files, Collection<StorePath> references, Optional<StorePath> deriver)
            throws IOException {
        Objects.requireNonNull(files, "files");
        checkUsable();
        List<StorePath> sorted = sortedReferences(path, references);
        // Checks the store dirs before a byte is written.
        new ExportedItem(path, Set.copyOf(sorted), deriver, Hash.of(HashAlgorithm.SHA256, new byte[32]), 0, Optional.empty());
        failed = true; // until the item is complete
        ByteArrayOutputStream marker = new ByteArrayOutputStream(8);
        ExportWire.putLong(marker, ExportWire.ITEM);
        marker.writeTo(out);
        NarDigest nar = dumper.dump(files, out, sha256);
        trailer(path, sorted, deriver).writeTo(out);
        failed = false;
        return new ExportedItem(path, Set.copyOf(sorted), deriver, Hash.of(HashAlgorithm.SHA256, nar.digest()), nar.narSize(),
                Optional.empty());
    }

    /**
     * Writes the end marker and flushes the stream. The writer can then write nothing more.
     *
     * @throws IllegalStateException if already called, or an earlier call failed
     * @throws IOException if writing the stream fails
     */
    public void finish() throws IOException {
        checkUsable();
        failed = true;
        ByteArrayOutputStream end = new ByteArrayOutputStream(8);
        ExportWire.putLong(end, ExportWire.END);
        end.writeTo(out);
        out.flush();
        failed = false;
        finished = true;
    }

    private void checkUsable() {
        if (finished) {
            throw new IllegalStateException("the export has been finished");
        }
        if (failed) {
            throw new IllegalStateException("an earlier write failed; the export stream ends inside an item");
        }
    }

    private static List<StorePath> sortedReferences(StorePath path, Collection<StorePath> references) {
        LinkedHashSet<StorePath> unique = new LinkedHashSet<>();
        for (StorePath reference : references) {
            if (!unique.add(Objects.requireNonNull(reference, "reference"))) {
                throw new IllegalArgumentException("reference " + reference + " of " + path + " is repeated");
            }
        }
        // All in one store dir, so the order of base names is Nix's order of full paths (std::set<string>).
        List<StorePath> sorted = new ArrayList<>(unique);
        sorted.sort(BY_BASE_NAME);
        return sorted;
    }

    private static ByteArrayOutputStream trailer(StorePath path, List<StorePath> references, Optional<StorePath> deriver) {
        ByteArrayOutputStream trailer = new ByteArrayOutputStream(256 + 128 * references.size());
        ExportWire.putLong(trailer, ExportWire.MAGIC);
        ExportWire.putString(trailer, path.toString());
        ExportWire.putLong(trailer, references.size());
        for (StorePath reference : references) {
            ExportWire.putString(trailer, reference.toString());
        }
        ExportWire.putString(trailer, deriver.map(StorePath::toString).orElse(""));
        ExportWire.putLong(trailer, ExportWire.UNSIGNED);
        return trailer;
    }
}
