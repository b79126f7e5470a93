package org.granary.nar;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.granary.nar.testing.TestTrees;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NarRestorerTest {

    @TempDir
    Path dir;
    /** The parent of every restore target. */
    private Path work;
    /** A directory beside it that malicious NARs aim at. */
    private Path outside;
    private Path target;

    @BeforeEach
    void layout() throws IOException {
        work = Files.createDirectory(dir.resolve("work"));
        outside = Files.createDirectory(dir.resolve("outside"));
        target = work.resolve("target");
    }

    // ---- restores

    @Test
    void dumpRestoreDumpIsTheIdentityWithTheStatedModes() throws Exception {
        Path tree = sampleTree("r-x------");
        Files.writeString(tree.resolve("\u00e9\uD83D\uDE00"), "");
        byte[] nar = NarDumperTest.dump(tree);

        assertEquals(nar.length, NarRestorer.restore(new ByteArrayInputStream(nar), target));

        assertArrayEquals(nar, NarDumperTest.dump(target));
        assertEquals("rw-r--r--", mode(target.resolve("file")));
        assertEquals("rwxr-xr-x", mode(target.resolve("exec")));
        assertEquals("rwxr-xr-x", mode(target.resolve("sub")));
        assertEquals("rwxr-xr-x", mode(target));
        assertEquals("sub//empty/", Files.readSymbolicLink(target.resolve("slashes")).toString());
        assertEquals(List.of("target"), list(work), "no temporary left beside the target");
    }

    @Test
    void restoreReadOnlyAndCopyReadOnlyGiveTheStoreModesAndMtimeAndTheSameNar() throws Exception {
        Path tree = sampleTree("rwx------");
        byte[] nar = NarDumperTest.dump(tree);
        FileTime one = FileTime.from(1, TimeUnit.SECONDS);
        Path copied = work.resolve("copied");
        List<String> written = new ArrayList<>();

        assertEquals(nar.length, NarRestorer.restoreReadOnly(new ByteArrayInputStream(nar), target, one));
        NarDigest digest = NarRestorer.copyReadOnly(tree, copied, one, MessageDigest.getInstance("SHA-256"),
                (file, size) -> written.add(file.getFileName() + " " + size + " " + Files.isRegularFile(file)));

        assertEquals(new NarDigest("SHA-256", MessageDigest.getInstance("SHA-256").digest(nar), nar.length), digest);
        assertEquals(List.of("big 300001 true", "exec 10 true", "file 8 true"), written.stream().sorted().toList(),
                "each regular file reported once, written, with its size");
        for (Path made : List.of(target, copied)) {
            assertArrayEquals(nar, NarDumperTest.dump(made));
            assertEquals("r--r--r--", mode(made.resolve("file")));
            assertEquals("r-xr-xr-x", mode(made.resolve("exec")));
            assertEquals("r-xr-xr-x", mode(made.resolve("sub/empty")));
            assertEquals("r-xr-xr-x", mode(made));
            try (Stream<Path> entries = Files.walk(made)) {
                for (Path entry : entries.toList()) {
                    assertEquals(one, Files.getLastModifiedTime(entry, LinkOption.NOFOLLOW_LINKS), entry.toString());
                }
            }
        }
        assertEquals(List.of("copied", "target"), list(work), "no temporary left beside the targets");
    }

    @Test
    void copyReadOnlyOfATreeOfManyBuffersHashesItsNarOnTheSecondThreadAndCopiesItExactly() throws Exception {
        Path tree = NarDumperTest.mixedTree(dir);
        byte[] nar = NarDumperTest.dump(tree);
        FileTime one = FileTime.from(1, TimeUnit.SECONDS);
        List<Long> sizes = new ArrayList<>();

        NarDigest digest = NarRestorer.copyReadOnly(tree, target, one, MessageDigest.getInstance("SHA-256"),
                (file, size) -> sizes.add(size));

        assertEquals(new NarDigest("SHA-256", MessageDigest.getInstance("SHA-256").digest(nar), nar.length), digest);
        assertArrayEquals(nar, NarDumperTest.dump(target));
        assertEquals(303, sizes.size());
        assertTrue(nar.length > 4 * DigestPipeline.BUFFER_SIZE, "the NAR fills several of the pipeline's buffers");
    }

    @Test
    void copyReadOnlyThatFailsAfterTheHashingThreadStartedLeavesNothing() throws Exception {
        Path tree = NarDumperTest.mixedTree(dir);
        Path fifo = tree.resolve("zz-fifo"); // after every other entry: the large files are hashed first
        assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "mkfifo");

        assertThrows(NarDumpException.class, () -> NarRestorer.copyReadOnly(tree, target,
                FileTime.from(1, TimeUnit.SECONDS), MessageDigest.getInstance("SHA-256")));
        assertEquals(List.of(), list(work));
    }

    @Test
    void copyReadOnlyOfAnUnarchivableTreeLeavesNothing() throws Exception {
        Path tree = Files.createDirectory(dir.resolve("tree"));
        Files.writeString(tree.resolve("a"), "a");
        Path fifo = tree.resolve("fifo");
        assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "mkfifo");

        assertThrows(NarDumpException.class, () -> NarRestorer.copyReadOnly(tree, target,
                FileTime.from(1, TimeUnit.SECONDS), MessageDigest.getInstance("SHA-256")));
        assertEquals(List.of(), list(work));
    }

    @Test
    void aRegularFileOrASymlinkAtTheTop() throws IOException {
        byte[] file = NarBytes.file(true, "#!".getBytes(UTF_8));
        NarRestorer.restore(new ByteArrayInputStream(file), target);
        assertEquals("#!", Files.readString(target));
        assertEquals("rwxr-xr-x", mode(target));

        Path link = work.resolve("link");
        NarRestorer.restore(new ByteArrayInputStream(NarBytes.nar().strs("(", "type", "symlink", "target", "dir/", ")")
                .bytes()), link);
        assertEquals("dir/", Files.readSymbolicLink(link).toString());
        assertEquals(List.of("link", "target"), list(work));
    }

    @Test
    void readsExactlyTheNar() throws IOException {
        byte[] nar = NarBytes.file(false, "x".getBytes(UTF_8));
        byte[] withMore = Arrays.copyOf(nar, nar.length + 3);
        ByteArrayInputStream in = new ByteArrayInputStream(withMore);
        assertEquals(nar.length, NarRestorer.restore(in, target));
        assertEquals(3, in.available());
    }

    @Test
    void aTargetNameOfTheFullNameMaxFitsItsTemporaryName() throws IOException {
        Path longest = work.resolve("n".repeat(255));
        NarRestorer.restore(new ByteArrayInputStream(NarBytes.file(false, new byte[0])), longest);
        assertTrue(Files.isRegularFile(longest));
    }

    @Test
    void theParentMayBeASymlinkToADirectory() throws IOException {
        Path viaLink = Files.createSymbolicLink(dir.resolve("link-to-work"), work).resolve("restored");
        NarRestorer.restore(new ByteArrayInputStream(NarBytes.file(false, new byte[0])), viaLink);
        assertTrue(Files.isRegularFile(work.resolve("restored"), LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aTreeAsDeepAsPathMaxAllowsOnASmallStack() throws Exception {
        // The temporary sibling ".target.granary-tmp-" + 13 characters is the longer path during the restore.
        int depth = (4095 - work.resolve(".target.granary-tmp-1234567890123").toString().length() - 4) / 2;
        byte[] nar = NarBytes.nested(depth);
        SmallStack.run(() -> NarRestorer.restore(new ByteArrayInputStream(nar), target));
        assertArrayEquals(nar, NarDumperTest.dump(target));
    }

    // ---- refusals: each leaves nothing at the target and nothing anywhere else

    @Test
    void anExistingTargetIsRefused() throws IOException {
        Files.createDirectory(target);
        assertRefused(NarRestoreException.class, NarBytes.file(false, new byte[0]), "already exists");
        Files.delete(target);
        Files.createSymbolicLink(target, outside.resolve("dangling"));
        assertRefused(NarRestoreException.class, NarBytes.file(false, new byte[0]), "already exists");
        assertFalse(Files.exists(outside.resolve("dangling")));
    }

    @Test
    void aMissingParentIsRefused() {
        target = work.resolve("missing/target");
        assertRefused(NarRestoreException.class, NarBytes.file(false, new byte[0]), "parent directory");
    }

    @Test
    void entryNamedDotDotSlashEscape() {
        assertRefused(NarFormatException.class, directory(regular("a"), regular("../escape")), "without '/'");
        assertRefused(NarFormatException.class, directory(regular("a"), regular("..")), "other than");
        assertRefused(NarFormatException.class, directory(regular("a"), regular(".")), "other than");
    }

    @Test
    void aSymlinkFollowedByTheSameNameOrAPathThroughIt() {
        String link = entry("l", "( type symlink target " + outside + " )");
        assertRefused(NarFormatException.class, directory(link, entry("l", "( type directory )")), "a duplicate");
        assertRefused(NarFormatException.class, directory(link, regular("l/x")), "without '/'");
        assertRefused(NarFormatException.class, directory(link, entry("l", "( type symlink target /tmp )")), "duplicate");
    }

    @Test
    void duplicateAndUnsortedNames() {
        assertRefused(NarFormatException.class, directory(regular("a"), regular("b"), regular("b")), "a duplicate");
        assertRefused(NarFormatException.class, directory(regular("b"), regular("a")), "sorting after");
    }

    @Test
    void nulInAName() {
        assertRefused(NarFormatException.class, directory(regular("a"), regular("b\0c")), "without NUL");
    }

    @Test
    void aNarThatTurnsOutBadAfterFilesWereWritten() {
        byte[] nar = directory(regular("a"), entry("b", "( type directory " + regular("c") + " )"), regular("d"));
        assertRefused(NarFormatException.class, Arrays.copyOf(nar, nar.length - 30), "unexpected end of NAR");
        byte[] badPadding = nar.clone();
        badPadding[badPadding.length - 3] = 1;
        assertRefused(NarFormatException.class, badPadding, "zero padding");
    }

    @Test
    void aNameNotRepresentableInTheJvmCharset() {
        assumeTrue(FileNames.JNU.equals(UTF_8), "needs a UTF-8 sun.jnu.encoding");
        byte[] nar = NarBytes.nar().strs("(", "type", "directory", "entry", "(", "name")
                .str(new byte[] {'b', 'a', 'd', (byte) 0xff})
                .strs("node", "(", "type", "directory", ")", ")", ")").bytes();
        assertRefused(NarRestoreException.class, nar, "entry name \"bad\\xff\" is not valid UTF-8");
        byte[] link = NarBytes.nar().strs("(", "type", "symlink", "target").str(new byte[] {(byte) 0xc3})
                .str(")").bytes();
        assertRefused(NarRestoreException.class, link, "symlink target \"\\xc3\" is not valid UTF-8");
    }

    @Test
    void aFileSystemFailureIsANarRestoreExceptionNamingThePath() {
        NarRestoreException e = assertRefused(NarRestoreException.class, NarBytes.nested(2100), "cannot create the directory");
        assertTrue(e.path().startsWith(target), e.path().toString());
    }

    @Test
    void aFailingInputStreamLeavesNothing() {
        byte[] nar = directory(regular("a"), regular("b"));
        IOException broken = new IOException("connection reset");
        InputStream in = new InputStream() {
            private int left = nar.length - 40;
            private final InputStream bytes = new ByteArrayInputStream(nar);

            @Override
            public int read() throws IOException {
                if (left-- == 0) {
                    throw broken;
                }
                return bytes.read();
            }
        };
        assertSame(broken, assertRefused(IOException.class, in, ""));
    }

    private <E extends IOException> E assertRefused(Class<E> type, byte[] nar, String fragment) {
        return assertRefused(type, new ByteArrayInputStream(nar), fragment);
    }

    private <E extends IOException> E assertRefused(Class<E> type, InputStream nar, String fragment) {
        List<String> before = everything();
        E e = assertThrows(type, () -> NarRestorer.restore(nar, target));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
        assertEquals(before, everything(), "the restore left something behind: " + e);
        return e;
    }

    /** Every path under the test's directory, symlinks not followed. */
    private List<String> everything() {
        try (Stream<Path> paths = Files.walk(dir)) {
            return paths.map(Path::toString).sorted().toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    // ---- NARs written as token text

    /**
     * A NAR from text whose space-separated words are each a {@code str}; file contents are one too,
     * since {@code str(c)} is exactly {@code int(size) c padding}.
     */
    private static byte[] tokens(String text) {
        return NarBytes.nar().strs(text.trim().split(" +")).bytes();
    }

    private static byte[] directory(String... entries) {
        return tokens("( type directory " + String.join(" ", entries) + " )");
    }

    private static String entry(String name, String node) {
        return "entry ( name " + name + " node " + node + " )";
    }

    /** An entry holding a regular file whose contents are "x". */
    private static String regular(String name) {
        return entry(name, "( type regular contents x )");
    }

    /** A tree with a file, an executable of mode {@code execMode}, directories, symlinks, a large file. */
    private Path sampleTree(String execMode) throws IOException {
        Path tree = Files.createDirectory(dir.resolve("tree"));
        Files.writeString(tree.resolve("file"), "contents");
        Files.writeString(tree.resolve("exec"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(tree.resolve("exec"), PosixFilePermissions.fromString(execMode));
        Files.createDirectories(tree.resolve("sub/empty"));
        Files.write(tree.resolve("sub/big"), new byte[300_001]);
        Files.createSymbolicLink(tree.resolve("sub/up"), Path.of("../file"));
        Files.createSymbolicLink(tree.resolve("absolute"), Path.of("/nowhere"));
        TestTrees.symlink(tree.resolve("slashes"), "sub//empty/");
        return tree;
    }

    private static String mode(Path path) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS));
    }

    private static List<String> list(Path directory) throws IOException {
        try (Stream<Path> paths = Files.list(directory)) {
            return paths.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
