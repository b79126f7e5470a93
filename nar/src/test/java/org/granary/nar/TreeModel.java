package org.granary.nar;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;
import org.granary.nar.testing.TestTrees;

/**
 * File trees as values, for properties: jqwik generators, the NAR a tree must have (encoded by hand,
 * entries sorted by their UTF-8 bytes), and the tree created on disk.
 */
sealed interface TreeModel {

    record File(boolean executable, byte[] contents) implements TreeModel {}

    record Link(String target) implements TreeModel {}

    /** Entries by name; a TreeMap only for readable reports, the NAR order is by bytes. */
    record Dir(Map<String, TreeModel> entries) implements TreeModel {}

    /** Pieces of names: ASCII in both cases, '.', control and non-ASCII characters, one above U+FFFF. */
    List<String> NAME_PARTS = List.of("a", "b", "B", "z", "0", ".", "-", "_", " ", "\u0001", "~",
            "\u00e9", "\u00df", "\uFB01", "\u4e2d", "\uD83D\uDE00");

    /** Targets mix names with "..", absolute paths, and slashes the JDK would normalise. */
    List<String> TARGET_PARTS = List.of("a", "b", "..", ".", "\u00e9", "/", "/", "//");

    /** Trees up to {@code depth} directories deep; the top is any of the three node types. */
    static Arbitrary<TreeModel> trees(int depth) {
        if (depth == 0) {
            return Arbitraries.oneOf(files(), links());
        }
        return Arbitraries.frequencyOf(Tuple.of(2, files()), Tuple.of(1, links()), Tuple.of(4, directories(depth)));
    }

    /** Directories of up to five entries, each a tree up to {@code depth - 1} deep. */
    static Arbitrary<TreeModel> directories(int depth) {
        return Arbitraries.maps(names(), trees(depth - 1)).ofMaxSize(5).map(entries -> new Dir(new TreeMap<>(entries)));
    }

    /** Trees with small files only (up to 40 bytes), cheap to generate in bulk: the seeds of mutations. */
    static Arbitrary<TreeModel> smallTrees(int depth) {
        Arbitrary<TreeModel> files = Combinators.combine(Arbitraries.of(true, false),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(40)).as(File::new);
        if (depth == 0) {
            return Arbitraries.oneOf(files, links());
        }
        Arbitrary<TreeModel> directories = Arbitraries.maps(names(), smallTrees(depth - 1)).ofMaxSize(4)
                .map(entries -> new Dir(new TreeMap<>(entries)));
        return Arbitraries.frequencyOf(Tuple.of(2, files), Tuple.of(1, links()), Tuple.of(4, directories));
    }

    static Arbitrary<TreeModel> files() {
        Arbitrary<byte[]> small = Arbitraries.bytes().array(byte[].class).ofMaxSize(40);
        Arbitrary<byte[]> large = Arbitraries.integers().between(1, 70_000).map(TreeModel::pattern);
        return Combinators.combine(Arbitraries.of(true, false), Arbitraries.frequencyOf(
                Tuple.of(9, small), Tuple.of(1, large))).as(File::new);
    }

    static Arbitrary<TreeModel> links() {
        return Arbitraries.of(TARGET_PARTS).list().ofMinSize(1).ofMaxSize(4)
                .map(parts -> String.join("", parts))
                .map(target -> (TreeModel) new Link(target));
    }

    static Arbitrary<String> names() {
        return Arbitraries.of(NAME_PARTS).list().ofMinSize(1).ofMaxSize(6)
                .map(parts -> String.join("", parts))
                .filter(name -> !name.equals(".") && !name.equals(".."));
    }

    /** The NAR this tree must have, encoded token by token. */
    static byte[] nar(TreeModel tree) {
        NarBytes nar = NarBytes.nar();
        encode(tree, nar);
        return nar.bytes();
    }

    private static void encode(TreeModel tree, NarBytes nar) {
        nar.strs("(", "type");
        if (tree instanceof File file) {
            nar.regular(file.executable(), file.contents());
            return;
        }
        if (tree instanceof Link link) {
            nar.strs("symlink", "target", link.target(), ")");
            return;
        }
        nar.str("directory");
        List<Map.Entry<String, TreeModel>> entries = new ArrayList<>(((Dir) tree).entries().entrySet());
        entries.sort((a, b) -> Arrays.compareUnsigned(a.getKey().getBytes(UTF_8), b.getKey().getBytes(UTF_8)));
        for (Map.Entry<String, TreeModel> entry : entries) {
            nar.strs("entry", "(", "name", entry.getKey(), "node");
            encode(entry.getValue(), nar);
            nar.str(")");
        }
        nar.str(")");
    }

    /** Creates the tree at {@code path}, which must not exist. */
    static void create(TreeModel tree, Path path) throws IOException {
        if (tree instanceof File file) {
            Files.write(path, file.contents());
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(file.executable() ? "rwxr-x---" : "rw-r-----"));
        } else if (tree instanceof Link link) {
            if (Path.of(link.target()).toString().equals(link.target())) {
                Files.createSymbolicLink(path, Path.of(link.target()));
            } else {
                TestTrees.symlink(path, link.target()); // a target the JDK would normalise
            }
        } else {
            Files.createDirectory(path);
            for (Map.Entry<String, TreeModel> entry : ((Dir) tree).entries().entrySet()) {
                create(entry.getValue(), path.resolve(entry.getKey()));
            }
        }
    }

    /** Contents with a recognisable pattern, so a shifted byte shows. */
    private static byte[] pattern(int size) {
        byte[] contents = new byte[size];
        for (int i = 0; i < size; i++) {
            contents[i] = (byte) (i * 31 + (i >> 8));
        }
        return contents;
    }
}
