package org.granary.store;

import java.io.IOException;
import java.io.Writer;
import java.util.Collection;
import java.util.Objects;

/**
 * Writes the registration texts that {@link RegistrationReader} reads: the reg-info format and the dump
 * with hashes, the hash in bare base16 as {@code nix-store --dump-db} prints it. Not thread-safe; the
 * caller flushes and closes the writer.
 */
public final class RegistrationWriter {
    private final Writer out;
    private final boolean hashGiven;

    /**
     * Creates a writer.
     *
     * @param out where the text goes
     * @param hashGiven true for the dump with hashes, false for reg-info
     */
    public RegistrationWriter(Writer out, boolean hashGiven) {
        this.out = Objects.requireNonNull(out, "out");
        this.hashGiven = hashGiven;
    }

    /**
     * Writes one item.
     *
     * @param path the store path
     * @param narHash its NAR SHA-256 (ignored in the reg-info format)
     * @param narSize its NAR size (ignored in the reg-info format)
     * @param deriver the deriver, or null
     * @param references the references, written in the collection's order
     * @throws IOException if the writer fails
     */
    public void write(StorePath path, Hash narHash, long narSize, StorePath deriver, Collection<StorePath> references)
            throws IOException {
        out.write(path.toString());
        out.write('\n');
        if (hashGiven) {
            out.write(narHash.format(HashFormat.BASE16));
            out.write('\n');
            out.write(Long.toString(narSize));
            out.write('\n');
        }
        out.write(deriver == null ? "" : deriver.toString());
        out.write('\n');
        out.write(Integer.toString(references.size()));
        out.write('\n');
        for (StorePath reference : references) {
            out.write(reference.toString());
            out.write('\n');
        }
    }

    /**
     * Writes one item of the database's information.
     *
     * @param info the information
     * @throws IOException if the writer fails
     */
    public void write(PathInfo info) throws IOException {
        write(info.path(), info.narHash(), info.narSize(), info.deriver(), info.references());
    }
}
