package org.granary.store;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.Collection;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Computes the store path of every kind of item Guix makes, for one logical store dir
 * (store-facts.md §3). Only {@link StoreDir#logical()} matters: the physical root never enters a hash.
 *
 * <p>Every path is {@code makeStorePath(type, h, name)}: the SHA-256 of the fingerprint
 * {@code <type>:sha256:<base16 h>:<storeDir>:<name>}, folded to 20 bytes, in nix-base32. The name is
 * checked by Guix's rules ({@link StorePath}) first.
 *
 * <p>Immutable; safe to share between threads.
 */
public final class StorePaths {
    private final StoreDir storeDir;

    /**
     * Creates the computations for a store dir.
     *
     * @param storeDir the store dir whose logical dir goes into every path and hash
     */
    public StorePaths(StoreDir storeDir) {
        this.storeDir = Objects.requireNonNull(storeDir, "storeDir");
    }

    /**
     * Returns the store dir.
     *
     * @return the store dir given to the constructor
     */
    public StoreDir storeDir() {
        return storeDir;
    }

    /**
     * The general formula that all the others use.
     *
     * @param type the fingerprint's type, such as {@code source}, {@code text:/gnu/store/…-x} or
     *     {@code output:out}
     * @param sha256 the SHA-256 the type calls for
     * @param name the item's name
     * @return {@code <storeDir>/<nix32(compress(sha256(fingerprint), 20))>-<name>}
     * @throws InvalidStorePathException if {@code name} breaks Guix's rules
     * @throws IllegalArgumentException if {@code sha256} is not a SHA-256
     */
    public StorePath makeStorePath(String type, Hash sha256, String name) {
        if (sha256.algorithm() != HashAlgorithm.SHA256) {
            throw new IllegalArgumentException("store paths are computed from a SHA-256 hash, not " + sha256);
        }
        String problem = StorePath.nameProblem(name);
        if (problem != null) {
            throw new InvalidStorePathException("cannot make a store path named \"" + name + "\": " + problem);
        }
        String logical = storeDir.logical();
        String fingerprint = type + ":sha256:" + sha256.format(HashFormat.BASE16) + ":" + logical + ":" + name;
        return new StorePath(logical, NixBase32.encode(NixBase32.compress(sha256(fingerprint), 20)), name);
    }

    /**
     * The path of a text item, as Guix's {@code add-text-to-store} and the {@code .drv} files: type
     * {@code text} followed by {@code :<reference>} for each reference in byte order.
     *
     * @param name the item's name
     * @param contentsSha256 the SHA-256 of its contents
     * @param references the store paths it refers to (duplicates count once; a text cannot refer to itself)
     * @return the path
     * @throws InvalidStorePathException if {@code name} breaks Guix's rules
     * @throws IllegalArgumentException if the hash is not a SHA-256 or a reference is in another store dir
     */
    public StorePath text(String name, Hash contentsSha256, Collection<StorePath> references) {
        return makeStorePath(withReferences("text", references), contentsSha256, name);
    }

    /**
     * The path of a source item: a file tree added recursively with SHA-256, as {@code nix-store --add} and
     * Guix's {@code add-to-store}. Its type is {@code source}, then {@code :<reference>} for each reference
     * in byte order, then {@code :self} if it refers to itself. Guix's daemon itself only makes the bare
     * {@code source}; the references are Nix's extension.
     *
     * @param name the item's name
     * @param narSha256 the SHA-256 of its NAR
     * @param references the other store paths it refers to (duplicates count once)
     * @param selfReference whether it refers to itself
     * @return the path
     * @throws InvalidStorePathException if {@code name} breaks Guix's rules
     * @throws IllegalArgumentException if the hash is not a SHA-256 or a reference is in another store dir
     */
    public StorePath source(String name, Hash narSha256, Collection<StorePath> references, boolean selfReference) {
        String type = withReferences("source", references) + (selfReference ? ":self" : "");
        return makeStorePath(type, narSha256, name);
    }

    /**
     * The path of a fixed-output item: added flat (the hash of the file's contents) or recursive (the hash
     * of its NAR), as {@code nix-store --add-fixed [--recursive]} and fixed-output derivations. Recursive
     * SHA-256 gives the {@link #source source} path; every other combination is type {@code output:out}
     * over the SHA-256 of {@code fixed:out:[r:]<algorithm>:<base16 hash>:}.
     *
     * @param name the item's name
     * @param recursive whether {@code hash} is of the NAR rather than the contents
     * @param hash the hash, of any algorithm
     * @return the path
     * @throws InvalidStorePathException if {@code name} breaks Guix's rules
     */
    public StorePath fixedOutput(String name, boolean recursive, Hash hash) {
        if (recursive && hash.algorithm() == HashAlgorithm.SHA256) {
            return makeStorePath("source", hash, name);
        }
        String inner = "fixed:out:" + (recursive ? "r:" : "") + hash.algorithm().nixName() + ":"
            + hash.format(HashFormat.BASE16) + ":";
        return makeStorePath("output:out", Hash.of(HashAlgorithm.SHA256, sha256(inner)), name);
    }

    /**
     * The path of an output of a (non-fixed-output) derivation: type {@code output:<outputId>} over the
     * derivation's {@code hashDerivationModulo}, named after the derivation, with {@code -<outputId>}
     * appended unless the output is {@code out}.
     *
     * @param drvName the derivation's name, without {@code .drv}
     * @param outputId the output, such as {@code out} or {@code dev}
     * @param drvModuloHash the SHA-256 {@code hashDerivationModulo} of the derivation with its outputs blanked
     * @return the path
     * @throws InvalidStorePathException if the resulting name breaks Guix's rules
     * @throws IllegalArgumentException if the hash is not a SHA-256
     */
    public StorePath derivationOutput(String drvName, String outputId, Hash drvModuloHash) {
        String name = outputId.equals("out") ? drvName : drvName + "-" + outputId;
        return makeStorePath("output:" + outputId, drvModuloHash, name);
    }

    /** Appends {@code :<path>} for each reference, deduplicated and in byte order as Guix's path sets are. */
    private String withReferences(String type, Collection<StorePath> references) {
        // All references share the store dir, and base names are ASCII, so String order is byte order.
        TreeSet<String> sorted = new TreeSet<>();
        for (StorePath reference : references) {
            if (!reference.storeDir().equals(storeDir.logical())) {
                throw new IllegalArgumentException(
                    "reference " + reference + " is not in store dir " + storeDir.logical());
            }
            sorted.add(reference.toString());
        }
        StringBuilder out = new StringBuilder(type);
        for (String reference : sorted) {
            out.append(':').append(reference);
        }
        return out.toString();
    }

    private static byte[] sha256(String text) {
        return HashAlgorithm.SHA256.newDigest().digest(text.getBytes(UTF_8));
    }
}
