package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EarlyWritebackTest {
    @TempDir
    Path dir;

    @Test
    void writesBackLargeFilesAndSyncsAfterEnoughBytesWithoutError() throws IOException {
        assumeTrue(FileSystemSync.available(), "no syncfs here");
        try (EarlyWriteback writeback = new EarlyWriteback(dir, 100_000)) {
            for (int i = 0; i < 20; i++) {
                Path small = Files.write(dir.resolve("small-" + i), new byte[10_000]);
                writeback.written(small, 10_000);
            }
            Path large = Files.write(dir.resolve("large"), new byte[(int) EarlyWriteback.LARGE_FILE]);
            writeback.written(large, EarlyWriteback.LARGE_FILE);
        }
    }

    @Test
    void aLargeFileRenamedOrDeletedBeforeItsWritebackIsLeftToTheFinalSync() throws Exception {
        assumeTrue(FileSystemSync.available(), "no syncfs here");
        // As when the copy's temporary tree is renamed into place while the thread is behind.
        try (EarlyWriteback writeback = new EarlyWriteback(dir)) {
            writeback.written(dir.resolve("renamed-away"), EarlyWriteback.LARGE_FILE);
            for (int i = 0; i < 50; i++) {
                writeback.written(dir, 0); // would throw, once the thread has come to the file, if it failed
                Thread.sleep(1);
            }
        }
    }

    @Test
    void aFailedSyncIsThrownOnceNamingTheDirectory() {
        assumeTrue(FileSystemSync.available(), "no syncfs here");
        Path missing = dir.resolve("gone");
        EarlyWriteback writeback = new EarlyWriteback(missing, 1);
        IOException e = assertThrows(IOException.class, () -> {
            try (writeback) {
                // The second thread's sync fails; a later call, or close, reports it (once: the
                // try-with-resources would fail if close threw the same exception again).
                for (int i = 0; i < 1000; i++) {
                    writeback.written(dir, 1);
                    Thread.sleep(1);
                }
            }
        });
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }
}
