package org.granary.store;

import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One item of an export stream: what its trailer says about it, and the hash and size of its NAR as
 * computed while it was written or read (the format carries no hash; an importer registers these).
 *
 * <p>Immutable and validated on construction; safe to share between threads.
 *
 * @param path the item's store path
 * @param references the store paths it refers to (may include itself), in the same store dir
 * @param deriver the derivation that built it, if the export names one
 * @param narHash the SHA-256 of its NAR
 * @param narSize the length of its NAR in bytes
 * @param signature Guix's signature of the item, if the export carries one: the exact bytes of the
 *     string, each as one char (ISO-8859-1). Nothing here checks it; {@link ExportWriter} writes none.
 */
public record ExportedItem(StorePath path, Set<StorePath> references, Optional<StorePath> deriver,
                           Hash narHash, long narSize, Optional<String> signature) {

    /**
     * Checks the fields and copies the references.
     *
     * @param path the item's store path
     * @param references the store paths it refers to (may include itself), in the same store dir
     * @param deriver the derivation that built it, if the export names one
     * @param narHash the SHA-256 of its NAR
     * @param narSize the length of its NAR in bytes
     * @param signature Guix's signature of the item, if the export carries one: the exact bytes of the
     *     string, each as one char (ISO-8859-1). Nothing here checks it; {@link ExportWriter} writes none.
     * @throws IllegalArgumentException if a reference or the deriver is in another store dir than
     *     {@code path}, {@code narHash} is not SHA-256 or {@code narSize} is negative
     * @throws NullPointerException if any argument or reference is null
     */
    public ExportedItem {
        Objects.requireNonNull(path, "path");
        references = Set.copyOf(references);
        Objects.requireNonNull(deriver, "deriver");
        Objects.requireNonNull(narHash, "narHash");
        Objects.requireNonNull(signature, "signature");
        for (StorePath reference : references) {
            sameStoreDir(path, reference, "reference");
        }
        deriver.ifPresent(d -> sameStoreDir(path, d, "deriver"));
        if (narHash.algorithm() != HashAlgorithm.SHA256) {
            throw new IllegalArgumentException("the NAR hash of " + path + " must be SHA-256, not " + narHash.algorithm());
        }
        if (narSize < 0) {
            throw new IllegalArgumentException("negative NAR size " + narSize + " for " + path);
        }
    }

    private static void sameStoreDir(StorePath path, StorePath other, String what) {
        if (!other.storeDir().equals(path.storeDir())) {
            throw new IllegalArgumentException(what + " " + other + " of " + path + " is not in store dir " + path.storeDir());
        }
    }
}
