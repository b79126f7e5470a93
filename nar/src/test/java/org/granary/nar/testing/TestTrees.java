package org.granary.nar.testing;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Deterministic file trees that exercise every corner of the NAR format, for differential tests against
 * real Nix: padding around multiples of 8, odd and non-ASCII names whose byte order differs from their
 * UTF-16 order, every permission combination, symlinks of every kind, empty entries, deep nesting, and
 * a regular file, an executable or a symlink at the top.
 *
 * <p>Each generator creates the tree at {@code target}, which must not exist (its parent must), and
 * returns it. The same generator always makes the same tree, except that modes which would keep a
 * non-root owner from reading are widened when not running as root (owner read on files; read, write and
 * search on directories), so that the tree can be archived and deleted. Names are created through
 * {@code String}s, so the JVM must run with a UTF-8 {@code sun.jnu.encoding} (Surefire sets
 * {@code LC_ALL=C.UTF-8}); symlinks are made with {@code ln -s}, because {@link Path} would normalise
 * targets such as {@code dir/} or {@code a//b}.
 *
 * <p>Stateless and thread-safe; generators writing to different targets may run concurrently.
 */
public final class TestTrees {

    /** The size of {@link #largeFile}'s file: 64 MiB and a few bytes, so that it needs padding. */
    public static final long LARGE_FILE_SIZE = 64L * 1024 * 1024 + 5;

    /** File sizes around NAR padding boundaries and buffer sizes, up to about 1 MB. */
    static final long[] PADDING_SIZES = {
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
        63, 64, 65, 4095, 4096, 4097, 65535, 65536, 65537, 1_000_003
    };

    private static final int MAX_NAME_BYTES = 255;
    private static final int MAX_TARGET_BYTES = 4095;

    private TestTrees() {}

    /** A generated tree and a short name for test reports. Immutable. */
    public record Tree(String name, Path path) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** Generates every tree below except {@link #largeFile}, each under {@code parent} by its name. */
    public static List<Tree> standard(Path parent) throws IOException {
        List<Tree> trees = new ArrayList<>();
        trees.add(tree(parent, "padding-sizes", TestTrees::paddingSizes));
        trees.add(tree(parent, "odd-names", TestTrees::oddNames));
        trees.add(tree(parent, "file-modes", TestTrees::fileModes));
        trees.add(tree(parent, "directory-modes", TestTrees::directoryModes));
        trees.add(tree(parent, "symlinks", TestTrees::symlinks));
        trees.add(tree(parent, "empty-entries", TestTrees::emptyEntries));
        trees.add(tree(parent, "empty-directory", Files::createDirectory));
        trees.add(tree(parent, "deep-nesting", target -> deepNesting(target, 200)));
        trees.add(tree(parent, "top-level-file", TestTrees::topLevelFile));
        trees.add(tree(parent, "top-level-executable", TestTrees::topLevelExecutable));
        trees.add(tree(parent, "top-level-empty-file", target -> regular(target, 0, 0644)));
        trees.add(tree(parent, "top-level-symlink", TestTrees::topLevelSymlink));
        return trees;
    }

    /** Regular files of every size in {@link #PADDING_SIZES}, plus executable ones of a few sizes. */
    public static Path paddingSizes(Path target) throws IOException {
        Files.createDirectory(target);
        for (long size : PADDING_SIZES) {
            regular(target.resolve(String.format("size-%07d", size)), size, 0644);
        }
        for (long size : new long[] {0, 1, 7, 8, 9, 65537}) {
            regular(target.resolve(String.format("exec-%07d", size)), size, 0755);
        }
        return target;
    }

    /**
     * Files, directories and symlinks with names that are awkward for shells, for sorting, or for the
     * JVM: spaces, a leading dash, quotes, backslash, control characters, glob characters, NFC and NFD
     * forms, characters above U+FFFF, names whose UTF-16 order differs from their byte order
     * ({@code "\uFB01"} sorts after {@code "\uD83D\uDE00"} as UTF-16 but before it as UTF-8), case
     * pairs, Nix's case-hack suffix, and names of exactly 255 bytes.
     */
    public static Path oddNames(Path target) throws IOException {
        Files.createDirectory(target);
        List<String> names = List.of(
                " leading space", "trailing space ", "in between", "-leading-dash", "--", ".hidden", "..dots", "...",
                "double\"quote", "single'quote", "back\\slash", "new\nline", "tab\tname", "carriage\rreturn",
                "\u0001control", "delete\u007f", "question?", "star*", "[brackets]", "{braces}", "semi;colon",
                "pipe|", "dollar$HOME", "percent%s", "colon:", "hash#", "tilde~", "equals=", "plus+", "comma,",
                "~nix~case~hack~1", "B", "a", "A", "b", "x", "x\u0001", "x!", "xy",
                "\u00e9", "e\u0301", "caf\u00e9", "cafe\u0301", "\uFB01", "\uD83D\uDE00", "\uD834\uDD1E clef",
                "\u4e2d\u6587", "\u0645\u0631\u062d\u0628\u0627", "nbsp\u00a0", "zero\u200bwidth", "\uFEFFbom",
                "\uFFFD replacement", "\uFFFF nonchar",
                "n".repeat(MAX_NAME_BYTES),
                "\u00e9".repeat(127) + "x",
                "\uD83D\uDE00".repeat(63) + "xyz");
        int index = 0;
        for (String name : names) {
            if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
                throw new IllegalStateException("test name longer than 255 bytes: " + name);
            }
            regular(target.resolve(name), index, index % 3 == 0 ? 0755 : 0644);
            index++;
        }
        Path directory = Files.createDirectory(target.resolve("dir with space \u00fc\uD83D\uDE00"));
        regular(directory.resolve("inner \"file\""), 10, 0644);
        Files.createDirectory(directory.resolve("-dash dir"));
        symlink(target.resolve("link \u00e9\n"), "caf\u00e9");
        return target;
    }

    /**
     * One regular file per mode: all eight owner combinations crossed with several group/other
     * combinations, and the setuid, setgid and sticky bits with and without execute permission. Only the
     * owner-execute bit reaches the NAR.
     */
    public static Path fileModes(Path target) throws IOException {
        Files.createDirectory(target);
        List<Integer> modes = new ArrayList<>();
        for (int owner = 0; owner <= 7; owner++) {
            for (int groupOther : new int[] {000, 077, 055, 011, 040}) {
                modes.add(owner << 6 | groupOther);
            }
        }
        modes.addAll(List.of(04755, 02755, 01755, 07777, 04644, 02644, 01644, 06711, 04000, 07000));
        for (int mode : modes) {
            regular(target.resolve(String.format("mode-%04o", mode)), mode % 17, mode);
        }
        return target;
    }

    /**
     * One directory per mode (each holding a file and an executable, so that its mode matters for
     * reading it), including unreadable and unsearchable ones, setgid and sticky. Directory modes do not
     * reach the NAR.
     */
    public static Path directoryModes(Path target) throws IOException {
        Files.createDirectory(target);
        List<Integer> modes = new ArrayList<>();
        for (int owner = 0; owner <= 7; owner++) {
            modes.add(owner << 6 | 055);
        }
        modes.addAll(List.of(0000, 0777, 01777, 02755, 03755, 07777, 0311));
        for (int mode : modes) {
            Path directory = Files.createDirectory(target.resolve(String.format("dir-%04o", mode)));
            regular(directory.resolve("file"), 3, 0644);
            regular(directory.resolve("exec"), 4, 0755);
            chmod(directory, mode, true);
        }
        return target;
    }

    /**
     * Symlinks of every kind: relative, absolute, dangling, to a directory, to itself, a loop, to
     * {@code .}, {@code ..} and {@code /}, a 4095-byte target, non-ASCII targets (one containing a genuine
     * U+FFFD), a trailing slash, a double slash, and targets with spaces, a newline or a leading dash.
     */
    public static Path symlinks(Path target) throws IOException {
        Files.createDirectory(target);
        regular(target.resolve("file"), 12, 0644);
        Path directory = Files.createDirectory(target.resolve("dir"));
        regular(directory.resolve("inside"), 5, 0755);
        symlink(directory.resolve("up"), "../file");
        symlink(target.resolve("relative"), "file");
        symlink(target.resolve("absolute"), "/etc/hostname");
        symlink(target.resolve("dangling"), "does/not/exist");
        symlink(target.resolve("to-dir"), "dir");
        symlink(target.resolve("self"), "self");
        symlink(target.resolve("loop-a"), "loop-b");
        symlink(target.resolve("loop-b"), "loop-a");
        symlink(target.resolve("chain"), "relative");
        symlink(target.resolve("dot"), ".");
        symlink(target.resolve("dotdot"), "..");
        symlink(target.resolve("root"), "/");
        symlink(target.resolve("longest"), longTarget());
        symlink(target.resolve("non-ascii"), "\u00fcn\u00efc\u00f6d\u00e9/\uD83D\uDE00/\uFB01");
        symlink(target.resolve("replacement-char"), "\uFFFD");
        symlink(target.resolve("trailing-slash"), "dir/");
        symlink(target.resolve("double-slash"), "dir//inside");
        symlink(target.resolve("absolute-double-slash"), "//etc//hostname");
        symlink(target.resolve("spaces"), " a b ");
        symlink(target.resolve("newline"), "line1\nline2");
        symlink(target.resolve("dash"), "-n");
        return target;
    }

    /** Empty files (plain and executable), an empty directory and nested directories ending empty. */
    public static Path emptyEntries(Path target) throws IOException {
        Files.createDirectory(target);
        regular(target.resolve("empty-file"), 0, 0644);
        regular(target.resolve("empty-executable"), 0, 0755);
        Files.createDirectory(target.resolve("empty-dir"));
        Files.createDirectories(target.resolve("a/b/c/d"));
        Files.createDirectories(target.resolve("only-empty-dirs/x"));
        Files.createDirectories(target.resolve("only-empty-dirs/y"));
        regular(target.resolve("a/b/empty"), 0, 0644);
        return target;
    }

    /** {@code depth} nested directories, with a file every ten levels and a file and a symlink at the bottom. */
    public static Path deepNesting(Path target, int depth) throws IOException {
        Path directory = Files.createDirectory(target);
        for (int level = 1; level <= depth; level++) {
            directory = Files.createDirectory(directory.resolve("d"));
            if (level % 10 == 0) {
                regular(directory.resolve("level-" + level), level, level % 20 == 0 ? 0755 : 0644);
            }
        }
        regular(directory.resolve("bottom"), 9, 0644);
        symlink(directory.resolve("back-up"), "../../../bottom");
        return target;
    }

    /** A non-executable regular file at the top. */
    public static Path topLevelFile(Path target) throws IOException {
        return regular(target, 1234, 0644);
    }

    /** An executable regular file at the top. */
    public static Path topLevelExecutable(Path target) throws IOException {
        return regular(target, 4321, 0755);
    }

    /** A (dangling) symlink at the top. */
    public static Path topLevelSymlink(Path target) throws IOException {
        return symlink(target, "../somewhere/else");
    }

    /**
     * A directory holding a {@link #LARGE_FILE_SIZE}-byte file, written in chunks, and a small executable.
     * Kept out of {@link #standard} so that only the test that wants it pays for it.
     */
    public static Path largeFile(Path target) throws IOException {
        Files.createDirectory(target);
        regular(target.resolve("large"), LARGE_FILE_SIZE, 0644);
        regular(target.resolve("small"), 100, 0755);
        return target;
    }

    /**
     * Creates a regular file of {@code size} pseudo-random bytes (the same for the same size), written in
     * chunks, then gives it {@code mode}.
     */
    public static Path regular(Path file, long size, int mode) throws IOException {
        SplittableRandom random = new SplittableRandom(size);
        byte[] chunk = new byte[(int) Math.min(size, 1 << 16)];
        try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW)) {
            for (long left = size; left > 0; left -= chunk.length) {
                random.nextBytes(chunk);
                out.write(chunk, 0, (int) Math.min(left, chunk.length));
            }
        }
        chmod(file, mode, false);
        return file;
    }

    /** Creates {@code link} pointing to exactly {@code target} (as UTF-8 bytes), with {@code ln -s}. */
    public static Path symlink(Path link, String target) throws IOException {
        Process ln = new ProcessBuilder("ln", "-s", "--", target, link.toString())
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        String output;
        try (InputStream in = ln.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        try {
            if (ln.waitFor() != 0) {
                throw new IOException("ln -s -- " + target + " " + link + " failed: " + output.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running ln -s for " + link, e);
        }
        return link;
    }

    private static String longTarget() {
        StringBuilder target = new StringBuilder();
        while (target.length() < MAX_TARGET_BYTES) {
            target.append("component/");
        }
        target.setLength(MAX_TARGET_BYTES);
        return target.toString();
    }

    private static void chmod(Path path, int mode, boolean directory) throws IOException {
        if (!isRoot(path)) {
            // Stay readable (and, for directories, searchable) so that both archivers and the cleanup work.
            mode |= directory ? 0700 : 0400;
        }
        Files.setAttribute(path, "unix:mode", mode);
    }

    private static boolean isRoot(Path path) throws IOException {
        return ((Integer) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS)) == 0;
    }

    private static Tree tree(Path parent, String name, Generator generator) throws IOException {
        return new Tree(name, generator.generate(parent.resolve(name)));
    }

    @FunctionalInterface
    private interface Generator {
        Path generate(Path target) throws IOException;
    }
}
