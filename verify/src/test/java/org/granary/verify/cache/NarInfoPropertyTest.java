package org.granary.verify.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.granary.store.Hash;
import org.granary.store.HashAlgorithm;
import org.granary.store.StorePath;
import org.junit.jupiter.api.Test;

class NarInfoPropertyTest {
    static final String STORE = "/gnu/store";
    private static final String NIX32 = "0123456789abcdfghijklmnpqrsvwxyz";

    @Property(tries = 200)
    void parsingThePrintedTextGivesTheSameNarInfo(@ForAll("narInfos") NarInfo info) throws Exception {
        NarInfo parsed = NarInfo.parse(info.toString(), STORE, "test");
        assertEquals(info, parsed);
        assertEquals(info.toString(), parsed.toString());
    }

    /** A corruption of a valid narinfo, and the field the exception must name (null: the line has none). */
    record Mutation(String description, UnaryOperator<String> apply, String field) {
        @Override
        public String toString() {
            return description;
        }
    }

    @Property(tries = 200)
    void everyCorruptionIsRejectedNamingItsField(@ForAll("narInfos") NarInfo info, @ForAll("mutations") Mutation mutation) {
        String text = mutation.apply().apply(info.toString());
        NarInfoFormatException e = assertThrows(NarInfoFormatException.class,
            () -> NarInfo.parse(text, STORE, "mutated"), () -> mutation + " was accepted:\n" + text);
        assertEquals(mutation.field(), e.field(), e.getMessage());
        assertTrue(e.getMessage().startsWith("mutated"), e.getMessage());
    }

    @Test
    void aNarInfoAsGuixPublishWritesItOffersEveryCompressionInOrder() throws Exception {
        String text = """
            StorePath: /gnu/store/0jvbmjdz4zqiyr3apaaxs9i0n7hrc4qq-hello-2.12.1
            NarHash: sha256:1dfbvqm6hzc19ih0ikk3dpzmzdpwbmwpxkln2b8pdb6d7qlxcyy5
            NarSize: 290496
            References: 0jvbmjdz4zqiyr3apaaxs9i0n7hrc4qq-hello-2.12.1 5h2w4qi9hk1qzzgi1w83220ydslinr4s-glibc-2.33
            Deriver: 09k1x8kphd8i5kbq0z6z9brxlmb6zrbm-hello-2.12.1.drv
            Signature: 1;guix.example.org;KHNpZ25hdHVyZSAKKGRhdGEgCg==
            URL: nar/gzip/0jvbmjdz4zqiyr3apaaxs9i0n7hrc4qq-hello-2.12.1
            Compression: gzip
            FileSize: 97512
            URL: nar/lzip/0jvbmjdz4zqiyr3apaaxs9i0n7hrc4qq-hello-2.12.1
            Compression: lzip
            FileSize: 79001
            URL: nar/0jvbmjdz4zqiyr3apaaxs9i0n7hrc4qq-hello-2.12.1
            Compression: none
            """;
        NarInfo info = NarInfo.parse(text, STORE, "guix");
        assertEquals(List.of("gzip", "lzip", "none"), info.files().stream().map(NarInfo.NarFile::compression).toList());
        assertEquals(79001, info.files().get(1).fileSize());
        assertEquals(-1, info.files().get(2).fileSize());
        assertEquals("09k1x8kphd8i5kbq0z6z9brxlmb6zrbm-hello-2.12.1.drv", info.deriver().baseName());
        assertEquals(2, info.references().size());
        assertEquals("1;guix.example.org;KHNpZ25hdHVyZSAKKGRhdGEgCg==", info.guixSignature());
    }

    @Test
    void aNarInfoAsNixWritesItParses() throws Exception {
        // The narinfo of cache.nixos.org that nix-compat documents (its references cut to two).
        String text = """
            StorePath: /nix/store/p4pclmv1gyja5kzc26npqpia1qqxrf0l-ruby-2.7.3
            URL: nar/1w1fff338fvdw53sqgamddn1b2xgds473pv6y13gizdbqjv4i5p3.nar.xz
            Compression: xz
            FileHash: sha256:1w1fff338fvdw53sqgamddn1b2xgds473pv6y13gizdbqjv4i5p3
            FileSize: 4029176
            NarHash: sha256:1impfw8zdgisxkghq9a3q7cn7jb9zyzgxdydiamp8z2nlyyl0h5h
            NarSize: 18735072
            References: 0d71ygfwbmy1xjlbj1v027dfmy9cqavy-libffi-3.3 0dbbrvlw2rahvzi69bmpqy1z9mvzg62s-gdbm-1.19
            Deriver: bidkcs01mww363s4s7akdhbl6ws66b0z-ruby-2.7.3.drv
            Sig: cache.nixos.org-1:GrGV/Ls10TzoOaCnrcAqmPbKXFLLSBDeGNh5EQGKyuGA4K1wv1LcRVb6/sU+NAPK8lDiam8XcdJzUngmdhfTBQ==
            """;
        NarInfo info = NarInfo.parse(text, "/nix/store", "nix");
        NarInfo.NarFile file = info.files().get(0);
        assertEquals("xz", file.compression());
        assertEquals(4029176, file.fileSize());
        assertEquals(18735072, info.narSize());
        assertEquals(1, info.sigs().size());
        assertNull(info.system());
    }

    @Test
    void withoutCompressionANarIsBzip2AsForNixAndUnknownDeriverIsNone() throws Exception {
        NarInfo info = NarInfo.parse("StorePath: /gnu/store/" + "a".repeat(32) + "-x\nURL: nar/x.nar.bz2\n"
            + "NarHash: sha256:" + "1".repeat(52) + "\nNarSize: 120\nDeriver: unknown-deriver\n", STORE, "t");
        assertEquals("bzip2", info.files().get(0).compression());
        assertNull(info.deriver());
    }

    @Test
    void fileFieldsBeforeTheOnlyUrlDescribeIt() throws Exception {
        NarInfo info = NarInfo.parse("StorePath: /gnu/store/" + "a".repeat(32) + "-x\nCompression: zstd\n"
            + "FileSize: 7\nURL: nar/x.nar.zst\nNarHash: sha256:" + "1".repeat(52) + "\nNarSize: 120\n", STORE, "t");
        assertEquals(new NarInfo.NarFile("nar/x.nar.zst", "zstd", null, 7), info.files().get(0));
    }

    @Test
    void aNarInfoOfAnotherStoreDirIsRejectedNamingBoth() {
        NarInfoFormatException e = assertThrows(NarInfoFormatException.class, () -> NarInfo.parse(
            "StorePath: /nix/store/" + "a".repeat(32) + "-x\nURL: nar/x.nar\nNarHash: sha256:" + "1".repeat(52)
                + "\nNarSize: 120\n", STORE, "t"));
        assertEquals(1, e.line());
        assertTrue(e.getMessage().contains("/nix/store") && e.getMessage().contains("not in store dir /gnu/store"),
            e.getMessage());
    }

    @Provide
    Arbitrary<Mutation> mutations() {
        return Arbitraries.of(
            new Mutation("StorePath removed", t -> removeLine(t, "StorePath"), "StorePath"),
            new Mutation("NarHash removed", t -> removeLine(t, "NarHash"), "NarHash"),
            new Mutation("NarSize removed", t -> removeLine(t, "NarSize"), "NarSize"),
            new Mutation("every URL removed", t -> t.replaceAll("(?m)^URL: .*\n", ""), "URL"),
            new Mutation("StorePath repeated", t -> t + t.lines().findFirst().orElseThrow() + "\n", "StorePath"),
            new Mutation("NarHash repeated", t -> t + line(t, "NarHash") + "\n", "NarHash"),
            new Mutation("NarSize negative", t -> t.replaceFirst("(?m)^NarSize: ", "NarSize: -"), "NarSize"),
            new Mutation("NarSize with a leading zero", t -> t.replaceFirst("(?m)^NarSize: ", "NarSize: 0"), "NarSize"),
            new Mutation("NarSize zero", t -> t.replaceFirst("(?m)^NarSize: .*$", "NarSize: 0"), "NarSize"),
            new Mutation("NarSize not a number", t -> t.replaceFirst("(?m)^NarSize: .*$", "NarSize: 12kB"), "NarSize"),
            new Mutation("NarHash with a letter outside nix-base32",
                t -> t.replaceFirst("(?m)^(NarHash: sha256:.{5}).", "$1e"), "NarHash"),
            new Mutation("NarHash of md5", t -> t.replaceFirst("(?m)^NarHash: .*$",
                "NarHash: md5:" + "0".repeat(32)), "NarHash"),
            new Mutation("StorePath of another store dir", t -> t.replaceFirst("StorePath: /gnu/store/",
                "StorePath: /nix/store/"), "StorePath"),
            new Mutation("reference with a '/'", t -> t.replaceFirst("(?m)^References: ",
                "References: " + "a".repeat(32) + "-x/y "), "References"),
            new Mutation("reference with a bad hash part", t -> t.replaceFirst("(?m)^References: ",
                "References: " + "e".repeat(32) + "-x "), "References"),
            new Mutation("two spaces between references", t -> t.replaceFirst("(?m)^References: ",
                "References: " + "a".repeat(32) + "-x  " + "b".repeat(32) + "-y "), "References"),
            new Mutation("last newline removed", t -> t.substring(0, t.length() - 1), null),
            new Mutation("empty line inserted", t -> t.replaceFirst("\n", "\n\n"), null),
            new Mutation("no space after a colon", t -> t.replaceFirst("NarSize: ", "NarSize:"), "NarSize"),
            new Mutation("FileSize repeated in one file", t -> t.replaceFirst("(?m)^(URL: .*)$",
                "$1\nFileSize: 1\nFileSize: 2"), "FileSize"),
            new Mutation("URL with a space", t -> t.replaceFirst("(?m)^URL: ", "URL: a "), "URL"));
    }

    private static String line(String text, String key) {
        return text.lines().filter(l -> l.startsWith(key + ": ")).findFirst().orElseThrow();
    }

    private static String removeLine(String text, String key) {
        return text.replaceFirst("(?m)^" + key + ": .*\n", "");
    }

    @Provide
    Arbitrary<NarInfo> narInfos() {
        Arbitrary<StorePath> path = storePaths();
        Arbitrary<List<NarInfo.NarFile>> files = narFiles().list().ofMinSize(1).ofMaxSize(3);
        Arbitrary<Hash> narHash = hashes();
        Arbitrary<Long> narSize = Arbitraries.longs().between(1, 1L << 40);
        Arbitrary<List<StorePath>> references = storePaths().list().ofMaxSize(4);
        Arbitrary<StorePath> deriver = storePaths().injectNull(0.3);
        Arbitrary<String> system = Arbitraries.of("x86_64-linux", "aarch64-linux").injectNull(0.7);
        Arbitrary<List<String>> sigs = Arbitraries.strings().withChars("abcdef.-1").ofMinLength(1).ofMaxLength(12)
            .map(name -> name + ":" + "A".repeat(86) + "==").list().ofMaxSize(2);
        Arbitrary<String> guix = Arbitraries.strings().withChars("ABCabc012+/=").ofMinLength(4).ofMaxLength(40)
            .map(b64 -> "1;guix.example.org;" + b64).injectNull(0.6);
        Arbitrary<String> ca = hashes().map(h -> "fixed:r:" + NarInfo.typed(h)).injectNull(0.7);
        return Combinators.combine(path, files, narHash, narSize, references, deriver, system, sigs)
            .flatAs((p, f, h, s, r, d, sys, sg) -> Combinators.combine(guix, ca)
                .as((g, c) -> new NarInfo(p, f, h, s, new TreeSet<>(r), d, sys, sg, g, c)));
    }

    private Arbitrary<NarInfo.NarFile> narFiles() {
        Arbitrary<String> compression = Arbitraries.of("none", "gzip", "bzip2", "xz", "zstd", "lzip", "br");
        Arbitrary<String> url = Arbitraries.strings().withChars(NIX32).ofLength(52).map(h -> "nar/" + h + ".nar");
        return Combinators.combine(url, compression, hashes().injectNull(0.5),
            Arbitraries.longs().between(0, 1L << 40).injectNull(0.4))
            .as((u, c, h, s) -> new NarInfo.NarFile(u, c, h, s == null ? -1 : s));
    }

    static Arbitrary<StorePath> storePaths() {
        Arbitrary<String> hashPart = Arbitraries.strings().withChars(NIX32).ofLength(32);
        Arbitrary<String> name = Arbitraries.strings().withChars("abcxyz0189+-._?=").ofMinLength(1).ofMaxLength(20)
            .filter(n -> !n.startsWith("."));
        return Combinators.combine(hashPart, name).as((h, n) -> new StorePath(STORE, h, n));
    }

    static Arbitrary<Hash> hashes() {
        return Arbitraries.bytes().array(byte[].class).ofSize(32).map(b -> Hash.of(HashAlgorithm.SHA256, b));
    }
}
