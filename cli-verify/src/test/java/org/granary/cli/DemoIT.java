package org.granary.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.granary.cli.LauncherIT.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/granary demo} as the README tells a newcomer to run it: the packaged jar, this machine's
 * documentation and JDK, a bare environment. It costs a few seconds (the JDK's {@code lib/} is some 200
 * MB of NAR, hashed four times and compressed once).
 */
class DemoIT {
    @TempDir
    Path tmp;

    @Test
    void theDemoRunsOnThisMachinesFilesAndEndsSound() throws Exception {
        Path dir = tmp.resolve("demo");
        Result demo = LauncherIT.granary(Map.of(), "demo", "--clean", dir.toString());
        String out = demo.out();
        assertEquals(0, demo.status(), out + demo.stderr());
        assertTrue(out.contains("-jdk-") && out.contains("-granary-demo-manifest"), out);
        assertTrue(out.contains("found both damaged items, and nothing else"), out);
        assertTrue(out.contains("the store is sound (after repair)"), out);
        assertTrue(out.contains("The damage was found and repaired: the store is sound."), out);
        assertFalse(Files.exists(dir), "--clean removed " + dir);
    }
}
