package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreGraphTest {
    @TempDir
    Path dir;

    @Test
    void theGraphHoldsWhatTheQueriesAnswer() {
        Random random = new Random(3);
        try (StoreDatabase db = StoreDatabase.open(dir, DbFixtures.STORE)) {
            List<PathInfo> infos = new ArrayList<>();
            List<StorePath> paths = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                StorePath path = DbFixtures.path(i);
                List<StorePath> references = new ArrayList<>();
                for (int k = random.nextInt(5); k > 0 && !paths.isEmpty(); k--) {
                    references.add(paths.get(random.nextInt(paths.size())));
                }
                if (random.nextInt(10) == 0) {
                    references.add(path);
                }
                paths.add(path);
                infos.add(DbFixtures.info(path, references.toArray(StorePath[]::new)));
            }
            db.register(infos);
            StorePath drv = DbFixtures.path("x.drv");
            StorePath out = DbFixtures.path("x");
            StorePath gone = DbFixtures.path("never-valid");
            db.register(List.of(DbFixtures.info(drv), DbFixtures.info(out).withDeriver(drv)),
                Map.of(drv, Map.of("out", out, "doc", gone)));
            paths.add(drv);
            paths.add(out);

            StoreGraph graph = db.graph();
            assertEquals(paths.size(), graph.size());
            for (StorePath path : paths) {
                int i = graph.indexOf(path);
                assertEquals(path, graph.path(i));
                TreeSet<StorePath> references = new TreeSet<>();
                Arrays.stream(graph.references(i)).mapToObj(graph::path).forEach(references::add);
                assertEquals(db.references(path), references, path.toString());
                assertEquals(db.pathInfo(path).orElseThrow().narSize(), graph.narSize(i));
            }
            assertEquals(graph.indexOf(drv), graph.deriver(graph.indexOf(out)));
            assertEquals(-1, graph.deriver(graph.indexOf(drv)));
            assertArrayEquals(new int[] {graph.indexOf(out)}, graph.outputs(graph.indexOf(drv)),
                "only valid outputs");
            assertEquals(-1, graph.indexOf(gone));
            assertEquals(-1, graph.indexOf(new StorePath(DbFixtures.STORE, out.hashPart(), "other-name")));
        }
    }
}
