package org.granary.verify;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.granary.gc.GarbageCollector;
import org.granary.gc.GcProgress;
import org.granary.nar.FileTrees;
import org.granary.store.Canonicaliser;
import org.granary.store.ExportWriter;
import org.granary.store.Hash;
import org.granary.store.HashAlgorithm;
import org.granary.store.LocalStore;
import org.granary.store.PathInfo;
import org.granary.store.StoreConfig;
import org.granary.store.StorePath;
import org.granary.store.StorePaths;
import org.granary.store.TempRoots;

/**
 * Run in a child JVM by {@link StressTest}: {@code StressChild ROOT SCRATCH SECONDS ID}. Opens the store,
 * then {@value #THREADS} threads run random operations for {@code SECONDS}: text adds, imports of exports
 * of two items, queries, temporary roots on items of the store's garbage ({@code ROOT/garbage}), full
 * collections, and contents checks of protected items (the rooted ones in {@code ROOT/rooted} and this
 * process's own additions, which its temporary roots protect). Prints {@code added PATH} for each path
 * it added, {@code temprooted PATH} for each garbage path it rooted while valid, then {@code ops NAME=COUNT
 * …}, {@code peak-kib N} (VmHWM) and {@code done}; then waits for a line on its standard input before
 * closing the store, so that no temporary root goes away while the other process still collects.
 * Any failure (a contents finding on a protected item included) ends it with a stack trace.
 */
public final class StressChild {
    /** Threads per process. */
    static final int THREADS = 4;

    private static final String[] OPERATIONS = {"add", "import", "query", "temproot", "collect", "verify"};
    /** Cumulative weights of {@link #OPERATIONS}, out of 100. */
    private static final int[] UP_TO = {30, 45, 65, 75, 85, 100};

    private final LocalStore store;
    private final TempRoots tempRoots;
    private final Path scratch;
    private final String id;
    private final List<StorePath> protectedPaths = new CopyOnWriteArrayList<>();
    private final List<StorePath> garbage;
    private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();

    private StressChild(LocalStore store, TempRoots tempRoots, Path scratch, String id, List<StorePath> rooted,
            List<StorePath> garbage) {
        this.store = store;
        this.tempRoots = tempRoots;
        this.scratch = scratch;
        this.id = id;
        this.protectedPaths.addAll(rooted);
        this.garbage = garbage;
    }

    /**
     * Entry point.
     *
     * @param args the root, a scratch directory, the seconds to run and the child's id
     * @throws Exception on any failure, which ends the JVM with a stack trace and a non-zero status
     */
    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]);
        StoreConfig config = StoreConfig.under(root);
        long deadline = System.nanoTime() + (long) (Double.parseDouble(args[2]) * 1e9);
        try (LocalStore store = LocalStore.open(config);
                TempRoots tempRoots = TempRoots.open(config.physicalStateDir())) {
            StressChild child = new StressChild(store, tempRoots, Path.of(args[1]), args[3],
                read(root.resolve("rooted"), config), read(root.resolve("garbage"), config));
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                Thread worker = new Thread(() -> {
                    try {
                        child.runThread(thread, deadline);
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                });
                worker.start();
                threads.add(worker);
            }
            for (Thread thread : threads) {
                thread.join();
            }
            if (failure.get() != null) {
                throw new IllegalStateException("a thread failed", failure.get());
            }
            StringBuilder ops = new StringBuilder("ops");
            new TreeMap<>(child.counts).forEach((name, count) -> ops.append(' ').append(name).append('=').append(count));
            System.out.println(ops);
            System.out.println("peak-kib " + peakKib());
            System.out.println("done");
            System.out.flush();
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        }
    }

    private void runThread(int thread, long deadline) throws IOException {
        Random random = new Random(id.hashCode() * 31L + thread);
        Path dir = scratch.resolve("thread-" + thread);
        for (int n = 0; System.nanoTime() < deadline; n++) {
            int choice = random.nextInt(100);
            int op = 0;
            while (choice >= UP_TO[op]) {
                op++;
            }
            String tag = "stress-" + id + "-t" + thread + "-" + n;
            switch (OPERATIONS[op]) {
                case "add" -> added(store.addTextToStore(tag, tag + " " + random.nextLong(), pick(random, 2)));
                case "import" -> importTwo(random, dir, tag);
                case "query" -> query(random);
                case "temproot" -> tempRoot(random);
                case "collect" -> new GarbageCollector(store.config(), store.database(),
                    GarbageCollector.Options.defaults()).collect(Long.MAX_VALUE, GcProgress.NONE);
                case "verify" -> verify(random);
                default -> throw new IllegalStateException(OPERATIONS[op]);
            }
            counts.computeIfAbsent(OPERATIONS[op], k -> new AtomicLong()).incrementAndGet();
        }
    }

    /** Imports an export of two new items, the second referring to the first and to protected paths. */
    private void importTwo(Random random, Path dir, String tag) throws IOException {
        StorePaths paths = new StorePaths(store.config().storeDir());
        ByteArrayOutputStream export = new ByteArrayOutputStream();
        ExportWriter writer = new ExportWriter(export);
        List<StorePath> refs = new ArrayList<>(pick(random, 2));
        for (int i = 0; i < 2; i++) {
            Path tree = dir.resolve("tree-" + i);
            FileTrees.deleteTree(tree);
            Files.createDirectories(tree);
            byte[] data = new byte[random.nextInt(32 * 1024)];
            random.nextBytes(data);
            Files.write(tree.resolve("data"), data);
            Files.writeString(tree.resolve("name"), tag + "-" + i);
            StorePath path = paths.source(tag + "-" + i, Hash.ofNar(tree, HashAlgorithm.SHA256), refs, false);
            writer.write(path, tree, refs, Optional.empty());
            refs = new ArrayList<>(refs);
            refs.add(path);
        }
        writer.finish();
        for (StorePath path : store.importPaths(new BufferedInputStream(new ByteArrayInputStream(export.toByteArray())))) {
            added(path);
        }
    }

    private void query(Random random) {
        for (StorePath path : pick(random, 2)) {
            store.queryRequisites(List.of(path));
            store.queryReferrers(path);
            if (store.queryPathInfo(path).isEmpty()) {
                throw new IllegalStateException(path + ", protected, is not valid");
            }
        }
    }

    /** Roots a garbage path as the daemon's clients do: the root first, then the validity check. */
    private void tempRoot(Random random) throws IOException {
        StorePath path = garbage.get(random.nextInt(garbage.size()));
        tempRoots.add(path);
        if (store.isValidPath(path)) {
            report("temprooted " + path);
            protectedPaths.add(path);
        }
    }

    /** Checks the contents of protected paths while the other threads and process add and collect. */
    private void verify(Random random) throws IOException {
        List<PathInfo> infos = new ArrayList<>();
        for (StorePath path : pick(random, 3)) {
            infos.add(store.queryPathInfo(path).orElseThrow(() -> new IllegalStateException(path + " is not valid")));
        }
        List<Finding> findings;
        try (ItemChecker checker = new ItemChecker(store.config().storeDir(), Canonicaliser.keepingOwners(), true,
                true, 1, Progress.Listener.NONE)) {
            findings = checker.check(infos,
                infos.stream().map(info -> info.path().baseName()).collect(java.util.stream.Collectors.toSet()));
        }
        if (!findings.isEmpty()) {
            throw new IllegalStateException("findings on protected paths: " + findings);
        }
    }

    private List<StorePath> pick(Random random, int max) {
        List<StorePath> picked = new ArrayList<>();
        for (int i = random.nextInt(max + 1); i > 0; i--) {
            StorePath path = protectedPaths.get(random.nextInt(protectedPaths.size()));
            if (!picked.contains(path)) {
                picked.add(path);
            }
        }
        return picked;
    }

    private void added(StorePath path) {
        report("added " + path);
        protectedPaths.add(path);
    }

    private static synchronized void report(String line) {
        System.out.println(line);
    }

    private static List<StorePath> read(Path list, StoreConfig config) throws IOException {
        return Files.readAllLines(list).stream().map(line -> StorePath.parse(line, config.storeDir())).toList();
    }

    /** The peak resident set of this process in KiB, from /proc/self/status. */
    static long peakKib() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmHWM:"))
            .mapToLong(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).findFirst().orElse(-1);
    }
}
