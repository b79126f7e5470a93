package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class ReferenceScannerTest {
    private static final String STORE = "/gnu/store";
    private static final StorePath P = path("abcdfghijklmnpqrsvwxyz0123456789", "p");
    private static final StorePath Q = path("0123456789abcdfghijklmnpqrsvwxyz", "q");

    static StorePath path(String hashPart, String name) {
        return new StorePath(STORE, hashPart, name);
    }

    /** The scanner's result when {@code data} is written in pieces of {@code piece} bytes. */
    private static Set<StorePath> scanInPieces(byte[] data, int piece, Collection<StorePath> candidates) {
        ReferenceScanner scanner = new ReferenceScanner(candidates);
        for (int i = 0; i < data.length; i += piece) {
            scanner.write(data, i, Math.min(piece, data.length - i));
        }
        return scanner.found();
    }

    /** What the daemons find: every candidate whose hash part is a substring of the data. */
    private static Set<StorePath> naive(byte[] data, Collection<StorePath> candidates) {
        String text = new String(data, StandardCharsets.ISO_8859_1);
        Set<StorePath> found = new HashSet<>();
        for (StorePath candidate : candidates) {
            if (text.contains(candidate.hashPart())) {
                found.add(candidate);
            }
        }
        return found;
    }

    @Test
    void findsAHashPartAtEveryOffsetAroundABufferBoundary() {
        int boundary = 64;
        for (int start = boundary - 40; start <= boundary + 8; start++) {
            byte[] data = new byte[boundary * 2];
            Arrays.fill(data, (byte) '/');
            byte[] hash = P.hashPart().getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(hash, 0, data, start, hash.length);
            for (int piece : new int[] {1, 7, boundary, data.length}) {
                assertEquals(Set.of(P), scanInPieces(data, piece, List.of(P, Q)), "at " + start + " in pieces of " + piece);
            }
        }
    }

    @Test
    void findsAHashPartSplitAcrossWritesOfEverySize() {
        byte[] data = ("see " + P + " and " + Q + "\n").getBytes(StandardCharsets.US_ASCII);
        for (int piece = 1; piece <= data.length; piece++) {
            assertEquals(Set.of(P, Q), scanInPieces(data, piece, List.of(P, Q)), "pieces of " + piece);
        }
    }

    @Test
    void findsOverlappingCandidatesInsideALongerRunOfBase32() {
        // Q's hash part starts 10 characters into P's; the run of nix-base32 characters is 42 long.
        StorePath p = path("aaaaaaaaaa0123456789abcdfghijklm", "p");
        StorePath q = path("0123456789abcdfghijklmnpqrsvwxyz", "q");
        byte[] data = "xxaaaaaaaaaa0123456789abcdfghijklmnpqrsvwxyzxx".getBytes(StandardCharsets.US_ASCII);
        assertEquals(Set.of(p, q), scanInPieces(data, 5, List.of(p, q)));
    }

    @Test
    void findsNothingWhenNoCandidateOccurs() throws IOException {
        byte[] data = ("almost " + P.hashPart().substring(0, 31) + "e" + " or with a gap "
                + P.hashPart().substring(0, 16) + "-" + P.hashPart().substring(16)).getBytes(StandardCharsets.US_ASCII);
        assertEquals(Set.of(), ReferenceScanner.scan(new ByteArrayInputStream(data), List.of(P, Q)));
        assertEquals(Set.of(), ReferenceScanner.scan(new ByteArrayInputStream(data), List.of()));
    }

    @Test
    void findsEveryCandidateSharingAHashPart() {
        StorePath other = path(P.hashPart(), "other-name");
        byte[] data = P.hashPart().getBytes(StandardCharsets.US_ASCII);
        assertEquals(Set.of(P, other), scanInPieces(data, 3, List.of(P, other, P)));
    }

    @Test
    void handlesManyCandidatesWithCollidingLastCharacters() {
        List<StorePath> candidates = new ArrayList<>();
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < 500; i++) {
            String prefix = String.format("%05d", i).replace('e', 'f');
            StorePath candidate = path(prefix + "0".repeat(27), "c" + i);
            candidates.add(candidate);
            if (i % 3 == 0) {
                data.append(candidate.hashPart()).append(' ');
            }
        }
        byte[] bytes = data.toString().getBytes(StandardCharsets.US_ASCII);
        assertEquals(naive(bytes, candidates), scanInPieces(bytes, 100, candidates));
        assertEquals(167, scanInPieces(bytes, 100, candidates).size());
    }

    @Property(tries = 300)
    void agreesWithANaiveSubstringSearch(@ForAll("candidateSets") List<StorePath> candidates,
            @ForAll("dataWithHits") byte[] noise, @ForAll @Size(max = 6) List<@IntRange(max = 1000) Integer> hits,
            @ForAll @IntRange(min = 1, max = 80) int piece) {
        // Plant some candidates' hash parts (or prefixes of them) at chosen places of the noise.
        StringBuilder text = new StringBuilder(new String(noise, StandardCharsets.ISO_8859_1));
        for (int hit : hits) {
            String hashPart = candidates.get(hit % candidates.size()).hashPart();
            String planted = hit % 4 == 0 ? hashPart.substring(0, 20 + hit % 12) : hashPart;
            text.insert(hit % (text.length() + 1), planted);
        }
        byte[] data = text.toString().getBytes(StandardCharsets.ISO_8859_1);
        assertEquals(naive(data, candidates), scanInPieces(data, piece, candidates));
    }

    @Provide
    Arbitrary<List<StorePath>> candidateSets() {
        // A small alphabet makes overlaps and near misses common.
        Arbitrary<String> hashParts = Arbitraries.strings().withChars("01ab").ofLength(32);
        return hashParts.map(h -> path(h, "n")).list().ofMinSize(1).ofMaxSize(8);
    }

    @Provide
    Arbitrary<byte[]> dataWithHits() {
        return Arbitraries.strings().withChars("01ab-/\0xe").ofMaxLength(300)
                .map(s -> s.getBytes(StandardCharsets.ISO_8859_1));
    }
}
