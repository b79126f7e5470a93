package org.granary.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * A strict, streaming reader of the two registration texts (store-facts.md §13), one item at a time:
 *
 * <ul>
 *   <li>the reg-info format ({@code nix-store --register-validity}, Guix's {@code exportReferencesGraph}
 *       files): store path, deriver or empty line, number of references, the references;
 *   <li>the dump with hashes ({@code nix-store --dump-db}, {@code --load-db},
 *       {@code --register-validity --hash-given}): store path, NAR SHA-256, NAR size, deriver or empty
 *       line, number of references, the references. The hash is read in any encoding Guix prints
 *       (base16 as Nix writes it, nix-base32 or base64, with or without {@code sha256:}).
 * </ul>
 *
 * <p>Every line ends with LF (a carriage return or a last line without LF is refused), paths must be of
 * the reader's store dir, numbers are plain decimal. The input may end only between items. An error is a
 * {@link RegistrationFormatException} naming the line and what was expected; nothing is read past it.
 * Not thread-safe; the caller closes the stream.
 */
public final class RegistrationReader {
    /** The longest line accepted: a store path is at most this long with a generous store dir. */
    static final int MAX_LINE = 4096;
    /** Refuses reference counts that could only come from a corrupt input before allocating for them. */
    static final int MAX_REFERENCES = 1 << 24;

    /**
     * One item of the input.
     *
     * @param path the store path
     * @param narHash its NAR SHA-256, or null in the reg-info format
     * @param narSize its NAR size, or -1 in the reg-info format
     * @param deriver the deriver, or null (empty line)
     * @param references its references, sorted, without duplicates
     */
    public record Item(StorePath path, Hash narHash, long narSize, StorePath deriver, SortedSet<StorePath> references) {
        /**
         * Checks the components and makes the references unmodifiable.
         *
         * @param path the store path
         * @param narHash its NAR SHA-256, or null in the reg-info format
         * @param narSize its NAR size, or -1 in the reg-info format
         * @param deriver the deriver, or null (empty line)
         * @param references its references, sorted, without duplicates
         */
        public Item {
            Objects.requireNonNull(path, "path");
            references = Collections.unmodifiableSortedSet(new TreeSet<>(references));
        }

        /**
         * Returns the item's information for the database (registered at {@code registrationTime}).
         *
         * @param hash the NAR hash to record (the one given, or one computed)
         * @param size the NAR size to record
         * @param registrationTime seconds since the epoch
         * @return the information, with the deriver
         */
        public PathInfo toPathInfo(Hash hash, long size, long registrationTime) {
            return new PathInfo(path, hash, size, references, deriver, registrationTime, Collections.emptySortedSet(),
                null);
        }
    }

    private final InputStream in;
    private final String storeDir;
    private final boolean hashGiven;
    /**
     * Every path read so far, by its text: a path is named once as an item and again by each referrer, so
     * one object serves all (a dump of 100,000 paths names about 850,000).
     */
    private final Map<String, StorePath> seen = new HashMap<>();
    private final byte[] buffer = new byte[1 << 16];
    private int position;
    private int limit;
    private long lineNumber;

    private RegistrationReader(InputStream in, String storeDir, boolean hashGiven) {
        this.in = Objects.requireNonNull(in, "in");
        this.storeDir = Objects.requireNonNull(storeDir, "storeDir");
        this.hashGiven = hashGiven;
    }

    /**
     * Returns a reader of the reg-info format.
     *
     * @param in the input
     * @param storeDir the logical store dir every path must be in
     * @return the reader
     */
    public static RegistrationReader regInfo(InputStream in, String storeDir) {
        return new RegistrationReader(in, storeDir, false);
    }

    /**
     * Returns a reader of the dump-with-hashes format ({@code nix-store --dump-db}).
     *
     * @param in the input
     * @param storeDir the logical store dir every path must be in
     * @return the reader
     */
    public static RegistrationReader hashGiven(InputStream in, String storeDir) {
        return new RegistrationReader(in, storeDir, true);
    }

    /**
     * Reads the next item.
     *
     * @return the item, or null at the end of the input (which must fall between items)
     * @throws RegistrationFormatException if the input breaks the format, naming the line
     * @throws IOException if the stream cannot be read
     */
    public Item next() throws IOException {
        String first = line(null);
        if (first == null) {
            return null;
        }
        StorePath path = path(first, "a store path");
        Hash hash = null;
        long size = -1;
        if (hashGiven) {
            String hashLine = line("the NAR hash");
            try {
                hash = Hash.parse(hashLine, HashAlgorithm.SHA256);
            } catch (InvalidHashException e) {
                throw error("expected the NAR hash (SHA-256) but found " + quote(hashLine) + ": " + e.getMessage());
            }
            size = number(line("the NAR size"), "the NAR size", Long.MAX_VALUE);
        }
        String deriverLine = line("the deriver or an empty line");
        StorePath deriver = deriverLine.isEmpty() ? null : path(deriverLine, "the deriver or an empty line");
        int count = (int) number(line("the number of references"), "the number of references", MAX_REFERENCES);
        TreeSet<StorePath> references = new TreeSet<>();
        for (int i = 0; i < count; i++) {
            references.add(path(line("a reference (" + (i + 1) + " of " + count + ")"), "a reference"));
        }
        return new Item(path, hash, size, deriver, references);
    }

    /**
     * Reads every remaining item.
     *
     * @return the items, in input order
     * @throws IOException as {@link #next()}
     */
    public List<Item> readAll() throws IOException {
        List<Item> items = new ArrayList<>();
        for (Item item = next(); item != null; item = next()) {
            items.add(item);
        }
        return items;
    }

    private StorePath path(String text, String expected) throws RegistrationFormatException {
        StorePath known = seen.get(text);
        if (known != null) {
            return known;
        }
        try {
            StorePath path = StorePath.parse(text, storeDir);
            seen.put(text, path);
            return path;
        } catch (IllegalArgumentException e) {
            throw error("expected " + expected + " in " + storeDir + " but found " + quote(text) + ": "
                + e.getMessage());
        }
    }

    private long number(String text, String expected, long max) throws RegistrationFormatException {
        boolean digits = !text.isEmpty() && text.length() <= 19 && (text.length() == 1 || text.charAt(0) != '0');
        for (int i = 0; digits && i < text.length(); i++) {
            char c = text.charAt(i);
            digits = c >= '0' && c <= '9';
        }
        long value = -1;
        if (digits) {
            try {
                value = Long.parseLong(text);
            } catch (NumberFormatException e) {
                value = -1;
            }
        }
        if (value < 0 || value > max) {
            throw error("expected " + expected + " (decimal, at most " + max + ") but found " + quote(text));
        }
        return value;
    }

    /**
     * Reads one LF-terminated line (as ISO-8859-1: store paths are ASCII, anything else is refused later).
     * With {@code expected} null, the end of input before the line's first byte gives null.
     */
    private String line(String expected) throws IOException {
        lineNumber++;
        StringBuilder text = null;
        while (true) {
            if (position == limit) {
                limit = in.read(buffer, 0, buffer.length);
                position = 0;
                if (limit <= 0) {
                    limit = 0;
                    if (text == null && expected == null) {
                        return null;
                    }
                    throw error(text == null ? "unexpected end of input, expected " + expected
                        : "unexpected end of input in a line without its LF");
                }
            }
            int start = position;
            while (position < limit && buffer[position] != '\n') {
                position++;
            }
            int length = position - start;
            if (text == null && position < limit) {
                // The whole line is in the buffer: one string, no builder.
                if (length > MAX_LINE) {
                    throw error("line longer than " + MAX_LINE + " bytes");
                }
                position++;
                return checkLine(new String(buffer, start, length, StandardCharsets.ISO_8859_1));
            }
            if (text == null) {
                text = new StringBuilder(Math.max(length, 16));
            }
            if (text.length() + length > MAX_LINE) {
                throw error("line longer than " + MAX_LINE + " bytes");
            }
            text.append(new String(buffer, start, length, StandardCharsets.ISO_8859_1));
            if (position < limit) {
                position++;
                return checkLine(text.toString());
            }
        }
    }

    private String checkLine(String line) throws RegistrationFormatException {
        if (line.indexOf('\r') >= 0) {
            throw error("carriage return in " + quote(line) + " (lines end with LF only)");
        }
        return line;
    }

    private RegistrationFormatException error(String problem) {
        return new RegistrationFormatException(lineNumber, problem);
    }

    private static String quote(String text) {
        StringBuilder s = new StringBuilder("\"");
        int shown = Math.min(text.length(), 120);
        for (int i = 0; i < shown; i++) {
            char c = text.charAt(i);
            if (c >= ' ' && c <= '~' && c != '"' && c != '\\') {
                s.append(c);
            } else {
                s.append(String.format("\\x%02x", (int) c));
            }
        }
        return s.append(shown < text.length() ? "\"…" : "\"").toString();
    }
}
