package org.granary.gc;

import java.util.Arrays;
import java.util.BitSet;
import org.granary.store.StoreGraph;

/**
 * Which paths of a {@link StoreGraph} are live: the closure of the roots over references, plus, with
 * keep-derivations, the derivation of a live output that records it (and that the output names as its
 * deriver), and, with keep-outputs, the valid outputs of a live derivation — the daemon's
 * {@code canReachRoot} turned around into one forward walk over int arrays.
 *
 * <p>For each live path it remembers the root the walk reached it from, so that a refusal to delete can
 * name the root that keeps a path alive. Not thread-safe.
 */
final class Liveness {
    private final StoreGraph graph;
    private final boolean keepDerivations;
    private final boolean keepOutputs;
    private final BitSet live;
    /** For each live path, the number of the root it was reached from; -1 for paths not live. */
    private final int[] keptBy;
    private int[] queue = new int[256];

    Liveness(StoreGraph graph, boolean keepDerivations, boolean keepOutputs) {
        this.graph = graph;
        this.keepDerivations = keepDerivations;
        this.keepOutputs = keepOutputs;
        this.live = new BitSet(graph.size());
        this.keptBy = new int[graph.size()];
        Arrays.fill(keptBy, -1);
    }

    /**
     * Marks a root and everything it keeps alive.
     *
     * @param path the root's number in the graph
     * @param root the root's number in the caller's list, remembered for {@link #keptBy}
     */
    void mark(int path, int root) {
        if (live.get(path)) {
            return;
        }
        int head = 0;
        int tail = 0;
        tail = push(path, root, tail);
        while (head < tail) {
            int current = queue[head++];
            for (int reference : graph.references(current)) {
                tail = push(reference, root, tail);
            }
            if (keepDerivations) {
                int deriver = graph.deriver(current);
                if (deriver >= 0 && records(deriver, current)) {
                    tail = push(deriver, root, tail);
                }
            }
            if (keepOutputs) {
                for (int output : graph.outputs(current)) {
                    tail = push(output, root, tail);
                }
            }
        }
    }

    private boolean records(int derivation, int output) {
        if (!graph.path(derivation).name().endsWith(".drv")) {
            return false;
        }
        for (int recorded : graph.outputs(derivation)) {
            if (recorded == output) {
                return true;
            }
        }
        return false;
    }

    private int push(int path, int root, int tail) {
        if (live.get(path)) {
            return tail;
        }
        live.set(path);
        keptBy[path] = root;
        if (tail == queue.length) {
            queue = Arrays.copyOf(queue, tail * 2);
        }
        queue[tail] = path;
        return tail + 1;
    }

    /** Whether path {@code i} is live. */
    boolean isLive(int i) {
        return live.get(i);
    }

    /** The root that keeps path {@code i} alive, or -1 if it is not live. */
    int keptBy(int i) {
        return keptBy[i];
    }

    /** How many paths are live. */
    int liveCount() {
        return live.cardinality();
    }
}
