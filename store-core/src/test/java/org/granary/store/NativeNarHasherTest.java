package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;
import org.granary.nar.NarDigest;
import org.granary.nar.FileTrees;
import org.granary.nar.NarDumper;
import org.granary.nar.testing.TestTrees;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The native two-lane hasher gives, for every tree, the NAR hash and size that {@link NarDumper} gives
 * (itself checked against real Nix in the nar module), whatever the other lane holds; it says when the
 * metadata is not canonical, and gives up on what it does not handle so that Java can name the problem.
 */
class NativeNarHasherTest {
    @TempDir
    Path tmp;

    /**
     * Skips without the native hasher, except in CI on a CPU with the SHA extensions: there it must have
     * been built and loaded, or the verifier would silently fall back to the slower Java hashing.
     */
    private static void requireHasher() throws IOException {
        boolean shaNi = Files.isReadable(Path.of("/proc/cpuinfo"))
            && Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                .anyMatch(line -> line.startsWith("flags") && List.of(line.split("\\s+")).contains("sha_ni"));
        if ("true".equals(System.getenv("CI")) && shaNi) {
            assertTrue(NativeNarHasher.available(), "CI, a CPU with SHA-NI, and no native hasher: did gcc fail?");
        }
        assumeTrue(NativeNarHasher.available(), "no native hasher (no C compiler, or no SHA extensions)");
    }

    private static NarDigest java(Path tree) throws IOException {
        try {
            return new NarDumper().digest(tree, MessageDigest.getInstance("SHA-256"));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** Hashes the trees two at a time, refilling a lane as soon as it is done, in the given order. */
    private static List<NativeNarHasher.Outcome> hashAll(List<Path> trees) {
        List<NativeNarHasher.Outcome> outcomes = new ArrayList<>(trees.size());
        for (int i = 0; i < trees.size(); i++) {
            outcomes.add(null);
        }
        int[] held = {-1, -1};
        int next = 0;
        try (NativeNarHasher hasher = new NativeNarHasher()) {
            for (;;) {
                for (int lane = 0; lane < 2; lane++) {
                    if (held[lane] < 0 && next < trees.size()) {
                        held[lane] = next++;
                        hasher.start(lane, trees.get(held[lane]));
                    }
                }
                if (!hasher.anyBusy()) {
                    return outcomes;
                }
                int finished = hasher.run(Long.MAX_VALUE);
                for (int lane = 0; lane < 2; lane++) {
                    if ((finished & (1 << lane)) != 0) {
                        assertTrue(held[lane] >= 0, "lane " + lane + " finished without an item");
                        outcomes.set(held[lane], hasher.result(lane));
                        held[lane] = -1;
                    }
                }
            }
        }
    }

    private static void assertSameAsJava(Path tree, NativeNarHasher.Outcome outcome) throws IOException {
        NarDigest expected = java(tree);
        assertTrue(outcome.hashed(), tree + ": not hashed, reason " + outcome.reason());
        assertEquals(expected.narSize(), outcome.narSize(), tree + ": NAR size");
        assertArrayEquals(expected.digest(), outcome.digest(), tree + ": NAR hash");
    }

    @Test
    void everyStandardTreeHashesAsNarDumperDoesAloneAndBesideEveryOther() throws IOException {
        requireHasher();
        List<Path> trees = new ArrayList<>();
        for (TestTrees.Tree tree : TestTrees.standard(tmp)) {
            trees.add(tree.path());
        }
        // Alone: each tree in lane 0 with lane 1 idle.
        for (Path tree : trees) {
            assertSameAsJava(tree, hashAll(List.of(tree)).get(0));
        }
        // Paired: every tree beside every other, in both lanes, so that lanes end at every point of the other.
        List<Path> pairs = new ArrayList<>();
        for (Path a : trees) {
            for (Path b : trees) {
                pairs.add(a);
                pairs.add(b);
            }
        }
        List<NativeNarHasher.Outcome> outcomes = hashAll(pairs);
        for (int i = 0; i < pairs.size(); i++) {
            assertSameAsJava(pairs.get(i), outcomes.get(i));
        }
    }

    @Test
    void hashOfNarInlineIsHashOfNarForEveryTreeAndAlgorithm() throws IOException {
        for (TestTrees.Tree tree : TestTrees.standard(tmp)) {
            for (HashAlgorithm algorithm : HashAlgorithm.values()) {
                assertEquals(Hash.ofNar(tree.path(), algorithm), Hash.ofNarInline(tree.path(), algorithm),
                    tree + ", " + algorithm);
            }
        }
        // What the native side gives up on, Java does again, and it names the problem as ofNar does.
        NoSuchFileException missing = assertThrows(NoSuchFileException.class,
            () -> Hash.ofNarInline(tmp.resolve("missing"), HashAlgorithm.SHA256));
        assertEquals(tmp.resolve("missing").toString(), missing.getFile());
    }

    @Test
    void filesAroundTheBufferSizeAndALargeOneBesideSmallOnes() throws IOException {
        requireHasher();
        List<Path> trees = new ArrayList<>();
        Random random = new Random(7);
        // The C side's buffer is 128 KiB, of which up to 8 KiB is kept for framing and 64 bytes for a file's end;
        // files of 256 KiB or more are hashed from a mapping, in windows of 4 MiB.
        long[] sizes = {0, 1, 63, 64, 65, 131_008, 131_071, 131_072, 131_073, 122_880, 262_143, 262_144, 262_144 + 3,
            3_000_001, 4_194_303, 4_194_304, 4_194_305, 8_388_608 + 65};
        for (long size : sizes) {
            byte[] bytes = new byte[(int) size];
            random.nextBytes(bytes);
            trees.add(Files.write(tmp.resolve("file-" + size), bytes));
            Path dir = Files.createDirectories(tmp.resolve("dir-" + size + "/sub"));
            Files.write(dir.resolve("f"), bytes);
            Files.write(dir.resolveSibling("g"), bytes);
        }
        List<Path> all = new ArrayList<>(trees);
        for (long size : sizes) {
            all.add(tmp.resolve("dir-" + size));
        }
        List<NativeNarHasher.Outcome> outcomes = hashAll(all);
        for (int i = 0; i < all.size(); i++) {
            assertSameAsJava(all.get(i), outcomes.get(i));
        }
    }

    private Path propertyDir;

    @BeforeProperty
    void makePropertyDir() throws IOException {
        propertyDir = Files.createTempDirectory("granary-narhash");
    }

    @AfterProperty
    void removePropertyDir() throws IOException {
        FileTrees.deleteTree(propertyDir);
    }

    @Property(tries = 60)
    void randomTreesInPairsHashAsNarDumperDoes(@ForAll long seed) throws IOException {
        requireHasher();
        Random random = new Random(seed);
        Path first = randomTree(propertyDir.resolve("a"), random, 3);
        Path second = randomTree(propertyDir.resolve("b"), random, 3);
        List<NativeNarHasher.Outcome> outcomes = hashAll(List.of(first, second, second, first));
        assertSameAsJava(first, outcomes.get(0));
        assertSameAsJava(second, outcomes.get(1));
        assertSameAsJava(second, outcomes.get(2));
        assertSameAsJava(first, outcomes.get(3));
        FileTrees.deleteTree(first);
        FileTrees.deleteTree(second);
    }

    /** A random file, symlink or directory at {@code target}, file sizes spread over the buffer's size. */
    private static Path randomTree(Path target, Random random, int depth) throws IOException {
        int kind = depth == 0 ? random.nextInt(2) : random.nextInt(4);
        if (kind == 0) {
            int size = random.nextInt(8) == 0 ? 100_000 + random.nextInt(200_000) : random.nextInt(300);
            byte[] bytes = new byte[size];
            random.nextBytes(bytes);
            Files.write(target, bytes);
            if (random.nextBoolean()) {
                Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("r-xr-xr-x"));
            }
        } else if (kind == 1) {
            Files.createSymbolicLink(target, Path.of("x".repeat(1 + random.nextInt(300))));
        } else {
            Files.createDirectory(target);
            int entries = random.nextInt(6);
            for (int i = 0; i < entries; i++) {
                String name = Integer.toString(random.nextInt(1000), 36) + (random.nextBoolean() ? "é" : "");
                Path entry = target.resolve(name);
                if (!Files.exists(entry, LinkOption.NOFOLLOW_LINKS)) {
                    randomTree(entry, random, depth - 1);
                }
            }
        }
        return target;
    }

    @Test
    void aRunStopsAfterItsBudgetAndAnAbandonedLaneTakesTheNextItemAfresh() throws IOException {
        requireHasher();
        byte[] bytes = new byte[3_000_000];
        new Random(3).nextBytes(bytes);
        Path big = Files.write(tmp.resolve("big"), bytes);
        Path small = Files.writeString(tmp.resolve("small"), "small");
        try (NativeNarHasher hasher = new NativeNarHasher()) {
            hasher.start(0, big);
            assertEquals(0, hasher.run(256 * 1024), "3 MB do not fit in a budget of 256 KiB");
            assertTrue(hasher.busy(0));
            hasher.abandon(0);
            assertFalse(hasher.anyBusy());
            hasher.start(0, small);
            hasher.start(1, big);
            assertEquals(1, hasher.run(Long.MAX_VALUE) & 1);
            assertSameAsJava(small, hasher.result(0));
            while ((hasher.run(Long.MAX_VALUE) & 2) == 0) {
                assertTrue(hasher.busy(1));
            }
            assertSameAsJava(big, hasher.result(1));
        }
    }

    @Test
    void saysWhetherEveryEntryHasCanonicalModesAndTimes() throws IOException {
        requireHasher();
        Path tree = Files.createDirectories(tmp.resolve("tree/sub"));
        Files.writeString(tree.resolve("f"), "f");
        Files.createSymbolicLink(tree.resolve("link"), Path.of("f"));
        Path top = tmp.resolve("tree");
        Canonicaliser.keepingOwners().canonicalise(top);
        assertTrue(hashAll(List.of(top)).get(0).canonical());

        // Changing an entry's mode or mtime needs only its ownership, not a writable directory.
        Files.setLastModifiedTime(tree.resolve("f"), FileTime.fromMillis(2000));
        NativeNarHasher.Outcome changedTime = hashAll(List.of(top)).get(0);
        assertTrue(changedTime.hashed());
        assertFalse(changedTime.canonical(), "an mtime of 2 s");

        Files.setLastModifiedTime(tree.resolve("f"), Canonicaliser.CANONICAL_MTIME);
        assertTrue(hashAll(List.of(top)).get(0).canonical());
        Files.setPosixFilePermissions(tree.resolve("f"), PosixFilePermissions.fromString("r--r--r-x"));
        assertFalse(hashAll(List.of(top)).get(0).canonical(), "others may execute a non-executable file");
    }

    @Test
    void givesUpOnAMissingItemAndOnAFifoLeavingTheOtherLaneSound() throws IOException, InterruptedException {
        requireHasher();
        Path sound = Files.createDirectories(tmp.resolve("sound"));
        Files.write(sound.resolve("big"), new byte[500_000]);
        Path withFifo = Files.createDirectories(tmp.resolve("fifo"));
        Files.writeString(withFifo.resolve("a"), "a");
        Process mkfifo = new ProcessBuilder("mkfifo", withFifo.resolve("p").toString()).inheritIO().start();
        assertEquals(0, mkfifo.waitFor());
        List<NativeNarHasher.Outcome> outcomes = hashAll(List.of(sound, tmp.resolve("missing"), withFifo, sound));
        assertSameAsJava(sound, outcomes.get(0));
        assertFalse(outcomes.get(1).hashed());
        assertEquals(2, outcomes.get(1).reason(), "ENOENT");
        assertFalse(outcomes.get(2).hashed());
        assertSameAsJava(sound, outcomes.get(3));
    }

    @Test
    void aMappedFileThatShrinksBeforeItsNextWindowEndsItsLaneAlone() throws IOException {
        requireHasher();
        byte[] bytes = randomBytes(24 << 20);
        Path shrinking = tmp.resolve("shrinking");
        Path other = Files.write(tmp.resolve("other"), bytes);
        try (NativeNarHasher hasher = new NativeNarHasher()) {
            for (int trial = 0; trial < 2; trial++) {
                Files.write(shrinking, bytes);
                hasher.start(0, shrinking);
                // Alone, the lane stops at the end of its second 4 MiB window: the budget is met there.
                assertEquals(0, hasher.run(8 << 20), "trial " + trial);
                truncate(shrinking, 1 << 20);
                hasher.start(1, other);
                // Populating the next window, past the end of the file now, fails: that lane alone ends.
                assertEquals(1, hasher.run(Long.MAX_VALUE) & 1, "trial " + trial);
                assertFaulted(hasher.result(0), "trial " + trial);
                while (hasher.busy(1) && (hasher.run(Long.MAX_VALUE) & 2) == 0) {
                    assertTrue(hasher.busy(1));
                }
                assertSameAsJava(other, hasher.result(1));
            }
        }
    }

    @Test
    void aMappedFileThatShrinksWhileItsWindowIsHashedFaultsAndTheThreadTakesTheNextFaultAlike() throws IOException {
        requireHasher();
        byte[] bytes = randomBytes(24 << 20);
        Path shrinking = tmp.resolve("shrinking");
        // Beside a tree of 100 kB files (a buffer of 128 KiB at a time), the big file's window is hashed
        // 128 KiB at a time, so that the budget runs out in the middle of a window.
        Path small = Files.createDirectories(tmp.resolve("small"));
        byte[] hundredK = randomBytes(100_000);
        for (int i = 0; i < 120; i++) {
            Files.write(small.resolve("f" + i), hundredK);
        }
        try (NativeNarHasher hasher = new NativeNarHasher()) {
            // Twice: after the first fault the thread must take a second one the same way (the signal is
            // not left blocked).
            for (int trial = 0; trial < 2; trial++) {
                Files.write(shrinking, bytes);
                hasher.start(0, shrinking);
                hasher.start(1, small);
                // Read: the first window of 4 MiB, then 128 KiB of the tree at a time, each hashed beside as
                // much of the window, until 6 MiB: about half of the window is hashed.
                assertEquals(0, hasher.run(6 << 20), "trial " + trial);
                // The rest of the window is now past the end of the file: reading it faults.
                truncate(shrinking, 1 << 20);
                assertEquals(3, hasher.run(Long.MAX_VALUE), "trial " + trial + ": the fault ends both lanes");
                assertFaulted(hasher.result(0), "trial " + trial);
                assertFaulted(hasher.result(1), "trial " + trial + ": the other lane is read again in Java");
            }
            hasher.start(0, small);
            while ((hasher.run(Long.MAX_VALUE) & 1) == 0) {
                assertTrue(hasher.busy(0));
            }
            assertSameAsJava(small, hasher.result(0));
        }
    }

    /** The reason a lane gives when a read of a mapped file faulted (granary_narhash.c, enum reason). */
    private static final int FAULTED = -5;

    private static void assertFaulted(NativeNarHasher.Outcome outcome, String what) {
        assertFalse(outcome.hashed(), what);
        assertEquals(FAULTED, outcome.reason(), what + ": FAULTED");
    }

    private static byte[] randomBytes(int size) {
        byte[] bytes = new byte[size];
        new Random(size).nextBytes(bytes);
        return bytes;
    }

    private static void truncate(Path file, long size) throws IOException {
        try (var channel = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            channel.truncate(size);
        }
    }

    @Test
    void theJvmStillHandlesAFaultOfItsOwnMappedBuffers() throws IOException, InterruptedException {
        requireHasher();
        // The hasher's SIGBUS handler replaced the JVM's and must hand it every fault not its own.
        try (NativeNarHasher hasher = new NativeNarHasher()) {
            assertFalse(hasher.anyBusy());
        }
        Path file = Files.write(tmp.resolve("mapped"), new byte[1 << 20]);
        try (var channel = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.READ,
                java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.MappedByteBuffer mapped = channel.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, 0, 1 << 20);
            channel.truncate(4096);
            // From compiled code the JVM raises the error at the thread's next safepoint, hence the sleep.
            InternalError error = null;
            try {
                mapped.get((1 << 20) - 1);
                Thread.sleep(20);
            } catch (InternalError e) {
                error = e;
            }
            assertTrue(error != null && String.valueOf(error.getMessage()).contains("fault"),
                "the JVM's InternalError for a fault in a mapped buffer: " + error);
        }
    }
}
