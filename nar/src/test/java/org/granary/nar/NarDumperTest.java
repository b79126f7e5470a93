package org.granary.nar;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.granary.nar.testing.TestTrees;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NarDumperTest {

    @TempDir
    Path dir;

    @Test
    void helloFileIsTheKnownGoodVectorOnEveryPath() throws IOException {
        Path hello = Files.writeString(dir.resolve("hello"), "hello\n");
        String sha256 = "1c37d01af40be2e80691de3cc3df44377a699afbb17c68f080964b2fd071fc13";

        byte[] nar = dump(hello);
        assertEquals(120, nar.length);
        assertArrayEquals(NarBytes.file(false, bytes("hello\n")), nar);

        NarDigest expected = new NarDigest("SHA-256", HexFormat.of().parseHex(sha256), 120);
        assertEquals(expected, new NarDumper().digest(hello, sha256()));
        assertEquals(expected, new NarDumper().digestInline(hello, sha256()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(expected, new NarDumper().dump(hello, out, sha256()));
        assertArrayEquals(nar, out.toByteArray());
        assertEquals(expected, new NarDumper().dump(hello, OutputStream.nullOutputStream(), sha256()));
    }

    @Test
    void theDigestIsResetBeforeAndAfter() throws IOException {
        Path hello = Files.writeString(dir.resolve("hello"), "hello\n");
        MessageDigest digest = sha256();
        digest.update(bytes("left over"));
        NarDumper dumper = new NarDumper();
        NarDigest first = dumper.digest(hello, digest);
        assertEquals(first, dumper.digest(hello, digest), "the same dumper and digest, reused");
        assertArrayEquals(sha256().digest(), digest.digest(), "the digest is left reset");
    }

    @Test
    void fileSizesAroundEveryPaddingAndBufferBoundary() throws IOException {
        List<Integer> sizes = new ArrayList<>();
        for (int size = 0; size <= 17; size++) {
            sizes.add(size);
        }
        for (int base : new int[] {63, 64, 65, 4095, 4096, 4097, 131_071, 131_072, 131_073, 262_143, 262_144, 262_145}) {
            sizes.add(base);
        }
        Random random = new Random(8);
        for (int size : sizes) {
            byte[] contents = new byte[size];
            random.nextBytes(contents);
            Path file = Files.write(dir.resolve("size-" + size), contents);
            byte[] expected = NarBytes.file(false, contents);
            assertArrayEquals(expected, dump(file), "size " + size);
            // A 64-byte buffer drains in the middle of every token run and file.
            assertArrayEquals(expected, dump(new NarDumper(64), file), "size " + size + ", small buffer");
            assertEquals(new NarDigest("SHA-256", sha256().digest(expected), expected.length),
                    new NarDumper(80).digest(file, sha256()), "size " + size);
            // The contents through the 128 KiB direct buffer, the framing through an 80-byte one.
            assertEquals(new NarDigest("SHA-256", sha256().digest(expected), expected.length),
                    new NarDumper(80).digestInline(file, sha256()), "size " + size + ", inline");
        }
    }

    @Test
    void aFileOfSeveralMegabytes() throws IOException {
        byte[] contents = new byte[5 * 1024 * 1024 + 3];
        new Random(5).nextBytes(contents);
        Path file = Files.write(dir.resolve("big"), contents);
        byte[] expected = NarBytes.file(true, contents);
        setMode(file, 0700);
        assertArrayEquals(expected, dump(file));
        assertArrayEquals(sha256().digest(expected), new NarDumper().digest(file, sha256()).digest());
    }

    /** A tree of many small files and a few large ones: several pipeline buffers and every drain path. */
    private Path mixedTree() throws IOException {
        return mixedTree(dir);
    }

    /** {@link #mixedTree()} in {@code dir}, for the copy's tests too. */
    static Path mixedTree(Path dir) throws IOException {
        Path tree = Files.createDirectory(dir.resolve("mixed"));
        Random random = new Random(11);
        for (int i = 0; i < 300; i++) {
            byte[] contents = new byte[random.nextInt(20_000)];
            random.nextBytes(contents);
            Files.write(tree.resolve(String.format("small-%03d", i)), contents);
        }
        for (int size : new int[] {DigestPipeline.BUFFER_SIZE - 1, DigestPipeline.BUFFER_SIZE,
                3 * DigestPipeline.BUFFER_SIZE + 5}) {
            byte[] contents = new byte[size];
            random.nextBytes(contents);
            Files.write(tree.resolve("large-" + size), contents);
        }
        return tree;
    }

    @Test
    void theDigestOfALargeTreeHashedOnASecondThreadEqualsTheHashOfItsBytes() throws IOException {
        Path tree = mixedTree();
        byte[] nar = dump(tree);
        NarDumper dumper = new NarDumper();
        NarDigest expected = new NarDigest("SHA-256", sha256().digest(nar), nar.length);
        for (int round = 0; round < 3; round++) {
            assertEquals(expected, dumper.digest(tree, sha256()), "round " + round + " with the same dumper");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(expected, dumper.dump(tree, out, sha256()));
        assertArrayEquals(nar, out.toByteArray(), "written out and hashed in the same pass");
        assertEquals(expected, new NarDumper(64).digest(tree, sha256()), "small buffer");
    }

    @Test
    void theDigestOfALargeTreeHashedInlineEqualsTheHashOfItsBytes() throws IOException {
        Path tree = mixedTree();
        byte[] nar = dump(tree);
        NarDigest expected = new NarDigest("SHA-256", sha256().digest(nar), nar.length);
        NarDumper dumper = new NarDumper();
        MessageDigest digest = sha256();
        for (int round = 0; round < 3; round++) {
            assertEquals(expected, dumper.digestInline(tree, digest), "round " + round + " with the same dumper");
        }
        assertArrayEquals(sha256().digest(), digest.digest(), "the digest is left reset");
        assertEquals(expected, dumper.digest(tree, sha256()), "the pipeline's path after the inline one");
        assertEquals(expected, new NarDumper(64).digestInline(tree, sha256()), "small buffer");
    }

    @Test
    void anInlineDigestThatFailsHalfwayLeavesTheDumperUsable() throws Exception {
        Path tree = mixedTree();
        NarDigest good = new NarDumper().digest(tree, sha256());
        Path fifo = tree.resolve("zz-fifo");
        run(dir, "mkfifo", fifo.toString());
        NarDumper dumper = new NarDumper();
        NarDumpException e = assertThrows(NarDumpException.class, () -> dumper.digestInline(tree, sha256()));
        assertEquals(fifo, e.path());
        Files.delete(fifo);
        assertEquals(good, dumper.digestInline(tree, sha256()));
    }

    @Test
    void aDumperStaysUsableAfterADigestFailsHalfway() throws Exception {
        Path tree = mixedTree();
        NarDigest good = new NarDumper().digest(tree, sha256());
        Path fifo = tree.resolve("zz-fifo"); // sorts after megabytes of contents
        run(dir, "mkfifo", fifo.toString());
        NarDumper dumper = new NarDumper();
        for (int round = 0; round < 20; round++) { // more rounds than the pipeline has buffers
            assertThrows(NarDumpException.class, () -> dumper.digest(tree, sha256()));
        }
        Files.delete(fifo);
        assertEquals(good, dumper.digest(tree, sha256()));
    }

    @Test
    void dumpingToAChannelGivesTheSameBytesAsToAStream() throws IOException {
        Path tree = mixedTree();
        Files.createSymbolicLink(tree.resolve("link"), Path.of("small-001"));
        setMode(tree.resolve("small-002"), 0755);
        Files.createFile(tree.resolve("empty"));
        byte[] expected = dump(tree);
        Path file = dir.resolve("out.nar");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            assertEquals(expected.length, new NarDumper().dump(tree, channel));
        }
        assertArrayEquals(expected, Files.readAllBytes(file));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (var channel = java.nio.channels.Channels.newChannel(out)) {
            assertEquals(expected.length, new NarDumper(64).dump(tree, channel), "a channel that is not a file");
        }
        assertArrayEquals(expected, out.toByteArray());
    }

    @Test
    void aFileThatShrinksWhileSentToAChannelIsAnError() throws IOException {
        Path file = Files.write(dir.resolve("shrinking"), new byte[1000]);
        Path nar = dir.resolve("out.nar");
        try (FileChannel channel = FileChannel.open(nar, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            java.nio.channels.WritableByteChannel truncating = new java.nio.channels.WritableByteChannel() {
                private boolean truncated;

                @Override
                public int write(java.nio.ByteBuffer src) throws IOException {
                    if (!truncated) {
                        truncated = true;
                        try (FileChannel f = FileChannel.open(file, StandardOpenOption.WRITE)) {
                            f.truncate(300);
                        }
                    }
                    return channel.write(src);
                }

                @Override
                public boolean isOpen() {
                    return true;
                }

                @Override
                public void close() {
                }
            };
            NarDumpException e = assertThrows(NarDumpException.class, () -> new NarDumper(64).dump(file, truncating));
            assertTrue(e.getMessage().contains("file changed while archiving"), e.getMessage());
        }
    }

    @Test
    void executableIffTheOwnerExecuteBitIsSetWhateverTheOtherBits() throws IOException {
        Path file = Files.writeString(dir.resolve("f"), "x");
        byte[] plain = NarBytes.file(false, bytes("x"));
        byte[] executable = NarBytes.file(true, bytes("x"));
        NarDumper dumper = new NarDumper();
        for (int mode = 0; mode <= 07777; mode++) {
            setMode(file, mode | 0400); // owner read, so that a non-root test can read it
            assertArrayEquals((mode & 0100) != 0 ? executable : plain, dump(dumper, file), String.format("mode %04o", mode));
        }
    }

    @Test
    void directoryModesDoNotReachTheNar() throws IOException {
        Path tree = Files.createDirectory(dir.resolve("tree"));
        Files.writeString(tree.resolve("f"), "x");
        byte[] before = dump(tree);
        for (int mode : new int[] {0500, 0555, 0700, 0755, 0777, 01777, 02755}) {
            setMode(tree, mode);
            assertArrayEquals(before, dump(tree), String.format("mode %04o", mode));
        }
        setMode(tree, 0755);
    }

    @Test
    void symlinksAreRecordedNotFollowed() throws IOException {
        Path tree = Files.createDirectory(dir.resolve("tree"));
        Files.createDirectory(tree.resolve("sub"));
        Files.writeString(tree.resolve("sub/inside"), "x");
        Files.createSymbolicLink(tree.resolve("absolute"), Path.of("/etc/passwd"));
        Files.createSymbolicLink(tree.resolve("dangling"), Path.of("no/such/file"));
        Files.createSymbolicLink(tree.resolve("relative"), Path.of("../tree/sub/inside"));
        Files.createSymbolicLink(tree.resolve("to-dir"), Path.of("sub"));
        TestTrees.symlink(tree.resolve("trailing-slash"), "sub//");
        assertEquals(List.of("{", "entry absolute", "symlink /etc/passwd", "entry dangling", "symlink no/such/file",
                "entry relative", "symlink ../tree/sub/inside", "entry sub", "{", "entry inside", "file 1 x", "}",
                "entry to-dir", "symlink sub", "entry trailing-slash", "symlink sub//", "}"), EventLog.of(dump(tree)));

        assertEquals(List.of("symlink sub"), EventLog.of(dump(tree.resolve("to-dir"))), "a symlink at the top");
    }

    @Test
    void emptyDirectoriesAndEmptyFiles() throws IOException {
        Path tree = Files.createDirectory(dir.resolve("tree"));
        Files.createDirectories(tree.resolve("a/b"));
        Files.createFile(tree.resolve("empty"));
        assertEquals(List.of("{", "entry a", "{", "entry b", "{", "}", "}", "entry empty", "file 0 ", "}"),
                EventLog.of(dump(tree)));
        assertArrayEquals(NarBytes.nar().strs("(", "type", "directory", ")").bytes(), dump(tree.resolve("a/b")));
    }

    @Test
    void entriesSortInUnsignedByteOrderNotUtf16Order() throws IOException {
        Path tree = Files.createDirectory(dir.resolve("tree"));
        // U+FB01 is EF AC 81 in UTF-8 and U+1F600 is F0 9F 98 80, but as UTF-16 the emoji (D83D) sorts first.
        for (String name : List.of("\uD83D\uDE00", "\uFB01", "\u00e9", "a", "B", "a\u0001", "~", "\u007f")) {
            Files.writeString(tree.resolve(name), name);
        }
        List<String> entries = EventLog.of(dump(tree)).stream().filter(e -> e.startsWith("entry ")).toList();
        assertEquals(List.of("entry B", "entry a", "entry a\u0001", "entry ~", "entry \u007f", "entry \u00e9",
                "entry \uFB01", "entry \uD83D\uDE00"), entries);
    }

    @Test
    void aFifoIsRefusedNamingIt() throws Exception {
        Path fifo = dir.resolve("tree/fifo");
        Files.createDirectory(fifo.getParent());
        run(dir, "mkfifo", fifo.toString());
        NarDumpException e = assertThrows(NarDumpException.class, () -> dump(fifo.getParent()));
        assertEquals(fifo, e.path());
        assertEquals(fifo + ": cannot archive a FIFO", e.getMessage());
        assertThrows(NarDumpException.class, () -> new NarDumper().digest(fifo, sha256()), "at the top");
    }

    @Test
    void aSocketIsRefusedNamingIt() throws IOException {
        Path socket = dir.resolve("socket");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            NarDumpException e = assertThrows(NarDumpException.class, () -> dump(dir));
            assertEquals(socket + ": cannot archive a socket", e.getMessage());
        }
    }

    @Test
    void aNameThatIsNotValidInTheJvmCharsetIsRefusedNotAltered() throws Exception {
        assumeTrue(FileNames.JNU.equals(UTF_8), "needs a UTF-8 sun.jnu.encoding");
        Path tree = Files.createDirectory(dir.resolve("tree"));
        run(tree, "sh", "-c", "printf x > \"$(printf 'bad\\377name')\"");
        NarDumpException e = assertThrows(NarDumpException.class, () -> dump(tree));
        assertTrue(e.getMessage().contains("file name is not valid UTF-8"), e.getMessage());
        assertTrue(e.getMessage().endsWith("(its bytes: " + tree.toUri().getRawPath() + "bad%FFname)"), e.getMessage());
    }

    @Test
    void aSymlinkTargetThatIsNotValidInTheJvmCharsetIsRefused() throws Exception {
        assumeTrue(FileNames.JNU.equals(UTF_8), "needs a UTF-8 sun.jnu.encoding");
        run(dir, "sh", "-c", "ln -s \"$(printf 'bad\\377target')\" link");
        NarDumpException e = assertThrows(NarDumpException.class, () -> dump(dir.resolve("link")));
        assertTrue(e.getMessage().contains("symlink target is not valid UTF-8"), e.getMessage());
        assertTrue(e.getMessage().endsWith("(its bytes: bad%FFtarget)"), e.getMessage());
    }

    @Test
    void namesThatContainU_FFFDThemselvesAreExact() throws IOException {
        Path tree = Files.createDirectory(dir.resolve("tree"));
        Files.writeString(tree.resolve("\uFFFD"), "");
        Files.createSymbolicLink(tree.resolve("link"), Path.of("\uFFFD"));
        assertEquals(List.of("{", "entry link", "symlink \uFFFD", "entry \uFFFD", "file 0 ", "}"), EventLog.of(dump(tree)));
    }

    @Test
    void aTreeAsDeepAsPathMaxAllowsOnASmallStack() throws Exception {
        Path tree = Files.createDirectory(dir.resolve("t"));
        Path deepest = tree;
        int depth = 0;
        while (deepest.toString().length() + 4 < 4095) {
            deepest = Files.createDirectory(deepest.resolve("d"));
            depth++;
        }
        Files.writeString(deepest.resolve("f"), "bottom");
        assertTrue(depth > 1900, "depth " + depth);

        byte[][] nar = new byte[1][];
        SmallStack.run(() -> nar[0] = dump(tree));
        List<String> events = EventLog.of(nar[0]);
        assertEquals(depth + 1, events.stream().filter("{"::equals).count());
        assertEquals("file 6 bottom", events.get(2 * depth + 2));
    }

    @Test
    void aFileThatGrowsWhileArchivedIsAnError() throws IOException {
        Path file = Files.write(dir.resolve("growing"), new byte[1000]);
        OutputStream appendOnFirstWrite = new ChangeOnFirstWrite(() -> Files.write(file, new byte[10], StandardOpenOption.APPEND));
        NarDumpException e = assertThrows(NarDumpException.class, () -> new NarDumper(64).dump(file, appendOnFirstWrite));
        assertEquals(file + ": file changed while archiving: it had 1000 bytes, then 1010", e.getMessage());
    }

    @Test
    void aFileThatShrinksWhileArchivedIsAnError() throws IOException {
        Path file = Files.write(dir.resolve("shrinking"), new byte[1000]);
        OutputStream truncateOnFirstWrite = new ChangeOnFirstWrite(() -> {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                channel.truncate(300);
            }
        });
        NarDumpException e = assertThrows(NarDumpException.class,
                () -> new NarDumper(64).dump(file, truncateOnFirstWrite));
        assertEquals(file + ": file changed while archiving: it had 1000 bytes, then 300", e.getMessage());
    }

    @Test
    void narDigestIsAValue() {
        byte[] hash = {1, 2, 3};
        NarDigest a = new NarDigest("SHA-256", hash, 7);
        hash[0] = 9;
        assertEquals(new NarDigest("SHA-256", new byte[] {1, 2, 3}, 7), a, "copied in");
        a.digest()[0] = 9;
        assertArrayEquals(new byte[] {1, 2, 3}, a.digest(), "copied out");
        assertEquals(new NarDigest("SHA-256", new byte[] {1, 2, 3}, 7).hashCode(), a.hashCode());
        assertNotEquals(new NarDigest("SHA-256", new byte[] {1, 2, 3}, 8), a);
        assertNotEquals(new NarDigest("SHA-512", new byte[] {1, 2, 3}, 7), a);
        assertEquals("SHA-256:010203 (7 bytes)", a.toString());
        assertThrows(IllegalArgumentException.class, () -> new NarDigest("SHA-256", hash, -1));
    }

    /**
     * An output stream that changes the file system once, when the dumper first drains its buffer: with a
     * 64-byte buffer and a file at the top, after the file's size was read and before its contents.
     */
    private static final class ChangeOnFirstWrite extends OutputStream {
        private final IoAction change;
        private boolean changed;

        ChangeOnFirstWrite(IoAction change) {
            this.change = change;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (!changed) {
                changed = true;
                change.run();
            }
        }
    }

    private interface IoAction {
        void run() throws IOException;
    }

    static byte[] dump(Path root) throws IOException {
        return dump(new NarDumper(), root);
    }

    private static byte[] dump(NarDumper dumper, Path root) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long size = dumper.dump(root, out);
        assertEquals(out.size(), size, "size returned by dump");
        return out.toByteArray();
    }

    private static void setMode(Path path, int mode) throws IOException {
        Files.setAttribute(path, "unix:mode", mode, LinkOption.NOFOLLOW_LINKS);
    }

    /** Runs a command in {@code directory}, which must succeed. */
    static void run(Path directory, String... command) throws Exception {
        Process process = new ProcessBuilder(command).directory(directory.toFile()).inheritIO().start();
        assertEquals(0, process.waitFor(), String.join(" ", command));
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(UTF_8);
    }
}
