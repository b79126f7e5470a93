package org.granary.gc;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.granary.store.LocalStore;
import org.granary.store.StoreConfig;
import org.granary.store.StorePath;

/**
 * Run in a child JVM by {@link GcConcurrencyTest}, next to collectors: round after round it opens the
 * store, adds text items (under its temporary roots, some referring to items rooted in earlier rounds),
 * roots about half of them (a direct link under gcroots/, or an indirect one through a link outside the
 * store), waits a little while collectors run, checks that every item of the round and every item ever
 * rooted is still valid and on disk, and closes the store (its temporary roots go). A lost item is printed
 * as {@code LOST PATH} and ends the JVM with status 3.
 *
 * <p>Arguments: {@code ROOT ROUNDS ITEMS SEED}. Prints {@code rooted PATH} for each root and {@code done}.
 */
public final class RootingChild {
    private RootingChild() {
    }

    /**
     * Entry point.
     *
     * @param args root, rounds, items per round, seed
     * @throws Exception on any failure (a non-zero status)
     */
    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]);
        int rounds = Integer.parseInt(args[1]);
        int items = Integer.parseInt(args[2]);
        Random random = new Random(Long.parseLong(args[3]));
        StoreConfig config = StoreConfig.under(root);
        Path home = Files.createDirectories(root.resolve("home"));
        List<StorePath> rooted = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            List<StorePath> added = new ArrayList<>();
            try (LocalStore store = LocalStore.open(config)) {
                for (int i = 0; i < items; i++) {
                    List<StorePath> references = new ArrayList<>();
                    if (!rooted.isEmpty() && random.nextBoolean()) {
                        references.add(rooted.get(random.nextInt(rooted.size())));
                    }
                    String text = "round " + round + " item " + i + " " + random.nextLong() + " " + references;
                    StorePath path = store.addTextToStore("r" + round + "-" + i, text, references);
                    added.add(path);
                    if (random.nextBoolean()) {
                        String name = "child-" + round + "-" + i;
                        if (random.nextBoolean()) {
                            GcFixtures.root(config, name, path);
                        } else {
                            Path result = Files.createSymbolicLink(home.resolve(name), Path.of(path.toString()));
                            Files.createSymbolicLink(config.physicalStateDir().resolve("gcroots/auto/" + name), result);
                        }
                        rooted.add(path);
                        System.out.println("rooted " + path);
                    }
                    Thread.sleep(random.nextInt(3));
                }
                Thread.sleep(5 + random.nextInt(15));
                List<StorePath> expected = new ArrayList<>(added);
                expected.addAll(rooted);
                for (StorePath path : expected) {
                    if (!store.isValidPath(path) || !Files.exists(config.storeDir().physicalPath(path), NOFOLLOW_LINKS)) {
                        System.out.println("LOST " + path);
                        System.out.flush();
                        System.exit(3);
                    }
                }
            }
        }
        System.out.println("done");
    }
}
