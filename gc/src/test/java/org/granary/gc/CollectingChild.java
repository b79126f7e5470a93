package org.granary.gc;

import java.nio.file.Path;
import org.granary.store.LocalStore;
import org.granary.store.StoreConfig;

/**
 * Run in a child JVM by {@link GcCrashTest}: opens the store under {@code ROOT}, prints {@code collecting}
 * and collects all garbage, printing each path as it is deleted, then {@code done}. The test kills it
 * somewhere along the way.
 */
public final class CollectingChild {
    private CollectingChild() {
    }

    /**
     * Entry point.
     *
     * @param args the root
     * @throws Exception on any failure (a non-zero status)
     */
    public static void main(String[] args) throws Exception {
        StoreConfig config = StoreConfig.under(Path.of(args[0]));
        try (LocalStore store = LocalStore.open(config)) {
            System.out.println("collecting");
            System.out.flush();
            new GarbageCollector(config, store.database(), GarbageCollector.Options.defaults())
                .collect(Long.MAX_VALUE, (what, items, bytes) -> System.out.println(what));
        }
        System.out.println("done");
    }
}
