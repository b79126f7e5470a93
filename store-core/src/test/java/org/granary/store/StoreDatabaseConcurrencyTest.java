package org.granary.store;

import static org.granary.store.DbFixtures.STORE;
import static org.granary.store.DbFixtures.info;
import static org.granary.store.DbFixtures.path;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreDatabaseConcurrencyTest {
    private static final long TINY_MAP = 64 * 1024;

    @TempDir
    Path dir;

    @Test
    void twoProcessesRegisteringAtOnceBothSucceedWhileTheMapGrows() throws Exception {
        Path lmdb = dir.resolve("db/lmdb");
        try (StoreDatabase db = StoreDatabase.open(lmdb, STORE, TINY_MAP)) {
            db.register(List.of(info(path("base"))));
            List<String> command = ChildJvm.command(RegisterChild.class);
            command.addAll(List.of(lmdb.toString(), "child", "2000", Long.toString(TINY_MAP)));
            Process child = new ProcessBuilder(command)
                .redirectErrorStream(true).start();
            BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("open", lines.readLine(), "the child's first line");
            RegisterChild.register(db, "parent", 2000);
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the child JVM did not finish in 60 s");
            String output = lines.lines().collect(Collectors.joining("\n"));
            assertEquals(0, child.exitValue(), output);
            assertEquals(4001, db.validPathCount());
            assertEquals(2001, db.closure(List.of(path("child-1999")), false).size());
            assertEquals(2001, db.closure(List.of(path("parent-1999")), false).size());
            assertEquals(4001, db.closure(List.of(path("base")), true).size());
        }
    }

    @Test
    void threadsRegisteringOverlappingBatchesLeaveReferrersConsistent() throws Exception {
        int threads = 6;
        int paths = 600;
        AtomicBoolean writing = new AtomicBoolean(true);
        ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
        try (StoreDatabase db = StoreDatabase.open(dir.resolve("db"), STORE, TINY_MAP)) {
            db.register(List.of(info(path("base"))));
            List<Future<?>> writers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int offset = t * 50;
                writers.add(pool.submit(() -> {
                    // Each thread walks the same paths from another start: batches overlap, in any order.
                    for (int start = 0; start < paths; start += 40) {
                        List<PathInfo> batch = new ArrayList<>();
                        for (int i = start; i < start + 40; i++) {
                            int n = (i + offset) % paths;
                            batch.add(info(path(n), path("base"), path(n / 2 * 2)));
                        }
                        db.register(batch);
                    }
                    return null;
                }));
            }
            Future<Integer> reader = pool.submit(() -> {
                int reads = 0;
                while (writing.get()) {
                    // Every snapshot a reader sees is closed under references.
                    for (StorePath p : db.closure(List.of(path("base")), true)) {
                        assertTrue(db.closure(List.of(p), false).contains(path("base")));
                        reads++;
                    }
                }
                return reads;
            });
            for (Future<?> writer : writers) {
                writer.get(60, TimeUnit.SECONDS);
            }
            writing.set(false);
            reader.get(60, TimeUnit.SECONDS);
            assertEquals(paths + 1, db.validPathCount());
            Map<StorePath, Set<StorePath>> expectedReferrers = new HashMap<>();
            for (StorePath p : db.validPaths()) {
                for (StorePath r : db.references(p)) {
                    expectedReferrers.computeIfAbsent(r, k -> new HashSet<>()).add(p);
                }
            }
            for (StorePath p : db.validPaths()) {
                assertEquals(expectedReferrers.getOrDefault(p, Set.of()), db.referrers(p), p.toString());
            }
        } finally {
            pool.shutdownNow();
        }
    }

}
