package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReservedSpaceTest {
    @TempDir
    Path stateDir;

    @Test
    void ensureWritesZerosUpToTheSizeAndReleaseRemovesTheFile() throws Exception {
        ReservedSpace reserved = new ReservedSpace(stateDir, ReservedSpace.DEFAULT_SIZE);
        reserved.ensure();
        Path file = stateDir.resolve("db/reserved");
        assertEquals(file, reserved.file());
        assertEquals(8 * 1024 * 1024, Files.size(file));
        byte[] contents = Files.readAllBytes(file);
        for (byte x : contents) {
            if (x != 0) {
                throw new AssertionError("a non-zero byte");
            }
        }
        assertTrue(reserved.release());
        assertFalse(Files.exists(file));
        assertFalse(reserved.release());
    }

    @Test
    void aShortFileIsCompletedAndALongerOneKept() throws Exception {
        Files.createDirectories(stateDir.resolve("db"));
        Path file = stateDir.resolve("db/reserved");
        Files.write(file, new byte[100]);
        new ReservedSpace(stateDir, 100_000).ensure();
        assertEquals(100_000, Files.size(file));
        new ReservedSpace(stateDir, 10).ensure();
        assertEquals(100_000, Files.size(file));
    }

    @Test
    void theBlocksAreAllocatedNotSparse() throws Exception {
        ReservedSpace reserved = new ReservedSpace(stateDir, 1024 * 1024);
        reserved.ensure();
        ProcessBuilder du = new ProcessBuilder("stat", "-c", "%b %B", reserved.file().toString());
        String[] out = new String(du.start().getInputStream().readAllBytes()).trim().split(" ");
        assertTrue(Long.parseLong(out[0]) * Long.parseLong(out[1]) >= 1024 * 1024, String.join(" ", out));
    }

    @Test
    void aNegativeSizeIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ReservedSpace(stateDir, -1));
    }
}
