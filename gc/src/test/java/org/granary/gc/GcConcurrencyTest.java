package org.granary.gc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.granary.store.ChildJvm;
import org.granary.store.LocalStore;
import org.granary.store.StoreConfig;
import org.granary.store.StorePath;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Collectors running while another process adds items under its temporary roots and roots some of them
 * (permanently, directly or through indirect links): nothing rooted or temporarily rooted is ever deleted,
 * and the garbage it leaves behind is collected. {@value #CI_ROUNDS} rounds of the child by default, or
 * the system property {@code granary.gc.rounds}.
 */
class GcConcurrencyTest {
    private static final int CI_ROUNDS = 20;

    @TempDir
    Path root;

    @Test
    void nothingRootedOrTemporarilyRootedIsEverDeleted() throws Exception {
        int rounds = Integer.getInteger("granary.gc.rounds", CI_ROUNDS);
        StoreConfig config = StoreConfig.under(root);
        try (LocalStore init = LocalStore.open(config)) {
            init.addTextToStore("seed", "seed", List.of());
        }
        Path out = root.resolve("child.out");
        Path err = root.resolve("child.err");
        List<String> command = ChildJvm.command(RootingChild.class, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");
        command.addAll(List.of(root.toString(), Integer.toString(rounds), "4", "42"));
        Process child = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        long deleted = 0;
        int collections = 0;
        try (LocalStore store = LocalStore.open(config)) {
            GarbageCollector gc = new GarbageCollector(config, store.database(), GarbageCollector.Options.defaults());
            while (child.isAlive()) {
                deleted += gc.collect(Long.MAX_VALUE, GcProgress.NONE).deleted().size();
                collections++;
                // A pause, so that the child gets the GC lock between collections (as between daemons' runs).
                Thread.sleep(collections % 7);
            }
            assertTrue(child.waitFor(60, TimeUnit.SECONDS));
            String output = Files.readString(out);
            assertEquals(0, child.exitValue(), "child: " + output + Files.readString(err));
            assertTrue(output.endsWith("done\n"), output);
            deleted += gc.collect(Long.MAX_VALUE, GcProgress.NONE).deleted().size();
            List<String> rooted = output.lines().filter(l -> l.startsWith("rooted ")).map(l -> l.substring(7)).toList();
            for (String path : rooted) {
                assertTrue(store.isValidPath(StorePath.parse(path, "/gnu/store")), path + " was rooted but is gone");
            }
            assertTrue(deleted > 0, "the collectors deleted the unrooted items (" + collections + " collections)");
            assertEquals(List.of(), gc.listDead().paths(), "no garbage left");
            GcFixtures.assertSound(config, store.database(), "after " + collections + " collections");
            System.out.println(rounds + " rounds, " + collections + " collections, " + deleted + " deleted, "
                + rooted.size() + " rooted");
        }
    }
}
