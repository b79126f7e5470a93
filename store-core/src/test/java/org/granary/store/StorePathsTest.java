package org.granary.store;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The worked examples of store-facts.md §3, produced by nix-bin 2.8 for the store dir /gnu/store. */
class StorePathsTest {
    private static final StorePaths GNU = new StorePaths(StoreDir.DEFAULT);
    private static final Hash HELLO_NAR_SHA256 =
        Hash.parse("sha256:1c37d01af40be2e80691de3cc3df44377a699afbb17c68f080964b2fd071fc13");
    private static final Hash HELLO_SHA256 =
        Hash.parse("sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
    private static final Hash HELLO_NAR_SHA1 = Hash.parse("sha1:0deb52c2735eb38d360f976b7b3823c4ad05cce7");
    private static final StorePath GREETING =
        StorePath.parse("/gnu/store/iqfx25xdw6zflfihi1n8a8p3dxclgakz-greeting", StoreDir.DEFAULT);
    private static final String FOO_MASKED = "Derive([(\"out\",\"\",\"\",\"\")],[],[],\"x86_64-linux\",\"/bin/sh\","
        + "[\"-c\",\"echo > $out\"],[(\"builder\",\"/bin/sh\"),(\"name\",\"foo\"),(\"out\",\"\"),"
        + "(\"system\",\"x86_64-linux\")])";

    private static Hash sha256(String text) {
        return Hash.of(HashAlgorithm.SHA256, HashAlgorithm.SHA256.newDigest().digest(text.getBytes(UTF_8)));
    }

    @Test
    void sourceIsTheRecursiveSha256OfTheNar() {
        assertEquals("/gnu/store/mai503rgk7jq72577x5iwgyc5izfvp9i-hello.txt",
            GNU.source("hello.txt", HELLO_NAR_SHA256, List.of(), false).toString());
        assertEquals("/gnu/store/mai503rgk7jq72577x5iwgyc5izfvp9i-hello.txt",
            GNU.fixedOutput("hello.txt", true, HELLO_NAR_SHA256).toString());
    }

    @Test
    void makeStorePathHashesTheFingerprint() {
        // store-facts.md §3 spells out this fingerprint; the path is the same as source's.
        assertEquals("/gnu/store/mai503rgk7jq72577x5iwgyc5izfvp9i-hello.txt",
            GNU.makeStorePath("source", HELLO_NAR_SHA256, "hello.txt").toString());
    }

    @Test
    void flatSha256IsAFixedOutputNotASource() {
        assertEquals("/gnu/store/wxykb3w2hprzmc82c32q49pfzwx2drsa-hello.txt",
            GNU.fixedOutput("hello.txt", false, HELLO_SHA256).toString());
        assertEquals("/gnu/store/wxykb3w2hprzmc82c32q49pfzwx2drsa-hello.txt", GNU.makeStorePath("output:out",
            sha256("fixed:out:sha256:" + HELLO_SHA256.format(HashFormat.BASE16) + ":"), "hello.txt").toString());
    }

    @Test
    void recursiveSha1IsAFixedOutput() {
        assertEquals("/gnu/store/5wddm721lfb1hk5777564v2hqknvnm3f-hello.txt",
            GNU.fixedOutput("hello.txt", true, HELLO_NAR_SHA1).toString());
    }

    @Test
    void textWithoutAndWithAReference() {
        assertEquals(GREETING, GNU.text("greeting", HELLO_SHA256, List.of()));
        Hash refsContents = sha256("see " + GREETING + "\n");
        assertEquals("/gnu/store/v9pw4v9qfqzpfia4jgm7q6sm7jkyqz4m-refs",
            GNU.text("refs", refsContents, List.of(GREETING)).toString());
    }

    @Test
    void derivationOutputUsesTheModuloHash() {
        Hash modulo = sha256(FOO_MASKED);
        assertEquals("sha256:1a07145f19ec7d41afca4628cb52f2f98105026a968dd08124eeb010a5f5762b", modulo.toString());
        StorePath out = GNU.derivationOutput("foo", "out", modulo);
        assertEquals("/gnu/store/7qw5380f5qjczmm7ywnrbiig97a763w5-foo", out.toString());
        // The .drv itself is a text item with the output paths filled in.
        String drv = FOO_MASKED.replace("(\"out\",\"\",\"\",\"\")", "(\"out\",\"" + out + "\",\"\",\"\")")
            .replace("(\"out\",\"\")", "(\"out\",\"" + out + "\")");
        assertEquals("/gnu/store/1ypi3qdivbfkf1qnfc4lkdx4kjdcaww2-foo.drv",
            GNU.text("foo.drv", sha256(drv), List.of()).toString());
    }

    @Test
    void anOutputOtherThanOutIsSuffixedToTheName() {
        Hash modulo = sha256(FOO_MASKED);
        StorePath dev = GNU.derivationOutput("foo", "dev", modulo);
        assertEquals("foo-dev", dev.name());
        assertEquals(GNU.makeStorePath("output:dev", modulo, "foo-dev"), dev);
        assertNotEquals(GNU.derivationOutput("foo", "out", modulo).hashPart(), dev.hashPart());
    }

    @Test
    void referencesAreSortedAndDeduplicated() {
        StorePath a = StorePath.parse("/gnu/store/00000000000000000000000000000000-z", StoreDir.DEFAULT);
        StorePath b = StorePath.parse("/gnu/store/11111111111111111111111111111111-a", StoreDir.DEFAULT);
        Hash h = sha256("x");
        StorePath sorted = GNU.makeStorePath("text:" + a + ":" + b, h, "t");
        assertEquals(sorted, GNU.text("t", h, List.of(b, a)));
        assertEquals(sorted, GNU.text("t", h, List.of(a, b, a)));
    }

    @Test
    void sourceTypeListsReferencesThenSelf() {
        StorePath a = StorePath.parse("/gnu/store/00000000000000000000000000000000-a", StoreDir.DEFAULT);
        StorePath b = StorePath.parse("/gnu/store/11111111111111111111111111111111-b", StoreDir.DEFAULT);
        assertEquals(GNU.makeStorePath("source:" + a + ":" + b + ":self", HELLO_NAR_SHA256, "x"),
            GNU.source("x", HELLO_NAR_SHA256, List.of(b, a), true));
        assertEquals(GNU.makeStorePath("source:self", HELLO_NAR_SHA256, "x"),
            GNU.source("x", HELLO_NAR_SHA256, List.of(), true));
    }

    @Test
    void theStoreDirIsPartOfTheHashButTheRootIsNot() {
        StorePath nix =
            new StorePaths(StoreDir.of("/nix/store", Path.of("/"))).text("greeting", HELLO_SHA256, List.of());
        assertEquals("/nix/store", nix.storeDir());
        assertNotEquals(GREETING.hashPart(), nix.hashPart());
        assertEquals(GREETING, new StorePaths(StoreDir.of("/gnu/store", Path.of("/tmp/root")))
            .text("greeting", HELLO_SHA256, List.of()));
    }

    @Test
    void theNameIsCheckedByGuixsRules() {
        assertEquals("cannot make a store path named \".hidden\": name \".hidden\" begins with '.', which Guix "
                + "forbids",
            assertThrows(InvalidStorePathException.class,
                () -> GNU.source(".hidden", HELLO_NAR_SHA256, List.of(), false)).getMessage());
        assertEquals("cannot make a store path named \"a b\": invalid character ' ' at index 1 in name \"a b\" "
                + "(A-Z a-z 0-9 + - . _ ? = expected)",
            assertThrows(InvalidStorePathException.class,
                () -> GNU.text("a b", HELLO_SHA256, List.of())).getMessage());
        assertThrows(InvalidStorePathException.class, () -> GNU.fixedOutput("", false, HELLO_SHA256));
        assertThrows(InvalidStorePathException.class, () -> GNU.derivationOutput("foo", "d v", HELLO_SHA256));
    }

    @Test
    void onlySha256NamesAPathDirectly() {
        assertEquals("store paths are computed from a SHA-256 hash, not " + HELLO_NAR_SHA1,
            assertThrows(IllegalArgumentException.class,
                () -> GNU.source("x", HELLO_NAR_SHA1, List.of(), false)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> GNU.text("x", HELLO_NAR_SHA1, List.of()));
        assertThrows(IllegalArgumentException.class, () -> GNU.derivationOutput("x", "out", HELLO_NAR_SHA1));
    }

    @Test
    void aReferenceFromAnotherStoreDirIsRefused() {
        StorePath other = StorePath.parse("/nix/store/iqfx25xdw6zflfihi1n8a8p3dxclgakz-greeting", "/nix/store");
        assertEquals("reference " + other + " is not in store dir /gnu/store",
            assertThrows(IllegalArgumentException.class,
                () -> GNU.text("x", HELLO_SHA256, List.of(other))).getMessage());
    }
}
