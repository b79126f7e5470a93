package org.granary.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicExchangeTest {
    @TempDir
    Path tmp;

    @Test
    void theNativeExchangeIsAvailableWhereTheBuildMadeIt() {
        boolean built = AtomicExchange.class.getResource("native/libgranary-exchange.so") != null;
        assertEquals(built, AtomicExchange.available(), "the library was built but does not load");
    }

    @Test
    void twoDirectoriesSwapNames() throws IOException {
        Path item = Files.createDirectory(tmp.resolve("item"));
        Files.writeString(item.resolve("f"), "old");
        Path replacement = Files.createDirectory(tmp.resolve("replacement"));
        Files.writeString(replacement.resolve("f"), "new");
        assertEquals(AtomicExchange.available(), AtomicExchange.exchange(item, replacement));
        assertEquals("new", Files.readString(item.resolve("f")));
        assertEquals("old", Files.readString(replacement.resolve("f")));
    }

    @Test
    void aFileAndADirectorySwapToo() throws IOException {
        Path item = Files.writeString(tmp.resolve("item"), "a file");
        Path replacement = Files.createDirectory(tmp.resolve("replacement"));
        AtomicExchange.exchange(item, replacement);
        assertTrue(Files.isDirectory(item));
        assertEquals("a file", Files.readString(replacement));
    }

    @Test
    void aMissingEntryIsAnErrorAndTheOtherIsLeftAlone() throws IOException {
        Path item = Files.writeString(tmp.resolve("item"), "kept");
        assertThrows(IOException.class, () -> AtomicExchange.exchange(item, tmp.resolve("absent")));
        assertEquals("kept", Files.readString(item));
    }
}
