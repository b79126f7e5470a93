package org.granary.gc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.granary.store.Hash;
import org.granary.store.HashAlgorithm;
import org.granary.store.HashFormat;
import org.granary.store.LocalStore;
import org.granary.store.StoreConfig;
import org.granary.store.StorePath;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OptimiserTest {
    @TempDir
    Path root;

    private StoreConfig config() {
        return StoreConfig.under(root);
    }

    private static Object inode(Path file) throws IOException {
        return Files.getAttribute(file, "unix:ino");
    }

    private StorePath addTree(LocalStore store, String name, byte[] big, byte[] small, boolean executable)
            throws IOException {
        Path source = root.resolve("src-" + name);
        Files.createDirectories(source.resolve("lib"));
        Files.write(source.resolve("lib/big"), big);
        Files.write(source.resolve("small"), small);
        Files.writeString(source.resolve("own"), name);
        if (executable) {
            Files.setPosixFilePermissions(source.resolve("lib/big"), PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        return store.addToStore(name, source, true, HashAlgorithm.SHA256, List.of());
    }

    @Test
    void identicalFilesOfAtLeast8KiBAreLinkedThroughLinksAndTheCollectorDropsUnusedLinks() throws IOException {
        byte[] big = new byte[10_000];
        new Random(1).nextBytes(big);
        byte[] small = new byte[8191];
        StorePath a;
        StorePath b;
        StorePath c;
        try (LocalStore store = LocalStore.open(config())) {
            a = addTree(store, "a", big, small, false);
            b = addTree(store, "b", big, small, false);
            c = addTree(store, "c", big, small, true);
        }
        Path storeDir = config().physicalStoreDir();
        try (LocalStore store = LocalStore.open(config())) {
            Optimiser.Result result = new Optimiser(config(), store.database()).optimise(GcProgress.NONE);
            assertEquals(1, result.filesLinked(), result.toString());
            assertEquals(10_000, result.bytesSaved());
            Path bigA = storeDir.resolve(a.baseName()).resolve("lib/big");
            Path bigB = storeDir.resolve(b.baseName()).resolve("lib/big");
            Path bigC = storeDir.resolve(c.baseName()).resolve("lib/big");
            assertEquals(inode(bigA), inode(bigB));
            assertNotEquals(inode(bigA), inode(bigC), "an executable copy has another NAR, so another link");
            assertNotEquals(inode(storeDir.resolve(a.baseName()).resolve("small")),
                inode(storeDir.resolve(b.baseName()).resolve("small")), "files under 8 KiB are not linked");
            Path link = storeDir.resolve(".links").resolve(Hash.ofNar(bigA, HashAlgorithm.SHA256).format(HashFormat.BASE32));
            assertEquals(inode(bigA), inode(link));
            assertEquals(2, linkCount(storeDir), "one entry per distinct big file");
            GcFixtures.assertSound(config(), store.database(), "after optimising");
            assertEquals(0, new Optimiser(config(), store.database()).optimise(GcProgress.NONE).filesLinked(),
                "a second pass links nothing more");

            GarbageCollector gc = new GarbageCollector(config(), store.database(), GarbageCollector.Options.defaults());
            GcFixtures.root(config(), "b", b);
            GcResult first = gc.collect(Long.MAX_VALUE, GcProgress.NONE);
            assertEquals(1, first.unusedLinksRemoved(), "c's entry is used by nothing else any more");
            assertTrue(Files.exists(link), "b still uses a's contents");
            Files.delete(config().physicalStateDir().resolve("gcroots/b"));
            GcResult second = gc.collect(Long.MAX_VALUE, GcProgress.NONE);
            assertEquals(1, second.unusedLinksRemoved());
            assertFalse(Files.exists(link));
            assertEquals(0, linkCount(storeDir));
        }
    }

    private static long linkCount(Path storeDir) throws IOException {
        try (Stream<Path> links = Files.list(storeDir.resolve(".links"))) {
            return links.count();
        }
    }
}
