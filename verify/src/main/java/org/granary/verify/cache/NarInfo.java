package org.granary.verify.cache;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;
import org.granary.store.Hash;
import org.granary.store.HashAlgorithm;
import org.granary.store.HashFormat;
import org.granary.store.InvalidHashException;
import org.granary.store.InvalidStorePathException;
import org.granary.store.PathInfo;
import org.granary.store.StorePath;

/**
 * A {@code HASH.narinfo} of a binary cache, with the fields of both Nix and Guix (store-facts.md §10).
 *
 * <p>The text is lines of {@code Key: value}, each ending in a newline. {@code StorePath}, {@code URL},
 * {@code NarHash} and a positive {@code NarSize} are required; {@code References} and {@code Deriver}
 * hold base names; {@code Sig} may repeat (Nix signatures); {@code Signature} is Guix's. A narinfo
 * may offer several files: each {@code URL} starts one and the {@code Compression}, {@code FileHash}
 * and {@code FileSize} after it describe it, as {@code guix publish} writes them (with one
 * {@code URL} they may come in any order, as Nix reads them). A missing {@code Compression} means
 * {@code bzip2}, as for Nix. Unknown keys are ignored, as both readers do.
 *
 * <p>Immutable and validated on construction; safe to share between threads.
 *
 * @param storePath the item
 * @param files the NAR files offered, in the narinfo's order (at least one)
 * @param narHash SHA-256 of the uncompressed NAR
 * @param narSize its length, positive
 * @param references the item's references, sorted
 * @param deriver the deriver, or null (read from {@code unknown-deriver}, which some Nix versions write,
 *     or an empty value, which Guix reads as none)
 * @param system the system it was built for, or null
 * @param sigs Nix signatures {@code keyname:base64}, in the narinfo's order
 * @param guixSignature the value of Guix's {@code Signature} field, or null
 * @param contentAddress the {@code CA} field, or null
 */
public record NarInfo(
        StorePath storePath,
        List<NarFile> files,
        Hash narHash,
        long narSize,
        SortedSet<StorePath> references,
        StorePath deriver,
        String system,
        List<String> sigs,
        String guixSignature,
        String contentAddress) {

    /**
     * One NAR file a narinfo offers.
     *
     * @param url its location relative to the cache, such as {@code nar/1w1f…5p3.nar.xz}
     * @param compression the {@code Compression} name, such as {@code xz}; see {@link Compression#forName}
     * @param fileHash the hash of the compressed file, or null if not given
     * @param fileSize the length of the compressed file, or -1 if not given
     */
    public record NarFile(String url, String compression, Hash fileHash, long fileSize) {
        /**
         * Checks the components.
         *
         * @param url its location relative to the cache, such as {@code nar/1w1f…5p3.nar.xz}
         * @param compression the {@code Compression} name, such as {@code xz}; see {@link Compression#forName}
         * @param fileHash the hash of the compressed file, or null if not given
         * @param fileSize the length of the compressed file, or -1 if not given
         * @throws IllegalArgumentException if the URL or compression is empty or has a space or control
         *     character, or the size is below -1
         */
        public NarFile {
            checkValue(url, "URL");
            checkValue(compression, "Compression");
            if (fileSize < -1) {
                throw new IllegalArgumentException("negative FileSize " + fileSize);
            }
        }
    }

    /**
     * Checks and copies the components.
     *
     * @param storePath the item
     * @param files the NAR files offered, in the narinfo's order (at least one)
     * @param narHash SHA-256 of the uncompressed NAR
     * @param narSize its length, positive
     * @param references the item's references, sorted
     * @param deriver the deriver, or null (written {@code unknown-deriver} by some Nix versions)
     * @param system the system it was built for, or null
     * @param sigs Nix signatures {@code keyname:base64}, in the narinfo's order
     * @param guixSignature the value of Guix's {@code Signature} field, or null
     * @param contentAddress the {@code CA} field, or null
     * @throws IllegalArgumentException naming the component at fault
     * @throws NullPointerException if a required component is null
     */
    public NarInfo {
        Objects.requireNonNull(storePath, "storePath");
        Objects.requireNonNull(narHash, "narHash");
        files = List.copyOf(files);
        if (files.isEmpty()) {
            throw new IllegalArgumentException(storePath + ": a narinfo offers at least one file");
        }
        if (narHash.algorithm() != HashAlgorithm.SHA256) {
            throw new IllegalArgumentException(storePath + ": NarHash " + narHash + " is not sha256");
        }
        if (narSize <= 0) {
            throw new IllegalArgumentException(storePath + ": NarSize " + narSize + " is not positive");
        }
        references = Collections.unmodifiableSortedSet(new TreeSet<>(references));
        for (StorePath reference : references) {
            checkStoreDir(storePath, reference);
        }
        if (deriver != null) {
            checkStoreDir(storePath, deriver);
        }
        if (system != null) {
            checkValue(system, "System");
        }
        sigs = List.copyOf(sigs);
        sigs.forEach(sig -> checkValue(sig, "Sig"));
        if (guixSignature != null) {
            checkValue(guixSignature, "Signature");
        }
        if (contentAddress != null) {
            checkValue(contentAddress, "CA");
        }
    }

    /**
     * Parses a narinfo's text.
     *
     * @param text the narinfo, every line ending in a newline
     * @param storeDir the logical store dir its paths must be in, such as {@code /gnu/store}
     * @param source where it came from, for messages (such as its URL)
     * @return the narinfo
     * @throws NarInfoFormatException naming the source, line and field at fault
     */
    public static NarInfo parse(String text, String storeDir, String source) throws NarInfoFormatException {
        return new NarInfoParser(text, storeDir, source).parse();
    }

    /**
     * Returns what the narinfo says of the item, as the database would record it: no registration time
     * (0), the Nix signatures, the content address.
     *
     * @return the path info
     */
    public PathInfo toPathInfo() {
        return new PathInfo(storePath, narHash, narSize, references, deriver, 0, new TreeSet<>(sigs),
            contentAddress);
    }

    /**
     * Returns the narinfo text, in the order Nix writes the fields ({@code StorePath}, then per file
     * {@code URL}, {@code Compression}, {@code FileHash}, {@code FileSize}, then {@code NarHash} as
     * {@code sha256:<nix-base32>}, {@code NarSize}, {@code References}, {@code Deriver},
     * {@code System}, each {@code Sig}, {@code CA}), then Guix's {@code Signature}. {@link #parse} of it
     * gives back an equal narinfo.
     *
     * @return the text, each line ending in a newline
     */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder();
        line(s, "StorePath", storePath.toString());
        for (NarFile file : files) {
            line(s, "URL", file.url());
            line(s, "Compression", file.compression());
            if (file.fileHash() != null) {
                line(s, "FileHash", typed(file.fileHash()));
            }
            if (file.fileSize() >= 0) {
                line(s, "FileSize", Long.toString(file.fileSize()));
            }
        }
        line(s, "NarHash", typed(narHash));
        line(s, "NarSize", Long.toString(narSize));
        List<String> names = new ArrayList<>();
        references.forEach(reference -> names.add(reference.baseName()));
        line(s, "References", String.join(" ", names));
        if (deriver != null) {
            line(s, "Deriver", deriver.baseName());
        }
        if (system != null) {
            line(s, "System", system);
        }
        sigs.forEach(sig -> line(s, "Sig", sig));
        if (contentAddress != null) {
            line(s, "CA", contentAddress);
        }
        if (guixSignature != null) {
            line(s, "Signature", guixSignature);
        }
        return s.toString();
    }

    /** The form narinfos use for hashes: {@code sha256:<nix-base32>}. */
    static String typed(Hash hash) {
        return hash.algorithm().nixName() + ":" + hash.format(HashFormat.BASE32);
    }

    private static void line(StringBuilder s, String key, String value) {
        s.append(key).append(": ").append(value).append('\n');
    }

    private static void checkStoreDir(StorePath path, StorePath other) {
        if (!other.storeDir().equals(path.storeDir())) {
            throw new IllegalArgumentException(path + ": " + other + " is not in store dir " + path.storeDir());
        }
    }

    /** A value fits on its line and, like Nix's tokens, has no spaces. */
    static void checkValue(String value, String field) {
        Objects.requireNonNull(value, field);
        if (value.isEmpty()) {
            throw new IllegalArgumentException("empty " + field);
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c <= ' ' || c > '~') {
                throw new IllegalArgumentException(field + " \"" + value + "\" has character U+"
                    + String.format("%04X", (int) c) + " at index " + i + " (printable ASCII without spaces expected)");
            }
        }
    }

    /** Parses one text; a parser is used once. */
    private static final class NarInfoParser {
        private final String text;
        private final String storeDir;
        private final String source;
        private int lineNumber;
        private StorePath storePath;
        private final List<FileBuilder> files = new ArrayList<>();
        private Hash narHash;
        private long narSize = -1;
        private SortedSet<StorePath> references;
        private StorePath deriver;
        private boolean deriverSeen;
        private String system;
        private final List<String> sigs = new ArrayList<>();
        private String guixSignature;
        private String contentAddress;
        /** Compression, FileHash and FileSize lines seen before any URL: key, value, line. */
        private final List<String[]> early = new ArrayList<>();

        NarInfoParser(String text, String storeDir, String source) {
            this.text = text;
            this.storeDir = storeDir;
            this.source = source;
        }

        NarInfo parse() throws NarInfoFormatException {
            if (text.isEmpty()) {
                throw error(0, null, "empty narinfo");
            }
            int pos = 0;
            while (pos < text.length()) {
                lineNumber++;
                int eol = text.indexOf('\n', pos);
                if (eol < 0) {
                    throw error(lineNumber, null, "last line has no newline");
                }
                String line = text.substring(pos, eol);
                pos = eol + 1;
                int colon = line.indexOf(':');
                if (colon <= 0) {
                    throw error(lineNumber, null, "expected \"Key: value\", found \"" + line + "\"");
                }
                String key = line.substring(0, colon);
                String value;
                if (colon == line.length() - 1) {
                    value = "";
                } else if (line.charAt(colon + 1) == ' ') {
                    value = line.substring(colon + 2);
                } else {
                    throw error(lineNumber, key, "expected \": \" after the key, found \"" + line + "\"");
                }
                field(key, value);
            }
            return build();
        }

        private void field(String key, String value) throws NarInfoFormatException {
            switch (key) {
                case "StorePath" -> {
                    once(storePath, key);
                    storePath = path(key, value);
                }
                case "URL" -> {
                    token(key, value);
                    files.add(new FileBuilder(value, lineNumber));
                }
                case "Compression", "FileHash", "FileSize" -> fileField(key, value);
                case "NarHash" -> {
                    once(narHash, key);
                    narHash = hash(key, value);
                    if (narHash.algorithm() != HashAlgorithm.SHA256) {
                        throw error(lineNumber, key, "\"" + value + "\" is not a sha256 hash");
                    }
                }
                case "NarSize" -> {
                    once(narSize >= 0 ? narSize : null, key);
                    narSize = size(key, value);
                    if (narSize == 0) {
                        throw error(lineNumber, key, "a NAR is never empty: NarSize 0");
                    }
                }
                case "References" -> {
                    once(references, key);
                    references = new TreeSet<>();
                    if (!value.isEmpty()) {
                        for (String name : value.split(" ", -1)) {
                            if (name.isEmpty()) {
                                throw error(lineNumber, key, "empty base name in \"" + value + "\" (one space between names)");
                            }
                            references.add(baseName(key, name));
                        }
                    }
                }
                case "Deriver" -> {
                    once(deriverSeen ? Boolean.TRUE : null, key);
                    deriverSeen = true;
                    // Some Nix versions write unknown-deriver, Guix reads an empty value as none.
                    deriver = value.isEmpty() || value.equals("unknown-deriver") ? null : baseName(key, value);
                }
                case "System" -> {
                    once(system, key);
                    system = token(key, value);
                }
                case "Sig" -> sigs.add(token(key, value));
                case "Signature" -> {
                    once(guixSignature, key);
                    guixSignature = token(key, value);
                }
                case "CA" -> {
                    once(contentAddress, key);
                    contentAddress = token(key, value);
                }
                default -> {
                    // Unknown keys are ignored by Nix and Guix alike: later versions add fields.
                }
            }
        }

        private void fileField(String key, String value) throws NarInfoFormatException {
            if (files.isEmpty()) {
                early.add(new String[] {key, value, Integer.toString(lineNumber)});
                return;
            }
            files.get(files.size() - 1).set(key, value, lineNumber);
        }

        private NarInfo build() throws NarInfoFormatException {
            if (storePath == null) {
                throw error(0, "StorePath", "missing required field");
            }
            if (files.isEmpty()) {
                throw error(0, "URL", "missing required field");
            }
            if (narHash == null) {
                throw error(0, "NarHash", "missing required field");
            }
            if (narSize < 0) {
                throw error(0, "NarSize", "missing required field");
            }
            if (!early.isEmpty()) {
                // Nix reads fields in any order; with several files, which one they describe is ambiguous.
                if (files.size() > 1) {
                    String[] first = early.get(0);
                    throw error(Integer.parseInt(first[2]), first[0], "comes before any URL, and the narinfo offers "
                        + files.size() + " files");
                }
                for (String[] field : early) {
                    files.get(0).set(field[0], field[1], Integer.parseInt(field[2]));
                }
            }
            List<NarFile> built = new ArrayList<>();
            for (FileBuilder file : files) {
                built.add(file.build());
            }
            return new NarInfo(storePath, built, narHash, narSize,
                references == null ? new TreeSet<>() : references, deriver, system, sigs, guixSignature,
                contentAddress);
        }

        private void once(Object previous, String key) throws NarInfoFormatException {
            if (previous != null) {
                throw error(lineNumber, key, "field repeated");
            }
        }

        private String token(String key, String value) throws NarInfoFormatException {
            try {
                checkValue(value, key);
            } catch (IllegalArgumentException e) {
                throw error(lineNumber, key, e.getMessage());
            }
            return value;
        }

        private StorePath path(String key, String value) throws NarInfoFormatException {
            try {
                return StorePath.parse(value, storeDir);
            } catch (InvalidStorePathException e) {
                throw error(lineNumber, key, e.getMessage());
            }
        }

        private StorePath baseName(String key, String name) throws NarInfoFormatException {
            if (name.indexOf('/') >= 0) {
                throw error(lineNumber, key, "\"" + name + "\" is not a base name (it has a '/')");
            }
            return path(key, storeDir + "/" + name);
        }

        private Hash hash(String key, String value) throws NarInfoFormatException {
            try {
                return Hash.parse(value);
            } catch (InvalidHashException e) {
                throw error(lineNumber, key, e.getMessage());
            }
        }

        private long size(String key, String value) throws NarInfoFormatException {
            if (value.isEmpty() || value.length() > 18 || !value.chars().allMatch(c -> c >= '0' && c <= '9')
                    || value.length() > 1 && value.charAt(0) == '0') {
                throw error(lineNumber, key, "\"" + value + "\" is not a decimal size (digits, no sign or leading"
                    + " zero, at most 18)");
            }
            return Long.parseLong(value);
        }

        private NarInfoFormatException error(int line, String field, String problem) {
            return new NarInfoFormatException(source, line, field, problem);
        }

        /** The fields of one offered file, as they arrive. */
        private final class FileBuilder {
            private final String url;
            private final int urlLine;
            private String compression;
            private Hash fileHash;
            private long fileSize = -1;

            FileBuilder(String url, int urlLine) {
                this.url = url;
                this.urlLine = urlLine;
            }

            void set(String key, String value, int line) throws NarInfoFormatException {
                int saved = lineNumber;
                lineNumber = line;
                switch (key) {
                    case "Compression" -> {
                        once(compression, key);
                        compression = token(key, value);
                    }
                    case "FileHash" -> {
                        once(fileHash, key);
                        fileHash = hash(key, value);
                    }
                    default -> {
                        once(fileSize >= 0 ? fileSize : null, key);
                        fileSize = size(key, value);
                    }
                }
                lineNumber = saved;
            }

            NarFile build() throws NarInfoFormatException {
                try {
                    return new NarFile(url, compression == null ? "bzip2" : compression, fileHash, fileSize);
                } catch (IllegalArgumentException e) {
                    throw error(urlLine, "URL", e.getMessage());
                }
            }
        }
    }
}
