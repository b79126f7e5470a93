package org.granary.store;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The order in which Nix prints and exports a set of store paths ({@code nix-store -q --requisites},
 * {@code --references}, {@code --referrers}, {@code --referrers-closure}, {@code --export}): every path
 * after the paths of the set it refers to, otherwise sorted. It is Nix's {@code topoSortPaths} reversed: a
 * depth-first walk over the set in sorted order that visits a path's references within the set (in sorted
 * order) before the path itself.
 *
 * <p>The paths are numbered by the caller (0, 1, … in any order) and the edges given by number, so that a
 * closure walk can record them as it goes, without a map of paths or a second read of the database. The
 * walk is iterative: a chain of references may be as long as the store. Not thread-safe.
 */
final class ReferenceOrder {
    private int[] referrers = new int[64];
    private int[] references = new int[64];
    private int edges;

    /**
     * Records that path {@code referrer} refers to path {@code reference}; a self-reference is ignored.
     *
     * @param referrer the number of the referring path
     * @param reference the number of the path it refers to
     */
    void refersTo(int referrer, int reference) {
        if (referrer == reference) {
            return;
        }
        if (edges == referrers.length) {
            referrers = Arrays.copyOf(referrers, 2 * edges);
            references = Arrays.copyOf(references, 2 * edges);
        }
        referrers[edges] = referrer;
        references[edges] = reference;
        edges++;
    }

    /**
     * Returns the paths in Nix's order.
     *
     * @param paths the paths by number, without duplicates; every recorded edge is between two of them
     * @return the same paths, references before referrers, otherwise sorted
     */
    List<StorePath> order(List<StorePath> paths) {
        int n = paths.size();
        StorePath[] byNumber = paths.toArray(new StorePath[0]);
        Integer[] sorted = new Integer[n];
        for (int i = 0; i < n; i++) {
            sorted[i] = i;
        }
        Arrays.sort(sorted, (a, b) -> byNumber[a].compareTo(byNumber[b]));
        int[] rank = new int[n];
        for (int r = 0; r < n; r++) {
            rank[sorted[r]] = r;
        }
        // The references of each path by rank, as one array sliced by start[rank]..start[rank + 1].
        int[] start = new int[n + 1];
        for (int e = 0; e < edges; e++) {
            start[rank[referrers[e]] + 1]++;
        }
        for (int r = 0; r < n; r++) {
            start[r + 1] += start[r];
        }
        int[] fill = Arrays.copyOf(start, n);
        int[] adjacent = new int[edges];
        for (int e = 0; e < edges; e++) {
            adjacent[fill[rank[referrers[e]]]++] = rank[references[e]];
        }
        for (int r = 0; r < n; r++) {
            Arrays.sort(adjacent, start[r], start[r + 1]);
        }

        List<StorePath> order = new ArrayList<>(n);
        boolean[] visited = new boolean[n];
        int[] stack = new int[n];
        int[] next = new int[n]; // per stacked path: the index in adjacent of its next reference to visit
        for (int root = 0; root < n; root++) {
            if (visited[root]) {
                continue;
            }
            visited[root] = true;
            int depth = 0;
            stack[0] = root;
            next[0] = start[root];
            while (depth >= 0) {
                int current = stack[depth];
                int found = -1;
                while (next[depth] < start[current + 1]) {
                    int reference = adjacent[next[depth]++];
                    if (!visited[reference]) {
                        found = reference;
                        break;
                    }
                }
                if (found >= 0) {
                    visited[found] = true;
                    depth++;
                    stack[depth] = found;
                    next[depth] = start[found];
                } else {
                    order.add(byNumber[sorted[current]]);
                    depth--;
                }
            }
        }
        return order;
    }
}
