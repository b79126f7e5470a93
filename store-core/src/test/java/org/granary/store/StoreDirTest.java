package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class StoreDirTest {
    private static final StorePath HELLO =
        StorePath.parse("/gnu/store/mai503rgk7jq72577x5iwgyc5izfvp9i-hello.txt", "/gnu/store");

    @Test
    void theDefaultIsGnuStoreUnderTheRoot() {
        assertEquals("/gnu/store", StoreDir.DEFAULT.logical());
        assertEquals(Path.of("/"), StoreDir.DEFAULT.root());
        assertEquals(Path.of("/gnu/store/mai503rgk7jq72577x5iwgyc5izfvp9i-hello.txt"),
            StoreDir.DEFAULT.physicalPath(HELLO));
    }

    @Test
    void aPhysicalPathIsTheLogicalPathUnderTheRoot() {
        StoreDir dir = StoreDir.of("/gnu/store", Path.of("/tmp/t/root"));
        assertEquals(Path.of("/tmp/t/root/gnu/store/mai503rgk7jq72577x5iwgyc5izfvp9i-hello.txt"),
            dir.physicalPath(HELLO));
    }

    @Test
    void aPathOfAnotherStoreDirHasNoPhysicalPathHere() {
        StoreDir nix = StoreDir.of("/nix/store", Path.of("/"));
        assertEquals("store path " + HELLO + " is not in store dir /nix/store",
            assertThrows(IllegalArgumentException.class, () -> nix.physicalPath(HELLO)).getMessage());
    }

    @Test
    void theLogicalDirMustBeAbsoluteAndCanonical() {
        assertEquals("invalid store dir \"gnu/store\": not absolute", rejection("gnu/store"));
        assertEquals("invalid store dir \"\": not absolute", rejection(""));
        assertEquals("invalid store dir \"/\": the root directory cannot be a store dir", rejection("/"));
        assertEquals("invalid store dir \"/gnu/store/\": trailing '/'", rejection("/gnu/store/"));
        assertEquals("invalid store dir \"/gnu//store\": not canonical (component \"\")", rejection("/gnu//store"));
        assertEquals("invalid store dir \"/gnu/./store\": not canonical (component \".\")", rejection("/gnu/./store"));
        assertEquals("invalid store dir \"/gnu/../store\": not canonical (component \"..\")",
            rejection("/gnu/../store"));
        assertEquals("invalid store dir \"/gnu\0\": contains NUL", rejection("/gnu\0"));
        assertThrows(NullPointerException.class, () -> StoreDir.of("/gnu/store", null));
    }

    private static String rejection(String logical) {
        return assertThrows(IllegalArgumentException.class, () -> StoreDir.of(logical, Path.of("/"))).getMessage();
    }
}
