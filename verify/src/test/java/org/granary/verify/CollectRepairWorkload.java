package org.granary.verify;

import java.io.IOException;
import java.util.List;
import java.util.SortedSet;
import org.granary.gc.GarbageCollector;
import org.granary.gc.GcProgress;
import org.granary.store.CrashWorkload;
import org.granary.store.LocalStore;
import org.granary.store.StorePath;

/**
 * The crash harness's workload ({@link CrashWorkload}) with a collection step: the store core's
 * operations, and a {@link GarbageCollector} run that roots the paths the workload intends to keep and
 * deletes everything else, including what earlier generations added and the leftovers of killed runs.
 * Run by {@link CollectRepairCrashTest} in the child JVMs the harness kills.
 */
public class CollectRepairWorkload extends CrashWorkload {
    /** Creates the workload; the harness instantiates it by name. */
    public CollectRepairWorkload() {
    }

    @Override
    protected List<Weighted> operations() {
        List<Weighted> all = super.operations();
        all.add(new Weighted("COLLECT", 1, CollectRepairWorkload::collect));
        return all;
    }

    /**
     * Collects with the intended-valid paths as roots. Each dead path is announced on its own before the
     * collection and reported invalid after it if it is gone: the collector invalidates in batches and
     * rescans the roots between them, and keeps what a temporary root holds, so a kill may leave any subset
     * of them invalid, but never one that a live path refers to (the harness's closure check).
     */
    private static void collect(Step step) throws IOException {
        if (step.replaying()) {
            return; // a replay must leave every path it adds valid
        }
        LocalStore store = step.store();
        List<StorePath> keep = step.intended().paths().stream().filter(store::isValidPath).toList();
        SortedSet<StorePath> live = store.queryRequisites(keep);
        List<StorePath> dead = store.database().validPaths().stream().filter(p -> !live.contains(p)).toList();
        for (StorePath path : dead) {
            step.invalidating(List.of(path));
        }
        new GarbageCollector(store.config(), store.database(), new GarbageCollector.Options(true, false, keep))
            .collect(Long.MAX_VALUE, GcProgress.NONE);
        for (StorePath path : dead) {
            if (!store.isValidPath(path)) {
                step.invalid(path);
            }
        }
        for (StorePath path : keep) {
            if (!store.isValidPath(path)) {
                throw new IllegalStateException("the collection deleted " + path + ", a root");
            }
        }
    }
}
