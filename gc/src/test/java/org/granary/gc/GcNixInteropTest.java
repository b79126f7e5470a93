package org.granary.gc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.granary.nar.testing.NixOracle;
import org.granary.store.LocalStore;
import org.granary.store.NixBase32;
import org.granary.store.SqliteImport;
import org.granary.store.StoreConfig;
import org.granary.store.StoreDir;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real Nix as the oracle of liveness and collection: random reference graphs of text items built by Nix
 * in a store under a temporary root, with direct, indirect and stale roots; a copy of that store imported
 * into Granary ({@code db import}); then Granary's dead and live sets must equal
 * {@code nix-store --gc --print-dead} and {@code --print-live}, and after collecting, the same items must
 * survive as after {@code nix-store --gc} on the original.
 *
 * <p>Graphs per run: {@value #CI_GRAPHS} by default (each item is one {@code nix-instantiate}), or the
 * system property {@code granary.gc.graphs}.
 */
class GcNixInteropTest {
    private static final int CI_GRAPHS = 2;
    private static final String STORE = NixOracle.STORE_DIR;

    @TempDir
    Path temp;

    @Test
    void deadLiveAndSurvivorsEqualNixs() throws Exception {
        NixOracle.assumeAvailable();
        int graphs = Integer.getInteger("granary.gc.graphs", CI_GRAPHS);
        for (int g = 0; g < graphs; g++) {
            compare(g, new Random(0x6c0ffee + g));
        }
    }

    private void compare(int g, Random random) throws Exception {
        Path dir = Files.createDirectories(temp.resolve("graph-" + g));
        NixOracle nix = NixOracle.open(dir.resolve("nix"));
        int items = 14 + random.nextInt(8);
        List<String> paths = new ArrayList<>();
        for (int i = 0; i < items; i++) {
            List<String> references = new ArrayList<>();
            for (String earlier : paths) {
                if (random.nextInt(4) == 0 && references.size() < 3) {
                    references.add(earlier);
                }
            }
            StringBuilder contents = new StringBuilder("graph " + g + " item " + i + " " + random.nextLong() + "\n");
            references.forEach(reference -> contents.append(reference).append('\n'));
            paths.add(nix.toFile("item-" + i, contents.toString(), references.toArray(String[]::new)));
        }
        Path gcroots = nix.stateDir().resolve("gcroots");
        Path auto = Files.createDirectories(gcroots.resolve("auto"));
        Path home = Files.createDirectories(dir.resolve("home"));
        // Direct roots, indirect roots through links outside the store, and stale roots of both kinds.
        for (int r = 0; r < 2; r++) {
            Files.createSymbolicLink(gcroots.resolve("direct-" + r), Path.of(paths.get(random.nextInt(items))));
        }
        for (int r = 0; r < 2; r++) {
            Path result = Files.createSymbolicLink(home.resolve("result-" + r), Path.of(paths.get(random.nextInt(items))));
            Files.createSymbolicLink(auto.resolve(autoName(result)), result);
        }
        Files.createSymbolicLink(auto.resolve(autoName(home.resolve("gone"))), home.resolve("gone"));
        Files.createSymbolicLink(gcroots.resolve("stale-direct"), Path.of(STORE + "/" + "0".repeat(32) + "-missing"));

        // Granary works on a copy, so that Nix's collection (and its removal of stale links) cannot touch it.
        Path copy = dir.resolve("copy");
        copyTree(nix.root(), copy);
        StoreConfig config = new StoreConfig(StoreDir.of(STORE, copy), "/var/guix", 0);
        SqliteImport.Contents contents = SqliteImport.read(copy.resolve("var/guix/db/db.sqlite"), STORE);
        try (LocalStore store = LocalStore.open(config)) {
            store.registerValidPaths(contents.paths(), contents.derivationOutputs());
            GarbageCollector gc = new GarbageCollector(config, store.database(), GarbageCollector.Options.defaults());
            String context = "graph " + g + " of " + items + " items";
            GcListing dead = gc.listDead();
            GcListing live = gc.listLive();
            assertEquals(lines(nix.nixStore("--gc", "--print-dead")), new TreeSet<>(dead.paths()), context + ": dead");
            assertEquals(lines(nix.nixStore("--gc", "--print-live")), new TreeSet<>(live.paths()), context + ": live");
            assertFalse(live.paths().isEmpty(), context + ": something is live");
            assertFalse(dead.paths().isEmpty(), context + ": something is dead");
            assertEquals(2, dead.staleRoots().size(), context + ": stale roots " + dead.staleRoots());

            nix.nixStore("--gc");
            GcResult result = gc.collect(Long.MAX_VALUE, GcProgress.NONE);
            assertEquals(new TreeSet<>(dead.paths()), new TreeSet<>(result.deleted()), context + ": deleted");
            assertEquals(entries(nix.realStoreDir()), entries(config.physicalStoreDir()), context + ": survivors");
            assertEquals(new TreeSet<>(live.paths()), new TreeSet<>(store.database().validPaths().stream()
                .map(Object::toString).toList()), context + ": valid after collecting");
            assertTrue(Files.isSymbolicLink(copy.resolve("var/guix/gcroots/auto").resolve(autoName(home.resolve("gone")))),
                context + ": the stale link is kept");
            GcFixtures.assertSound(config, store.database(), context);
        }
    }

    /** The name of an indirect root's link under gcroots/auto: nix-base32 of SHA-1 of the link's path. */
    private static String autoName(Path link) throws Exception {
        byte[] sha1 = MessageDigest.getInstance("SHA-1").digest(link.toString().getBytes(StandardCharsets.UTF_8));
        return NixBase32.encode(sha1);
    }

    private static Set<String> lines(String output) {
        Set<String> set = new TreeSet<>();
        for (String line : output.split("\n")) {
            if (!line.isBlank()) {
                set.add(line.strip());
            }
        }
        return set;
    }

    /** The items in a store dir (not .links, lock files or the trash). */
    private static Set<String> entries(Path storeDir) throws IOException {
        try (Stream<Path> list = Files.list(storeDir)) {
            return new TreeSet<>(list.map(p -> p.getFileName().toString())
                .filter(n -> !n.startsWith(".") && !n.endsWith(".lock") && !n.equals("trash")).toList());
        }
    }

    private static void copyTree(Path from, Path to) throws IOException, InterruptedException {
        Process cp = new ProcessBuilder("cp", "-a", from.toString(), to.toString()).inheritIO().start();
        assertEquals(0, cp.waitFor(), "cp -a " + from + " " + to);
    }
}
