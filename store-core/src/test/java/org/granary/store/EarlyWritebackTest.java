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
    void aFailedWritebackIsThrownOnceNamingTheFile() {
        assumeTrue(FileSystemSync.available(), "no syncfs here");
        Path missing = dir.resolve("gone");
        EarlyWriteback writeback = new EarlyWriteback(dir);
        IOException e = assertThrows(IOException.class, () -> {
            try (writeback) {
                writeback.written(missing, EarlyWriteback.LARGE_FILE);
                // The second thread fails on the missing file; wait until a call or close reports it.
                for (int i = 0; i < 1000; i++) {
                    writeback.written(dir, 0);
                    Thread.sleep(1);
                }
            }
        });
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }
}
