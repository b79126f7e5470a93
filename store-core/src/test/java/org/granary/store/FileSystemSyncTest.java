package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileSystemSyncTest {
    @TempDir
    Path dir;

    @Test
    void isAvailableWhereTheLibraryIsBuiltAndTheKernelReportsWritebackErrors() {
        // The build compiles the library with gcc; CI machines have gcc and a recent kernel.
        assumeTrue(System.getenv("CI") != null || FileSystemSync.reportsWritebackErrors(), "an old kernel");
        assertEquals(FileSystemSync.reportsWritebackErrors(), FileSystemSync.available());
    }

    @Test
    void syncsAFileSystemAndStartsWritebackOfAFile() throws IOException {
        assumeTrue(FileSystemSync.available(), "no syncfs here");
        Path file = Files.write(dir.resolve("file"), new byte[1 << 20]);
        FileSystemSync.startWriteback(file);
        FileSystemSync.syncFileSystemOf(dir);
    }

    @Test
    void aMissingDirectoryOrFileIsAnErrorNamingIt() {
        assumeTrue(FileSystemSync.available(), "no syncfs here");
        Path missing = dir.resolve("missing");
        IOException e = assertThrows(IOException.class, () -> FileSystemSync.syncFileSystemOf(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        e = assertThrows(IOException.class, () -> FileSystemSync.startWriteback(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void aSymlinkToADirectoryIsNotFollowed() throws IOException {
        assumeTrue(FileSystemSync.available(), "no syncfs here");
        Path link = Files.createSymbolicLink(dir.resolve("link"), dir);
        assertThrows(IOException.class, () -> FileSystemSync.syncFileSystemOf(link));
    }
}
