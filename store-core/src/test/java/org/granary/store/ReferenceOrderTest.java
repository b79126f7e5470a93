package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.granary.nar.FileTrees;

/**
 * The order of {@code nix-store -q} and {@code --export} ({@link ReferenceOrder}), against a transcription
 * of Nix's {@code topoSort} (recursive, reversed at the end, then printed backwards), and through the
 * database: one walk of a closure gives the same order as ordering the closure afterwards.
 */
class ReferenceOrderTest {
    /** Random DAGs: path i refers to some paths of lower index, itself now and then. */
    static List<SortedSet<Integer>> graph(int size, long seed) {
        Random random = new Random(seed);
        List<SortedSet<Integer>> references = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            SortedSet<Integer> refs = new TreeSet<>();
            int wanted = i == 0 ? 0 : random.nextInt(Math.min(i, 6) + 1);
            while (refs.size() < wanted) {
                refs.add(random.nextInt(i));
            }
            if (random.nextInt(8) == 0) {
                refs.add(i);
            }
            references.add(refs);
        }
        return references;
    }

    /**
     * Nix's topoSortPaths over {@code members} (paths of the graph {@code paths}, {@code references}), as
     * nix-store -q prints it (the sorted result backwards).
     */
    static List<StorePath> nixOrder(Set<StorePath> members, List<StorePath> paths, List<SortedSet<Integer>> references) {
        SortedSet<StorePath> items = new TreeSet<>(members);
        List<StorePath> sorted = new ArrayList<>();
        Set<StorePath> visited = new HashSet<>();
        for (StorePath path : items) {
            visit(path, paths, references, items, visited, sorted);
        }
        // topoSort reverses its post-order; nix-store -q prints that backwards: the post-order itself.
        return sorted;
    }

    private static void visit(StorePath path, List<StorePath> paths, List<SortedSet<Integer>> references,
            SortedSet<StorePath> items, Set<StorePath> visited, List<StorePath> sorted) {
        if (!visited.add(path)) {
            return;
        }
        SortedSet<StorePath> children = new TreeSet<>();
        for (int r : references.get(paths.indexOf(path))) {
            children.add(paths.get(r));
        }
        for (StorePath child : children) {
            if (!child.equals(path) && items.contains(child)) {
                visit(child, paths, references, items, visited, sorted);
            }
        }
        sorted.add(path);
    }

    private static List<StorePath> paths(int size) {
        List<StorePath> paths = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            paths.add(DbFixtures.path(i));
        }
        return paths;
    }

    @Property(tries = 200)
    void theOrderIsNixs(@ForAll @IntRange(min = 0, max = 60) int size, @ForAll long seed) {
        List<StorePath> paths = paths(size);
        List<SortedSet<Integer>> references = graph(size, seed);
        ReferenceOrder order = new ReferenceOrder();
        // Numbered in a shuffled order, as a walk numbers them in order of arrival.
        List<Integer> numbering = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            numbering.add(i);
        }
        java.util.Collections.shuffle(numbering, new Random(seed));
        List<StorePath> numbered = new ArrayList<>();
        int[] numberOf = new int[size];
        for (int n = 0; n < size; n++) {
            numbered.add(paths.get(numbering.get(n)));
            numberOf[numbering.get(n)] = n;
        }
        for (int i = 0; i < size; i++) {
            for (int r : references.get(i)) {
                order.refersTo(numberOf[i], numberOf[r]);
            }
        }
        assertEquals(nixOrder(new HashSet<>(paths), paths, references), order.order(numbered));
    }

    @Property(tries = 30)
    void theDatabaseOrdersAClosureAsNixWhetherWalkedOrGiven(@ForAll @IntRange(min = 1, max = 40) int size,
            @ForAll long seed) throws IOException {
        Path dir = Files.createTempDirectory("granary-order-"); // jqwik has no @TempDir
        try {
            checkTheDatabaseOrder(size, seed, dir.resolve("db"));
        } finally {
            FileTrees.deleteTree(dir);
        }
    }

    private static void checkTheDatabaseOrder(int size, long seed, Path dir) {
        List<StorePath> paths = paths(size);
        List<SortedSet<Integer>> references = graph(size, seed);
        List<PathInfo> infos = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            infos.add(DbFixtures.info(paths.get(i), references.get(i).stream().map(paths::get).toArray(StorePath[]::new)));
        }
        try (StoreDatabase db = StoreDatabase.open(dir, DbFixtures.STORE)) {
            db.register(infos);
            StorePath top = paths.get(size - 1);
            SortedSet<StorePath> closure = db.closure(List.of(top), false);
            List<StorePath> expected = nixOrder(closure, paths, references);
            assertEquals(expected, db.closureReferencesFirst(List.of(top), false));
            assertEquals(expected, db.referencesFirst(closure));

            StorePath bottom = paths.get(0);
            SortedSet<StorePath> referrers = db.closure(List.of(bottom), true);
            assertEquals(nixOrder(referrers, paths, references), db.closureReferencesFirst(List.of(bottom), true));
        }
    }

    @Test
    void aChainAsLongAsAStoreNeedsNoDeepStack() {
        int size = 200_000;
        List<StorePath> paths = new ArrayList<>(size);
        ReferenceOrder order = new ReferenceOrder();
        for (int i = 0; i < size; i++) {
            paths.add(new StorePath(DbFixtures.STORE, NixBase32.encode(new byte[] {(byte) (i >>> 16), (byte) (i >>> 8),
                (byte) i, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), "p"));
            if (i > 0) {
                order.refersTo(i, i - 1); // each refers to the one before: the first must come first
            }
        }
        assertEquals(paths, order.order(paths));
    }
}
