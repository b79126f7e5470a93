package org.granary.store;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Optional;
import org.granary.store.Canonicaliser.Aspect;
import org.granary.store.Canonicaliser.Deviation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CanonicaliserTest {
    private static final FileTime OLD = FileTime.from(Instant.parse("2020-01-01T00:00:00Z"));
    private static final int NOBODY = 65534;

    @TempDir
    Path dir;

    private final Canonicaliser canonicaliser = Canonicaliser.keepingOwners();

    @Test
    void directoriesAndExecutablesBecome0555AndOtherFiles0444WithMtimeOne() throws IOException {
        Path item = Files.createDirectory(dir.resolve("item"));
        Path file = write(item.resolve("file"), 0644);
        Path executable = write(item.resolve("exe"), 0755);
        Path ownerOnly = write(item.resolve("owner-only"), 0600);
        Path ownerExecutable = write(item.resolve("owner-exe"), 0700);
        Path groupExecutable = write(item.resolve("group-exe"), 0654);
        Path sub = Files.createDirectory(item.resolve("sub"));
        setMode(sub, 0700);
        Path link = Files.createSymbolicLink(sub.resolve("link"), Path.of("../file"));

        canonicaliser.canonicalise(item);

        assertEquals(0555, mode(item));
        assertEquals(0555, mode(sub));
        assertEquals(0444, mode(file));
        assertEquals(0555, mode(executable));
        assertEquals(0444, mode(ownerOnly));
        assertEquals(0555, mode(ownerExecutable));
        assertEquals(0444, mode(groupExecutable), "only the owner's x bit makes an executable");
        for (Path path : new Path[] {item, file, executable, ownerOnly, ownerExecutable, groupExecutable, sub, link}) {
            assertEquals(Canonicaliser.CANONICAL_MTIME, mtime(path), path.toString());
        }
        assertEquals(Optional.empty(), canonicaliser.firstDeviation(item));
    }

    @Test
    void setuidSetgidAndStickyBitsAreCleared() throws IOException {
        Path item = Files.createDirectory(dir.resolve("item"));
        Path setuid = write(item.resolve("setuid"), 04755);
        Path setgid = write(item.resolve("setgid"), 02644);
        Path sticky = Files.createDirectory(item.resolve("sticky"));
        setMode(sticky, 01777);
        Path setgidDirectory = Files.createDirectory(item.resolve("setgid-dir"));
        setMode(setgidDirectory, 02755);
        assertEquals(04755, mode(setuid), "the test's own setup");

        canonicaliser.canonicalise(item);

        assertEquals(0555, mode(setuid));
        assertEquals(0444, mode(setgid));
        assertEquals(0555, mode(sticky));
        assertEquals(0555, mode(setgidDirectory));
    }

    @Test
    void aSymlinkGetsMtimeOneButItsTargetOutsideTheItemIsNotTouched() throws IOException {
        Path outside = write(dir.resolve("outside"), 0640);
        Path outsideDirectory = Files.createDirectory(dir.resolve("outside-dir"));
        setMode(outsideDirectory, 0750);
        Files.setLastModifiedTime(outsideDirectory, OLD);
        Path item = Files.createDirectory(dir.resolve("item"));
        Path link = Files.createSymbolicLink(item.resolve("to-file"), outside);
        Path directoryLink = Files.createSymbolicLink(item.resolve("to-dir"), outsideDirectory);
        Path dangling = Files.createSymbolicLink(item.resolve("dangling"), dir.resolve("nothing"));

        canonicaliser.canonicalise(item);

        assertEquals(Canonicaliser.CANONICAL_MTIME, mtime(link));
        assertEquals(Canonicaliser.CANONICAL_MTIME, mtime(directoryLink));
        assertEquals(Canonicaliser.CANONICAL_MTIME, mtime(dangling));
        assertEquals(0640, mode(outside));
        assertEquals(OLD, mtime(outside));
        assertEquals(0750, mode(outsideDirectory));
        assertEquals(OLD, mtime(outsideDirectory));
        assertTrue(Files.notExists(dir.resolve("nothing"), NOFOLLOW_LINKS));
    }

    @Test
    void aTopLevelSymlinkOrFileIsAnItemToo() throws IOException {
        Path outside = write(dir.resolve("outside"), 0600);
        Path link = Files.createSymbolicLink(dir.resolve("link-item"), outside);
        Path file = write(dir.resolve("file-item"), 0755);

        canonicaliser.canonicalise(link);
        canonicaliser.canonicalise(file);

        assertEquals(Canonicaliser.CANONICAL_MTIME, mtime(link));
        assertEquals(OLD, mtime(outside));
        assertEquals(0600, mode(outside));
        assertEquals(0555, mode(file));
        assertEquals(Canonicaliser.CANONICAL_MTIME, mtime(file));
    }

    @Test
    void asRootOwnersAreSetWithLchownLeavingSymlinkTargetsAlone() throws IOException {
        assumeTrue(uid(dir) == 0, "changing owners needs root");
        Path outside = write(dir.resolve("outside"), 0644);
        Path item = Files.createDirectory(dir.resolve("item"));
        Path file = write(item.resolve("file"), 0644);
        Path link = Files.createSymbolicLink(item.resolve("link"), outside);

        Canonicaliser.withOwner(NOBODY, NOBODY).canonicalise(item);

        for (Path path : new Path[] {item, file, link}) {
            assertEquals(NOBODY, uid(path), path.toString());
            assertEquals(NOBODY, Files.getAttribute(path, "unix:gid", NOFOLLOW_LINKS), path.toString());
        }
        assertEquals(0, uid(outside));
        assertEquals(Optional.of(new Deviation(item, Aspect.OWNER, "0:0", NOBODY + ":" + NOBODY)),
                Canonicaliser.withOwner(0, 0).firstDeviation(item));

        Canonicaliser.forThisProcess().canonicalise(item);

        assertEquals(0, uid(item));
        assertEquals(0, uid(link));
        assertEquals(Optional.empty(), Canonicaliser.withOwner(0, 0).firstDeviation(item));
    }

    @Test
    void aFifoIsRefusedByName() throws IOException, InterruptedException {
        Path item = Files.createDirectory(dir.resolve("item"));
        write(item.resolve("a"), 0644);
        Path fifo = item.resolve("b-fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());

        UnsupportedFileTypeException e =
                assertThrows(UnsupportedFileTypeException.class, () -> canonicaliser.canonicalise(item));

        assertEquals(fifo, e.path());
        assertEquals("file `" + fifo + "' has an unsupported type (fifo)", e.getMessage());
        assertEquals(Optional.of(new Deviation(fifo, Aspect.TYPE, "regular file, directory or symlink", "fifo")),
                canonicaliser.firstDeviation(item));
    }

    @Test
    void firstDeviationReportsWithoutChangingAnything() throws IOException {
        Path item = Files.createDirectory(dir.resolve("item"));
        Path sub = Files.createDirectory(item.resolve("sub"));
        Path file = write(sub.resolve("file"), 0644);
        Path later = write(sub.resolve("later"), 0644);
        canonicaliser.canonicalise(item);

        Files.setLastModifiedTime(file, OLD);
        setMode(later, 0644);

        assertEquals(Optional.of(new Deviation(file, Aspect.MTIME, "1970-01-01T00:00:01Z", "2020-01-01T00:00:00Z")),
                canonicaliser.firstDeviation(item));
        assertEquals(OLD, mtime(file));
        Files.setLastModifiedTime(file, Canonicaliser.CANONICAL_MTIME);
        assertEquals(Optional.of(new Deviation(later, Aspect.MODE, "0444", "0644")), canonicaliser.firstDeviation(item));
        assertEquals(0644, mode(later));
        setMode(sub, 0755);
        assertEquals(Optional.of(new Deviation(sub, Aspect.MODE, "0555", "0755")), canonicaliser.firstDeviation(item));
        assertEquals(sub + ": mode is 0755, expected 0555", canonicaliser.firstDeviation(item).orElseThrow().toString());
    }

    @Test
    void aDeepTreeIsWalkedWithoutRecursionOnASmallStack() throws Exception {
        Path item = Files.createDirectory(dir.resolve("item"));
        Path deepest = item;
        for (int i = 0; i < 600; i++) {
            deepest = deepest.resolve("d");
        }
        Files.createDirectories(deepest);
        Path file = write(deepest.resolve("f"), 0755);
        Throwable[] failure = new Throwable[1];
        Thread walker = new Thread(null, () -> {
            try {
                canonicaliser.canonicalise(item);
            } catch (Throwable e) {
                failure[0] = e;
            }
        }, "small-stack", 192 * 1024);
        walker.start();
        walker.join();
        if (failure[0] != null) {
            throw new AssertionError(failure[0]);
        }

        assertEquals(0555, mode(file));
        assertEquals(0555, mode(deepest));
        assertEquals(Canonicaliser.CANONICAL_MTIME, mtime(deepest));
        assertEquals(Optional.empty(), canonicaliser.firstDeviation(item));
    }

    @Test
    void syncTreeFlushesReadOnlyFilesAndDirectoriesAndSkipsSymlinks() throws IOException {
        Path item = Files.createDirectory(dir.resolve("item"));
        write(item.resolve("file"), 0644);
        Files.createSymbolicLink(item.resolve("dangling"), dir.resolve("nothing"));
        Files.createSymbolicLink(item.resolve("to-fifo-dir"), dir);
        canonicaliser.canonicalise(item);

        Canonicaliser.syncTree(item);
        Canonicaliser.syncDirectory(dir);

        assertEquals(Optional.empty(), canonicaliser.firstDeviation(item));
    }

    private static Path write(Path path, int mode) throws IOException {
        Files.writeString(path, path.getFileName().toString());
        setMode(path, mode);
        Files.setLastModifiedTime(path, OLD);
        return path;
    }

    private static void setMode(Path path, int mode) throws IOException {
        Files.setAttribute(path, "unix:mode", mode, NOFOLLOW_LINKS);
    }

    private static int mode(Path path) throws IOException {
        return (Integer) Files.getAttribute(path, "unix:mode", NOFOLLOW_LINKS) & 07777;
    }

    private static int uid(Path path) throws IOException {
        return (Integer) Files.getAttribute(path, "unix:uid", NOFOLLOW_LINKS);
    }

    private static FileTime mtime(Path path) throws IOException {
        return Files.getLastModifiedTime(path, NOFOLLOW_LINKS);
    }
}
