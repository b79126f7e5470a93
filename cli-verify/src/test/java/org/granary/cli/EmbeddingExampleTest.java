package org.granary.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import org.granary.nar.NarDigest;
import org.granary.nar.NarDumper;
import org.granary.nar.NarRestorer;
import org.granary.store.Hash;
import org.granary.store.HashAlgorithm;
import org.granary.store.HashFormat;
import org.granary.store.StoreDir;
import org.granary.store.StorePath;
import org.granary.store.StorePaths;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedding example of README.md, kept compiling and true. */
class EmbeddingExampleTest {
    @TempDir
    Path tmp;

    @Test
    void theReadmeExampleWorks() throws Exception {
        Path tree = Files.createDirectory(tmp.resolve("doc"));
        Files.writeString(tree.resolve("README"), "bash\n");

        Hash nar = Hash.ofNar(tree, HashAlgorithm.SHA256);
        StorePath path = new StorePaths(StoreDir.DEFAULT).source("bash-doc", nar, List.of(), false);
        assertEquals("bash-doc", path.name());

        Path file = tmp.resolve("bash-doc.nar");
        NarDigest digest;
        try (OutputStream out = Files.newOutputStream(file)) {
            digest = new NarDumper().dump(tree, out, MessageDigest.getInstance("SHA-256"));
        }
        assertEquals(nar.format(HashFormat.BASE16), java.util.HexFormat.of().formatHex(digest.digest()));
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            NarRestorer.restore(in, tmp.resolve("copy"));
        }
        assertEquals(nar, Hash.ofNar(tmp.resolve("copy"), HashAlgorithm.SHA256));
    }
}
