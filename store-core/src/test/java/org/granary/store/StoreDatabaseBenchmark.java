package org.granary.store;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * A benchmark, not a test (Surefire runs only {@code *Test} classes): registers a synthetic DAG of
 * 100,000 paths with about 7.5 references each (every path refers to earlier ones), in batches of 1,000 and
 * as one batch, then times the requisites of the top path, the referrers closure of the bottom path and
 * {@code isValid} of every path. With a second argument it also writes the graph in the format of
 * {@code nix-store --dump-db}, for {@code nix-store --load-db} and comparison with Nix.
 *
 * <pre>
 * mvn -q -o -DskipTests install
 * mvn -q -o -pl store-core dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java -cp store-core/target/test-classes:store-core/target/classes:$(cat /tmp/cp.txt) \
 *     org.granary.store.StoreDatabaseBenchmark /tmp/bench-db [dump-file]
 * </pre>
 * Run it in a fresh JVM each time and take the median of three runs.
 */
public final class StoreDatabaseBenchmark {
    static final int PATHS = 100_000;
    static final String STORE = "/gnu/store";

    private StoreDatabaseBenchmark() {
    }

    public static void main(String[] args) throws IOException {
        Path work = Path.of(args.length > 0 ? args[0] : "/tmp/granary-db-bench");
        List<PathInfo> graph = graph(PATHS, 42);
        long refs = graph.stream().mapToLong(p -> p.references().size()).sum();
        System.out.printf("graph: %d paths, %d references%n", graph.size(), refs);
        if (args.length > 1) {
            dump(graph, Path.of(args[1]));
        }
        StorePath top = graph.get(graph.size() - 1).path();
        StorePath bottom = graph.get(0).path();

        delete(work);
        long t0 = System.nanoTime();
        try (StoreDatabase db = StoreDatabase.open(work.resolve("batches"), STORE)) {
            for (int i = 0; i < graph.size(); i += 1000) {
                db.register(graph.subList(i, Math.min(graph.size(), i + 1000)));
            }
        }
        report("register, batches of 1000", t0, graph.size(), "paths");

        t0 = System.nanoTime();
        try (StoreDatabase db = StoreDatabase.open(work.resolve("one"), STORE)) {
            db.register(graph);
        }
        report("register, one batch", t0, graph.size(), "paths");

        try (StoreDatabase db = StoreDatabase.open(work.resolve("one"), STORE)) {
            for (int round = 0; round < 3; round++) {
                t0 = System.nanoTime();
                SortedSet<StorePath> requisites = db.closure(List.of(top), false);
                report("requisites of top (round " + round + ")", t0, requisites.size(), "paths");
                t0 = System.nanoTime();
                SortedSet<StorePath> referrers = db.closure(List.of(bottom), true);
                report("referrers closure of bottom (round " + round + ")", t0, referrers.size(), "paths");
                t0 = System.nanoTime();
                int valid = 0;
                for (PathInfo info : graph) {
                    valid += db.isValid(info.path()) ? 1 : 0;
                }
                report("isValid of all (round " + round + ")", t0, valid, "calls");
                t0 = System.nanoTime();
                int infos = 0;
                for (int i = 0; i < graph.size(); i += 10) {
                    infos += db.pathInfo(graph.get(i).path()).isPresent() ? 1 : 0;
                }
                report("pathInfo of every 10th (round " + round + ")", t0, infos, "calls");
            }
        }
        delete(work);
    }

    /** Each path refers to 0..15 (7.5 on average) distinct earlier paths, biased towards recent ones. */
    static List<PathInfo> graph(int count, long seed) {
        Random random = new Random(seed);
        List<PathInfo> result = new ArrayList<>(count);
        byte[] hashPart = new byte[Keys.SIZE];
        byte[] narHash = new byte[32];
        for (int i = 0; i < count; i++) {
            random.nextBytes(hashPart);
            random.nextBytes(narHash);
            StorePath path = new StorePath(STORE, NixBase32.encode(hashPart), "pkg-" + i + "-1.0");
            TreeSet<StorePath> references = new TreeSet<>();
            int wanted = i == 0 ? 0 : Math.min(i, random.nextInt(16));
            while (references.size() < wanted) {
                int back = 1 + (int) Math.min(i - 1, Math.abs(random.nextGaussian()) * 2000);
                references.add(result.get(i - back).path());
            }
            result.add(PathInfo.of(path, Hash.of(HashAlgorithm.SHA256, narHash.clone()), 1000 + i, references,
                1_700_000_000L + i));
        }
        return result;
    }

    /** The format of {@code nix-store --dump-db} (Nix 2.8): path, NAR hash in bare base16, NAR size, deriver, reference count, references. */
    static void dump(List<PathInfo> graph, Path file) throws IOException {
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.US_ASCII)) {
            for (PathInfo info : graph) {
                out.write(info.path() + "\n" + info.narHash().format(HashFormat.BASE16) + "\n" + info.narSize() + "\n\n"
                    + info.references().size() + "\n");
                for (StorePath reference : info.references()) {
                    out.write(reference + "\n");
                }
            }
        }
    }

    private static void report(String what, long start, long count, String unit) {
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("%-45s %8.3f s  %9d %s  %10.0f %s/s%n", what, seconds, count, unit, count / seconds, unit);
    }

    private static void delete(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
