package org.granary.store;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Run in a child JVM by {@link StoreDatabaseConcurrencyTest}: registers {@code count} paths named
 * {@code <prefix>-<i>} in batches of 50, each referring to the shared path {@code base} and to its
 * predecessor. Prints {@code open} once the database is open and {@code done} at the end.
 */
public final class RegisterChild {
    private RegisterChild() {
    }

    /**
     * Entry point.
     *
     * @param args database directory, prefix, count, initial map size
     */
    public static void main(String[] args) {
        try (StoreDatabase db = StoreDatabase.open(Path.of(args[0]), DbFixtures.STORE, Long.parseLong(args[3]))) {
            System.out.println("open");
            System.out.flush();
            register(db, args[1], Integer.parseInt(args[2]));
        }
        System.out.println("done");
    }

    static void register(StoreDatabase db, String prefix, int count) {
        StorePath base = DbFixtures.path("base");
        List<PathInfo> batch = new ArrayList<>();
        StorePath previous = base;
        for (int i = 0; i < count; i++) {
            StorePath p = DbFixtures.path(prefix + "-" + i);
            batch.add(DbFixtures.info(p, base, previous));
            previous = p;
            if (batch.size() == 50 || i == count - 1) {
                db.register(batch);
                batch.clear();
            }
        }
    }
}
