package org.granary.gc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.granary.store.ChildJvm;
import org.granary.store.LocalStore;
import org.granary.store.StoreConfig;
import org.granary.store.StoreDatabase;
import org.granary.store.StorePath;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A collector SIGKILLed in the middle of its work, {@value #CI_TRIALS} times on copies of one store (or
 * the system property {@code granary.gc.trials}): each time the store stays sound (closed under
 * references, every valid item on disk with its registered NAR hash and size, every live item valid), and
 * the next collection finishes the job (no garbage left, nothing but live items in the store dir).
 */
class GcCrashTest {
    private static final int CI_TRIALS = 20;
    /** Items in the store. */
    private static final int ITEMS = 48;

    @TempDir
    Path temp;

    @Test
    void aKilledCollectionLeavesASoundStoreThatTheNextOneFinishes() throws Exception {
        int trials = Integer.getInteger("granary.gc.trials", CI_TRIALS);
        Path template = temp.resolve("template");
        Set<String> live = build(template);
        int dead = ITEMS - live.size();
        Random random = new Random(7);
        int midway = 0;
        for (int trial = 0; trial < trials; trial++) {
            Path root = temp.resolve("trial-" + trial);
            Process cp = new ProcessBuilder("cp", "-a", template.toString(), root.toString()).inheritIO().start();
            assertEquals(0, cp.waitFor());
            Path out = root.resolve("child.out");
            List<String> command = ChildJvm.command(CollectingChild.class, "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC");
            command.add(root.toString());
            Process child = new ProcessBuilder(command)
                .redirectOutput(out.toFile()).redirectError(root.resolve("child.err").toFile()).start();
            // Killed once it has reported a random number of deletions (0: right after it starts collecting).
            int after = trial % 5 == 0 ? 0 : 1 + random.nextInt(dead - 1);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (child.isAlive() && System.nanoTime() < deadline) {
                List<String> lines = Files.readString(out).lines().toList();
                if (!lines.isEmpty() && lines.size() - 1 >= after) {
                    break;
                }
                Thread.onSpinWait();
            }
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            String output = Files.readString(out);
            long deleted = output.lines().filter(l -> l.startsWith("/")).count();
            midway += deleted > 0 && !output.contains("done") ? 1 : 0;
            check(root, live, "trial " + trial + " (killed after " + deleted + " deletions)");
        }
        System.out.println(trials + " kills, " + midway + " in the middle of the deletions");
    }

    /** {@link #ITEMS} items (text and trees in chains), a few rooted; returns the live paths. */
    private static Set<String> build(Path root) throws IOException {
        StoreConfig config = StoreConfig.under(root);
        Set<String> live = new TreeSet<>();
        Path source = Files.createDirectories(root.resolve("source/sub"));
        Files.writeString(source.resolve("file"), "contents");
        try (LocalStore store = LocalStore.open(config)) {
            List<StorePath> previous = new ArrayList<>();
            for (int i = 0; i < ITEMS; i++) {
                List<StorePath> references = previous.isEmpty() ? List.of() : List.of(previous.get(previous.size() - 1));
                StorePath path = i % 5 == 0
                    ? store.addToStore("tree-" + i, writeTree(root.resolve("source"), i), true,
                        org.granary.store.HashAlgorithm.SHA256, references)
                    : store.addTextToStore("item-" + i, "item " + i + " " + references, references);
                previous.add(path);
                if (i % 16 == 2) {
                    GcFixtures.root(config, "root-" + i, path);
                    live.addAll(store.queryRequisites(List.of(path)).stream().map(Object::toString).toList());
                }
                if (i % 16 == 15) {
                    previous.clear();
                }
            }
        }
        return live;
    }

    private static Path writeTree(Path source, int i) throws IOException {
        Files.writeString(source.resolve("sub/file"), "contents " + i);
        return source;
    }

    private static void check(Path root, Set<String> live, String trial) throws IOException {
        StoreConfig config = StoreConfig.under(root);
        try (StoreDatabase database = StoreDatabase.open(config.databaseDir(), "/gnu/store")) {
            GcFixtures.assertSound(config, database, trial);
            for (String path : live) {
                assertTrue(database.isValid(StorePath.parse(path, "/gnu/store")), trial + ": live " + path + " is gone");
            }
        }
        try (LocalStore store = LocalStore.open(config)) {
            GarbageCollector gc = new GarbageCollector(config, store.database(), GarbageCollector.Options.defaults());
            gc.collect(Long.MAX_VALUE, GcProgress.NONE);
            assertEquals(List.of(), gc.listDead().paths(), trial + ": garbage left after the next collection");
            assertEquals(live, new TreeSet<>(store.database().validPaths().stream().map(Object::toString).toList()),
                trial + ": valid after the next collection");
            GcFixtures.assertSound(config, store.database(), trial + ", after the next collection");
        }
        try (Stream<Path> entries = Files.list(config.physicalStoreDir())) {
            Set<String> names = new TreeSet<>(entries.map(p -> "/gnu/store/" + p.getFileName())
                .filter(n -> !n.endsWith(".links") && !n.endsWith(".lock")).toList());
            assertEquals(live, names, trial + ": the store dir holds the live items and nothing else");
        }
    }
}
