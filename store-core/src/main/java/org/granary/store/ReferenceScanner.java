package org.granary.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Finds which of a set of candidate store paths a byte stream refers to, as the daemons' reference
 * scanner does after a build or for {@code add-to-store} with references: a candidate is found when its
 * 32-character hash part occurs anywhere in the bytes (usually the NAR of an item, so names and symlink
 * targets count too). Nix and Guix ({@code RefScanSink}, {@code search} in {@code references.cc}) slide
 * over the data looking at every window of 32 nix-base32 characters and look it up in the set of hash
 * parts; the result is exactly the set of candidates whose hash part is a substring of the data.
 *
 * <p>Write the data into this sink in pieces of any size (a hash part split across writes is found);
 * each byte costs a few shifts and, inside a run of 32 or more nix-base32 characters, one probe of a
 * small hash table, so scanning is O(n) in the data with memory proportional to the candidates only.
 * Several candidates with the same hash part are all found together.
 *
 * <p>Not thread-safe: one scanner per stream and thread. {@link #close()} does nothing.
 */
public final class ReferenceScanner extends OutputStream {
    private static final int WINDOW = StorePath.HASH_PART_LENGTH;
    private static final long MASK_60 = (1L << 60) - 1;
    private static final long MASK_40 = (1L << 40) - 1;
    /** The 5-bit value of each nix-base32 character, -1 for every other byte. */
    private static final byte[] CODES = new byte[256];

    static {
        Arrays.fill(CODES, (byte) -1);
        for (int i = 0; i < NixBase32.ALPHABET.length(); i++) {
            CODES[NixBase32.ALPHABET.charAt(i)] = (byte) i;
        }
    }

    /** Candidates grouped by hash part; a group's index is its number in the table. */
    private final List<List<StorePath>> groups = new ArrayList<>();
    /** Each group's hash part as three numbers: characters 0-11, 12-23 and 24-31, 5 bits each. */
    private final long[] keyA;
    private final long[] keyB;
    private final long[] keyC;
    private final boolean[] seen;
    /** Open addressing on keyC: slot to group index + 1, 0 when empty. */
    private final int[] table;
    private final int tableShift;
    private final Set<StorePath> found = new HashSet<>();
    private final byte[] one = new byte[1];

    /** The last 32 characters of the current run, as the keys hold a hash part. */
    private long a;
    private long b;
    private long c;
    /** How many nix-base32 characters end the data so far, up to {@link #WINDOW}. */
    private int run;

    /**
     * Creates a scanner looking for {@code candidates}.
     *
     * @param candidates the store paths to look for (for example the inputs of a build); repeats are fine
     */
    public ReferenceScanner(Collection<StorePath> candidates) {
        Map<String, List<StorePath>> byHashPart = new LinkedHashMap<>();
        for (StorePath candidate : candidates) {
            Objects.requireNonNull(candidate, "candidate");
            byHashPart.computeIfAbsent(candidate.hashPart(), k -> new ArrayList<>()).add(candidate);
        }
        int n = byHashPart.size();
        keyA = new long[n];
        keyB = new long[n];
        keyC = new long[n];
        seen = new boolean[n];
        int size = Integer.highestOneBit(Math.max(4, n * 4 - 1)) << 1; // a load factor of at most 1/4
        table = new int[size];
        tableShift = 64 - Integer.numberOfTrailingZeros(size);
        for (Map.Entry<String, List<StorePath>> group : byHashPart.entrySet()) {
            int index = groups.size();
            groups.add(List.copyOf(group.getValue()));
            String hashPart = group.getKey();
            keyA[index] = pack(hashPart, 0, 12);
            keyB[index] = pack(hashPart, 12, 24);
            keyC[index] = pack(hashPart, 24, 32);
            int slot = slot(keyC[index]);
            while (table[slot] != 0) {
                slot = (slot + 1) & (size - 1);
            }
            table[slot] = index + 1;
        }
    }

    /**
     * Scans all of {@code in} (read to its end, not closed) for {@code candidates}.
     *
     * @param in the data, for example a NAR
     * @param candidates the store paths to look for
     * @return those whose hash part occurs in the data
     * @throws IOException if reading fails
     */
    public static Set<StorePath> scan(InputStream in, Collection<StorePath> candidates) throws IOException {
        ReferenceScanner scanner = new ReferenceScanner(candidates);
        in.transferTo(scanner);
        return scanner.found();
    }

    /**
     * Returns the candidates found so far.
     *
     * @return an unmodifiable copy: the candidates whose hash part occurs in the bytes written so far
     */
    public Set<StorePath> found() {
        return Set.copyOf(found);
    }

    @Override
    public void write(int value) {
        one[0] = (byte) value;
        write(one, 0, 1);
    }

    @Override
    public void write(byte[] data, int off, int len) {
        Objects.checkFromIndexSize(off, len, data.length);
        if (groups.isEmpty()) {
            return;
        }
        long a = this.a;
        long b = this.b;
        long c = this.c;
        int run = this.run;
        for (int i = off, end = off + len; i < end; i++) {
            int code = CODES[data[i] & 0xff];
            if (code < 0) {
                run = 0;
                continue;
            }
            a = ((a << 5) | (b >>> 55)) & MASK_60;
            b = ((b << 5) | (c >>> 35)) & MASK_60;
            c = ((c << 5) | code) & MASK_40;
            if (run < WINDOW) {
                run++;
            }
            if (run == WINDOW) {
                probe(a, b, c);
            }
        }
        this.a = a;
        this.b = b;
        this.c = c;
        this.run = run;
    }

    private void probe(long a, long b, long c) {
        for (int slot = slot(c); table[slot] != 0; slot = (slot + 1) & (table.length - 1)) {
            int index = table[slot] - 1;
            if (keyC[index] == c && keyB[index] == b && keyA[index] == a) {
                if (!seen[index]) {
                    seen[index] = true;
                    found.addAll(groups.get(index));
                }
                return;
            }
        }
    }

    private int slot(long keyC) {
        return (int) ((keyC * 0x9E3779B97F4A7C15L) >>> tableShift);
    }

    private static long pack(String hashPart, int from, int to) {
        long key = 0;
        for (int i = from; i < to; i++) {
            key = (key << 5) | CODES[hashPart.charAt(i)];
        }
        return key;
    }
}
