package org.granary.store;

import java.util.Collection;
import java.util.Collections;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What the reference database knows of a valid store item (store-facts.md §5): its NAR hash and size,
 * its references, its deriver, when it was registered, its signatures and its content address.
 *
 * <p>Immutable and validated on construction: the NAR hash is SHA-256 (the only kind the daemon
 * records; all zeros means "unknown"), the size and time are not negative, references and deriver are
 * in the path's store dir, and each signature and the content address is non-empty printable ASCII
 * without spaces. The sets are copied into unmodifiable sorted sets. Safe to share between threads.
 *
 * @param path the item
 * @param narHash SHA-256 of its NAR serialisation
 * @param narSize the NAR's length in bytes (0 if unknown)
 * @param references the paths it refers to (itself included if it refers to itself), sorted
 * @param deriver the derivation that built it, or null
 * @param registrationTime when it became valid, in seconds since the epoch
 * @param signatures signatures of its narinfo ({@code keyname:base64}), sorted
 * @param contentAddress its content address (such as {@code fixed:r:sha256:…}), or null
 */
public record PathInfo(
        StorePath path,
        Hash narHash,
        long narSize,
        SortedSet<StorePath> references,
        StorePath deriver,
        long registrationTime,
        SortedSet<String> signatures,
        String contentAddress) {

    /**
     * Checks and copies every component.
     *
     * @param path the item
     * @param narHash SHA-256 of its NAR serialisation
     * @param narSize the NAR's length in bytes (0 if unknown)
     * @param references the paths it refers to (itself included if it refers to itself), sorted
     * @param deriver the derivation that built it, or null
     * @param registrationTime when it became valid, in seconds since the epoch
     * @param signatures signatures of its narinfo ({@code keyname:base64}), sorted
     * @param contentAddress its content address (such as {@code fixed:r:sha256:…}), or null
     * @throws IllegalArgumentException naming the path and the component at fault
     * @throws NullPointerException if a component other than {@code deriver} or {@code contentAddress}
     *     is null
     */
    public PathInfo {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(narHash, "narHash");
        if (narHash.algorithm() != HashAlgorithm.SHA256) {
            throw invalid(path, "NAR hash " + narHash + " is not sha256");
        }
        if (narSize < 0) {
            throw invalid(path, "negative NAR size " + narSize);
        }
        if (registrationTime < 0) {
            throw invalid(path, "negative registration time " + registrationTime);
        }
        references = copy(references, "references");
        for (StorePath reference : references) {
            checkSameStoreDir(path, reference, "reference");
        }
        if (deriver != null) {
            checkSameStoreDir(path, deriver, "deriver");
        }
        signatures = copy(signatures, "signatures");
        for (String signature : signatures) {
            checkToken(path, signature, "signature");
        }
        if (contentAddress != null) {
            checkToken(path, contentAddress, "content address");
        }
    }

    /**
     * Returns the information of an item with no deriver, signatures or content address.
     *
     * @param path the item
     * @param narHash SHA-256 of its NAR
     * @param narSize the NAR's length
     * @param references the paths it refers to
     * @param registrationTime seconds since the epoch
     * @return the information
     * @throws IllegalArgumentException as the canonical constructor
     */
    public static PathInfo of(StorePath path, Hash narHash, long narSize, Collection<StorePath> references,
            long registrationTime) {
        return new PathInfo(path, narHash, narSize, new TreeSet<>(references), null, registrationTime,
            Collections.emptySortedSet(), null);
    }

    /**
     * Returns a copy with another deriver.
     *
     * @param newDeriver the derivation that built the item, or null
     * @return the new information
     */
    public PathInfo withDeriver(StorePath newDeriver) {
        return new PathInfo(path, narHash, narSize, references, newDeriver, registrationTime, signatures,
            contentAddress);
    }

    /**
     * Returns a copy with other signatures.
     *
     * @param newSignatures the signatures
     * @return the new information
     */
    public PathInfo withSignatures(Collection<String> newSignatures) {
        return new PathInfo(path, narHash, narSize, references, deriver, registrationTime,
            new TreeSet<>(newSignatures), contentAddress);
    }

    /**
     * Returns a copy with another content address.
     *
     * @param newContentAddress the content address, or null
     * @return the new information
     */
    public PathInfo withContentAddress(String newContentAddress) {
        return new PathInfo(path, narHash, narSize, references, deriver, registrationTime, signatures,
            newContentAddress);
    }

    /**
     * Returns a one-line summary for logs and messages.
     *
     * @return such as {@code /gnu/store/…-hello (narHash sha256:…, narSize 1234, 2 references,
     *     registered 1700000000)}, with the deriver, signatures and content address when present
     */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder().append(path).append(" (narHash ").append(narHash)
            .append(", narSize ").append(narSize).append(", references ").append(references)
            .append(", registered ").append(registrationTime);
        if (deriver != null) {
            s.append(", deriver ").append(deriver);
        }
        if (!signatures.isEmpty()) {
            s.append(", signatures ").append(signatures);
        }
        if (contentAddress != null) {
            s.append(", ca ").append(contentAddress);
        }
        return s.append(')').toString();
    }

    private static <T extends Comparable<T>> SortedSet<T> copy(Collection<T> values, String what) {
        Objects.requireNonNull(values, what);
        if (values instanceof SortedSet<T> sorted && sorted.comparator() == null) {
            // Already in natural order: copied in linear time, where adding one by one compares each element.
            // (The JDK's naturally ordered sets refuse null; a null from another would fail the checks below.)
            return Collections.unmodifiableSortedSet(new TreeSet<>(sorted));
        }
        TreeSet<T> copy = new TreeSet<>();
        for (T value : values) {
            copy.add(Objects.requireNonNull(value, () -> "null element in " + what));
        }
        return Collections.unmodifiableSortedSet(copy);
    }

    private static void checkSameStoreDir(StorePath path, StorePath other, String role) {
        if (!other.storeDir().equals(path.storeDir())) {
            throw invalid(path, role + " " + other + " is not in store dir " + path.storeDir());
        }
    }

    /** Signatures and content addresses are printed space- or line-separated: printable ASCII only. */
    private static void checkToken(StorePath path, String token, String role) {
        if (token.isEmpty()) {
            throw invalid(path, "empty " + role);
        }
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c <= ' ' || c > '~') {
                throw invalid(path, role + " \"" + token + "\" has " + NixBase32.quote(token, i) + " at index "
                    + i + " (printable ASCII without spaces expected)");
            }
        }
    }

    private static IllegalArgumentException invalid(StorePath path, String problem) {
        return new IllegalArgumentException("invalid path info for " + path + ": " + problem);
    }
}
