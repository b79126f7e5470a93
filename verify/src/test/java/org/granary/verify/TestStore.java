package org.granary.verify;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.granary.store.HashAlgorithm;
import org.granary.store.LocalStore;
import org.granary.store.StoreConfig;
import org.granary.store.StorePath;

/**
 * A small store under a temporary root, made through {@link LocalStore}: a text leaf, a text item that
 * refers to it, a tree (files of both modes, a subdirectory, a symlink) and a file of 300 kB. The same
 * calls give the same paths.
 */
final class TestStore {
    final Path root;
    final StoreConfig config;
    final Map<String, StorePath> items = new LinkedHashMap<>();

    private TestStore(Path root) {
        this.root = root;
        this.config = StoreConfig.under(root);
    }

    /** Makes the store under {@code root}; {@code scratch} holds the sources. */
    static TestStore create(Path root, Path scratch) throws IOException {
        TestStore store = new TestStore(root);
        Files.createDirectories(scratch);
        Path tree = Files.createDirectories(scratch.resolve("tree/sub"));
        Files.writeString(tree.resolveSibling("a"), "file a\n");
        Path exec = Files.writeString(tree.resolveSibling("run"), "#!/bin/sh\necho hi\n");
        Files.setPosixFilePermissions(exec, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(tree.resolve("b"), "file b in sub\n");
        Files.createSymbolicLink(tree.resolveSibling("link"), Path.of("a"));
        byte[] bytes = new byte[300_000];
        new Random(42).nextBytes(bytes);
        Path big = Files.write(scratch.resolve("big.bin"), bytes);
        try (LocalStore local = LocalStore.open(store.config)) {
            StorePath leaf = local.addTextToStore("leaf", "leaf text", List.of());
            store.items.put("leaf", leaf);
            store.items.put("user", local.addTextToStore("user", "uses " + leaf, List.of(leaf)));
            store.items.put("tree", local.addToStore("tree", scratch.resolve("tree"), true, HashAlgorithm.SHA256,
                List.of()));
            store.items.put("big", local.addToStore("big.bin", big, true, HashAlgorithm.SHA256, List.of()));
        }
        return store;
    }

    StorePath path(String name) {
        return items.get(name);
    }

    /** Where an item's files are. */
    Path physical(String name) {
        return config.storeDir().physicalPath(items.get(name));
    }

    /** Makes an item's directories writable so a test can damage it, as a person with root would. */
    void unlock(String name) throws IOException {
        Path top = physical(name);
        if (Files.isDirectory(top, NOFOLLOW_LINKS)) {
            try (var walk = Files.walk(top)) {
                for (Path p : walk.toList()) {
                    if (Files.isDirectory(p, NOFOLLOW_LINKS)) {
                        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
                    }
                }
            }
        }
    }

    StoreVerifier verifier() {
        return new StoreVerifier(config);
    }
}
