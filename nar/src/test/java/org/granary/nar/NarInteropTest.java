package org.granary.nar;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.granary.nar.testing.NixOracle;
import org.granary.nar.testing.StreamAssertions;
import org.granary.nar.testing.TestTrees;
import org.granary.nar.testing.TestTrees.Tree;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Differential tests against real Nix ({@code nix-bin}): Granary's NAR bytes, NAR hashes and restores
 * agree with {@code nix-store --dump} and {@code nix-hash} on generated corner-case trees
 * ({@link TestTrees}) and on real directories of this machine (the running JDK and
 * {@code /usr/share/doc}). Skipped, saying so, when Nix is not installed.
 */
class NarInteropTest {

    /** Nix's algorithm names and the JDK's. */
    private static final Map<String, String> ALGORITHMS = Map.of(
            "md5", "MD5", "sha1", "SHA-1", "sha256", "SHA-256", "sha512", "SHA-512");

    @TempDir
    static Path shared;

    private static NixOracle nix;
    private static List<Tree> trees;

    @BeforeAll
    static void setUp() throws IOException {
        NixOracle.assumeAvailable();
        nix = NixOracle.open(shared.resolve("nix"));
        trees = new ArrayList<>(TestTrees.standard(Files.createDirectory(shared.resolve("trees"))));
        Path jdk = Path.of(System.getProperty("java.home")).toRealPath();
        trees.add(new Tree("JDK " + jdk, jdk));
        Path doc = Path.of("/usr/share/doc");
        if (Files.isDirectory(doc)) {
            trees.add(new Tree(doc.toString(), doc.toRealPath()));
        }
    }

    static List<Tree> trees() {
        return trees;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("trees")
    void dumpIsByteIdenticalToNixStoreDump(Tree tree) throws IOException {
        assertDumpsLikeNix(tree.path());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("trees")
    void digestsEqualNixHash(Tree tree) throws IOException {
        assertDigestsLikeNix(tree.path());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("trees")
    void restoringNixsDumpGivesATreeWithTheSameNixHash(Tree tree, @TempDir Path scratch) throws IOException {
        assertRestoresLikeNix(tree.path(), scratch.resolve("restored"));
    }

    /** The one test that pays for a 64 MiB file. */
    @Test
    void largeFileDumpsHashesAndRestoresLikeNix(@TempDir Path scratch) throws IOException {
        Path tree = TestTrees.largeFile(scratch.resolve("large"));
        assertDumpsLikeNix(tree);
        assertDigestsLikeNix(tree);
        assertRestoresLikeNix(tree, scratch.resolve("restored"));
    }

    /** NarDumper.dump writes exactly the bytes of nix-store --dump, and returns their number. */
    private static void assertDumpsLikeNix(Path tree) throws IOException {
        long[] returned = new long[1];
        long size;
        try (InputStream expected = nix.openDump(tree)) {
            size = StreamAssertions.assertSameBytes("NAR of " + tree + ", nix-store --dump vs NarDumper",
                    expected, out -> returned[0] = new NarDumper().dump(tree, out));
        }
        assertEquals(size, returned[0], "size returned by NarDumper.dump");
    }

    /** NarDumper.digest gives nix-hash's hash with every algorithm, and the size of Nix's NAR. */
    private static void assertDigestsLikeNix(Path tree) throws IOException {
        long narSize = nix.dumpDigest(tree).size();
        for (Map.Entry<String, String> algorithm : ALGORITHMS.entrySet()) {
            NarDigest digest = new NarDumper().digest(tree, messageDigest(algorithm.getValue()));
            assertEquals(nix.nixHash(tree, algorithm.getKey(), false), HexFormat.of().formatHex(digest.digest()),
                    "nix-hash --type " + algorithm.getKey() + " " + tree);
            assertEquals(narSize, digest.narSize(), "NAR size from NarDumper.digest with " + algorithm.getKey());
        }
    }

    /** NarRestorer restores Nix's NAR of a tree into a tree with the same nix-hash. */
    private static void assertRestoresLikeNix(Path original, Path restored) throws IOException {
        try (InputStream in = new BufferedInputStream(nix.openDump(original))) {
            NarRestorer.restore(in, restored);
        }
        assertEquals(nix.nixHash(original, "sha256", true), nix.nixHash(restored, "sha256", true),
                "nix-hash of " + original + " and of its restored copy " + restored);
    }

    private static MessageDigest messageDigest(String name) {
        try {
            return MessageDigest.getInstance(name);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(name + " is required of every Java platform", e);
        }
    }
}
