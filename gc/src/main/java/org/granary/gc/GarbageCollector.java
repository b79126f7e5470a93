package org.granary.gc;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.granary.store.GcLock;
import org.granary.store.InvalidStorePathException;
import org.granary.store.LocalStore;
import org.granary.store.StillReferencedException;
import org.granary.store.StoreConfig;
import org.granary.store.StoreDatabase;
import org.granary.store.StoreGraph;
import org.granary.store.StorePath;
import org.granary.store.TempRoots;

/**
 * The garbage collector of a store, as the Guix daemon's (store-facts.md §7–8), with the races and costs
 * users suffered taken out (peers.md §3).
 *
 * <p><b>Roots and liveness.</b> The roots are the permanent roots ({@link Roots}), the temporary roots of
 * running processes ({@code temproots/PID}, read and frozen through {@link TempRoots#readLive}) and the
 * caller's extra roots. Live paths are their closure over references, plus derivers and outputs as
 * keep-derivations (default on) and keep-outputs (default off) say. The reference graph is read once,
 * in one LMDB read transaction ({@link StoreDatabase#graph()}), and walked in memory.
 *
 * <p><b>Collecting.</b> Under {@code gc.lock} held exclusively (as the daemon: no process can create a
 * temporary-roots file meanwhile, and the frozen files cannot grow), dead paths are valid paths that are
 * not live plus the invalid leftovers in the store dir (names no valid path has: interrupted additions
 * of dead processes, lock files, junk), except {@code .links}, temporary roots, their {@code .lock} files
 * and the temporaries of additions still running. Dead valid paths are <i>invalidated before their files
 * are deleted</i>, referrers before references, in batches of one transaction each, so that a crash never
 * leaves a valid path with missing files; before each batch the roots are scanned again and anything a new
 * root reaches is spared, each path is checked against the temporary roots, the invalidation refuses a
 * path that gained a valid referrer, and the files go only once the path is seen invalid. A limit
 * ({@code maxFreed}) stops the collection once that many bytes are freed, dead paths being taken in
 * random order (as the daemon, so that a limit is not biased towards one end of the alphabet) with their
 * referrers first. Afterwards the {@code .links} entries nothing else uses are removed.
 *
 * <p><b>Listings</b> ({@link #listDead}, {@link #listLive}, {@link #listRoots}) change nothing at all: no
 * stale link or temporary-roots file is removed, nothing is created.
 *
 * <p><b>Concurrency.</b> One instance may be used by several threads, but a collection runs one at a time
 * per store (the GC lock); other processes may add to the store meanwhile through the daemon's protocol
 * (temporary root first), and their additions are never deleted. Between processes the lock is the same
 * POSIX lock as the Guix daemon's.
 */
public final class GarbageCollector {
    /** Dead paths invalidated per transaction: the roots are scanned again before each batch. */
    private static final int BATCH = 256;

    private final StoreConfig config;
    private final StoreDatabase database;
    private final Options options;
    private final Random random;

    /**
     * How liveness is decided.
     *
     * @param keepDerivations keep the derivation of a live output (the daemon's default: yes)
     * @param keepOutputs keep the outputs of a live derivation (the daemon's default: no)
     * @param extraRoots more roots, from the caller; those that are not valid keep nothing
     */
    public record Options(boolean keepDerivations, boolean keepOutputs, Collection<StorePath> extraRoots) {
        /**
         * Copies the roots.
         *
         * @param keepDerivations keep the derivation of a live output (the daemon's default: yes)
         * @param keepOutputs keep the outputs of a live derivation (the daemon's default: no)
         * @param extraRoots more roots, from the caller; those that are not valid keep nothing
         *
         * @throws NullPointerException if {@code extraRoots} is null
         */
        public Options {
            extraRoots = List.copyOf(extraRoots);
        }

        /**
         * Returns the daemon's defaults: keep derivations, not outputs, no extra roots.
         *
         * @return the options
         */
        public static Options defaults() {
            return new Options(true, false, List.of());
        }
    }

    /**
     * Creates a collector for a store whose database the caller has open (for example
     * {@link LocalStore#database()}).
     *
     * @param config where the store and its state dir are
     * @param database the store's database, for the store dir of {@code config}
     * @param options how liveness is decided
     * @throws IllegalArgumentException if the database belongs to another store dir
     */
    public GarbageCollector(StoreConfig config, StoreDatabase database, Options options) {
        this(config, database, options, new Random());
    }

    GarbageCollector(StoreConfig config, StoreDatabase database, Options options, Random random) {
        this.config = Objects.requireNonNull(config, "config");
        this.database = Objects.requireNonNull(database, "database");
        this.options = Objects.requireNonNull(options, "options");
        this.random = random;
        if (!database.storeDir().equals(config.storeDir().logical())) {
            throw new IllegalArgumentException(database + " is not a database of store dir " + config.storeDir().logical());
        }
    }

    // ---------------------------------------------------------------- listings

    /**
     * Finds the permanent roots (not the temporary ones), changing nothing.
     *
     * @return the roots and the stale roots
     * @throws IOException if a roots directory cannot be read
     */
    public Roots listRoots() throws IOException {
        return Roots.find(config, database::isValid);
    }

    /**
     * Lists what a collection would delete, changing nothing: the valid paths that are not live and the
     * invalid leftovers in the store dir, as {@code guix gc --list-dead}.
     *
     * @return the dead paths, sorted, and the stale roots
     * @throws IOException if the roots or the store dir cannot be read
     */
    public GcListing listDead() throws IOException {
        return list(true);
    }

    /**
     * Lists the live valid paths, changing nothing, as {@code guix gc --list-live}.
     *
     * @return the live paths, sorted, and the stale roots
     * @throws IOException if the roots cannot be read
     */
    public GcListing listLive() throws IOException {
        return list(false);
    }

    @SuppressWarnings("try") // the lock is held, not used
    private GcListing list(boolean dead) throws IOException {
        try (GcLock.Held lock = GcLock.at(config.physicalStateDir()).lockExclusive();
                Snapshot snapshot = Snapshot.take(config, database, options, false)) {
            TreeSet<String> paths = new TreeSet<>();
            StoreGraph graph = snapshot.graph;
            for (int i = 0; i < graph.size(); i++) {
                if (snapshot.liveness.isLive(i) != dead) {
                    paths.add(graph.path(i).toString());
                }
            }
            if (dead) {
                for (String name : leftovers(snapshot)) {
                    paths.add(config.storeDir().logical() + "/" + name);
                }
            }
            return new GcListing(new ArrayList<>(paths), snapshot.roots.stale());
        }
    }

    // ---------------------------------------------------------------- collecting

    /**
     * Deletes dead paths and leftovers until {@code maxFreed} bytes are freed or no garbage is left, then
     * the unused {@code .links} entries, as {@code guix gc -C [MIN]}.
     *
     * @param maxFreed the bytes to free at most; {@link Long#MAX_VALUE} for all garbage
     * @param progress told of each deletion
     * @return what was deleted and freed
     * @throws IOException if the roots, the store dir or an entry cannot be read or deleted; what was
     *     deleted stays deleted and the store stays sound
     */
    @SuppressWarnings("try") // the lock is held, not used
    public GcResult collect(long maxFreed, GcProgress progress) throws IOException {
        if (maxFreed < 0) {
            throw new IllegalArgumentException("negative amount to free: " + maxFreed);
        }
        try (GcLock.Held lock = GcLock.at(config.physicalStateDir()).lockExclusive()) {
            Run run;
            try (Snapshot snapshot = Snapshot.take(config, database, options, true)) {
                run = new Run(snapshot, maxFreed, progress);
                for (String name : leftovers(snapshot)) {
                    if (run.full()) {
                        break;
                    }
                    run.deleteLeftover(name);
                }
                if (!run.full()) {
                    run.deleteValid(plan(snapshot, allDead(snapshot), maxFreed));
                }
            }
            Links.Pass links = Links.removeUnused(config.physicalStoreDir());
            run.freed += links.bytesFreed();
            return new GcResult(run.deleted, run.freed, run.full(), links.removed(), links.savings(),
                run.snapshot.roots.stale());
        }
    }

    /**
     * Deletes the given paths, and their referrers (which are dead if they are), as {@code guix gc -D}.
     * Nothing is deleted if one of them is alive.
     *
     * @param paths the paths to delete; those not valid are deleted as leftovers if they exist
     * @param progress told of each deletion
     * @return what was deleted and freed
     * @throws PathAliveException naming the first live path and the root that keeps it
     * @throws IOException if the roots or an entry cannot be read or deleted
     */
    @SuppressWarnings("try") // the lock is held, not used
    public GcResult delete(Collection<StorePath> paths, GcProgress progress) throws IOException {
        try (GcLock.Held lock = GcLock.at(config.physicalStateDir()).lockExclusive()) {
            Run run;
            try (Snapshot snapshot = Snapshot.take(config, database, options, true)) {
                StoreGraph graph = snapshot.graph;
                List<Integer> valid = new ArrayList<>();
                List<String> invalid = new ArrayList<>();
                for (StorePath path : new TreeSet<>(paths)) {
                    int i = graph.indexOf(path);
                    if (i >= 0 && snapshot.liveness.isLive(i)) {
                        throw new PathAliveException(path, snapshot.rootList.get(snapshot.liveness.keptBy(i)));
                    }
                    if (i >= 0) {
                        valid.add(i);
                    } else if (snapshot.tempRoots.contains(path.toString())) {
                        throw new PathAliveException(path, new GcRoot("temporary root", path, GcRoot.Kind.TEMPORARY));
                    } else {
                        invalid.add(path.baseName());
                    }
                }
                run = new Run(snapshot, Long.MAX_VALUE, progress);
                for (String name : invalid) {
                    if (Files.exists(config.physicalStoreDir().resolve(name), NOFOLLOW_LINKS)) {
                        run.deleteLeftover(name);
                    }
                }
                int[] start = valid.stream().mapToInt(Integer::intValue).toArray();
                run.deleteValid(plan(snapshot, start, Long.MAX_VALUE));
            }
            return new GcResult(run.deleted, run.freed, false, 0, 0, run.snapshot.roots.stale());
        }
    }

    // ---------------------------------------------------------------- planning

    private static int[] allDead(Snapshot snapshot) {
        StoreGraph graph = snapshot.graph;
        int[] dead = new int[graph.size() - snapshot.liveness.liveCount()];
        int n = 0;
        for (int i = 0; i < graph.size(); i++) {
            if (!snapshot.liveness.isLive(i)) {
                dead[n++] = i;
            }
        }
        return dead;
    }

    /**
     * The order of deletion: starting from each of {@code start} in random order, its dead referrers
     * (transitively) before it, until the NAR sizes planned reach {@code maxFreed}. Every referrer of a
     * planned path comes before it, so a prefix of the plan can be invalidated in one transaction.
     */
    private int[] plan(Snapshot snapshot, int[] start, long maxFreed) {
        StoreGraph graph = snapshot.graph;
        Liveness liveness = snapshot.liveness;
        int n = graph.size();
        // Referrers among dead paths, as arrays: count, then fill.
        int[] count = new int[n + 1];
        for (int i = 0; i < n; i++) {
            if (!liveness.isLive(i)) {
                for (int reference : graph.references(i)) {
                    if (reference != i) {
                        count[reference + 1]++;
                    }
                }
            }
        }
        for (int i = 0; i < n; i++) {
            count[i + 1] += count[i];
        }
        int[] referrers = new int[count[n]];
        int[] fill = count.clone();
        for (int i = 0; i < n; i++) {
            if (!liveness.isLive(i)) {
                for (int reference : graph.references(i)) {
                    if (reference != i) {
                        referrers[fill[reference]++] = i;
                    }
                }
            }
        }
        int[] shuffled = start.clone();
        for (int i = shuffled.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = shuffled[i];
            shuffled[i] = shuffled[j];
            shuffled[j] = t;
        }
        boolean[] planned = new boolean[n];
        int[] order = new int[n];
        int size = 0;
        long bytes = 0;
        int[] stack = new int[16];
        int[] next = new int[16];
        for (int first : shuffled) {
            if (planned[first] || bytes >= maxFreed) {
                continue;
            }
            // Depth-first over referrers, post-order: a path is planned once all its referrers are.
            int depth = 0;
            stack[0] = first;
            next[0] = count[first];
            planned[first] = true;
            while (depth >= 0) {
                int current = stack[depth];
                if (next[depth] < count[current + 1]) {
                    int referrer = referrers[next[depth]++];
                    if (!planned[referrer]) {
                        planned[referrer] = true;
                        if (++depth == stack.length) {
                            stack = java.util.Arrays.copyOf(stack, depth * 2);
                            next = java.util.Arrays.copyOf(next, depth * 2);
                        }
                        stack[depth] = referrer;
                        next[depth] = count[referrer];
                    }
                } else {
                    order[size++] = current;
                    bytes += graph.narSize(current);
                    depth--;
                }
            }
        }
        return java.util.Arrays.copyOf(order, size);
    }

    /**
     * The names in the store dir that no valid path of the snapshot has and that are garbage: not
     * {@code .links}, not a temporary root or its lock, not the temporary of an addition still running.
     */
    private List<String> leftovers(Snapshot snapshot) throws IOException {
        List<String> names = new ArrayList<>();
        String storeDir = config.storeDir().logical();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(config.physicalStoreDir())) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (name.equals(Links.DIR) || LocalStore.isActiveTemporary(name)) {
                    continue;
                }
                String full = storeDir + "/" + name;
                if (snapshot.tempRoots.contains(full) || isActiveTempFile(snapshot, full, ".lock")
                        || isActiveTempFile(snapshot, full, ".chroot")) {
                    continue;
                }
                StorePath path = storeItem(full, storeDir);
                if (path != null && snapshot.graph.indexOf(path) >= 0) {
                    continue;
                }
                names.add(name);
            }
        }
        names.sort(null);
        return names;
    }

    private static boolean isActiveTempFile(Snapshot snapshot, String full, String suffix) {
        return full.endsWith(suffix) && snapshot.tempRoots.contains(full.substring(0, full.length() - suffix.length()));
    }

    /**
     * The store item that a path in the store dir is in, as the daemon's {@code toStorePath}: the first
     * component after the store dir, if it is a valid store path name.
     *
     * @return the item, or null if {@code path} is not in the store dir or names no item
     */
    static StorePath storeItem(String path, String storeDir) {
        if (!path.startsWith(storeDir + "/")) {
            return null;
        }
        int slash = path.indexOf('/', storeDir.length() + 1);
        String item = slash < 0 ? path : path.substring(0, slash);
        try {
            return StorePath.parse(item, storeDir);
        } catch (InvalidStorePathException e) {
            return null;
        }
    }

    // ---------------------------------------------------------------- one run of deletions

    /** The deletions of one collection, under the GC lock with the temporary roots frozen. */
    private final class Run {
        final Snapshot snapshot;
        final long maxFreed;
        final GcProgress progress;
        final List<String> deleted = new ArrayList<>();
        long freed;

        Run(Snapshot snapshot, long maxFreed, GcProgress progress) {
            this.snapshot = snapshot;
            this.maxFreed = maxFreed;
            this.progress = progress;
        }

        boolean full() {
            return freed >= maxFreed;
        }

        void deleteLeftover(String name) throws IOException {
            String full = config.storeDir().logical() + "/" + name;
            StorePath path = storeItem(full, config.storeDir().logical());
            // Registered since the snapshot (by a process outside the temporary-roots protocol): not garbage.
            if (path != null && database.isValid(path)) {
                return;
            }
            remove(full, config.physicalStoreDir().resolve(name));
        }

        void deleteValid(int[] order) throws IOException {
            StoreGraph graph = snapshot.graph;
            for (int from = 0; from < order.length && !full(); from += BATCH) {
                snapshot.rescanRoots();
                List<StorePath> batch = new ArrayList<>();
                for (int k = from; k < Math.min(order.length, from + BATCH); k++) {
                    int i = order[k];
                    StorePath path = graph.path(i);
                    if (!snapshot.liveness.isLive(i) && !snapshot.tempRoots.contains(path.toString())) {
                        batch.add(path);
                    }
                }
                // Every path invalidated loses its files, even past the limit: none is left invalid on disk.
                for (StorePath path : invalidate(batch)) {
                    if (!database.isValid(path)) {
                        remove(path.toString(), config.storeDir().physicalPath(path));
                    }
                }
            }
        }

        /** Invalidates the batch in one transaction; if a path gained a referrer, one by one. */
        private List<StorePath> invalidate(List<StorePath> batch) {
            try {
                database.invalidate(batch);
                return batch;
            } catch (StillReferencedException e) {
                List<StorePath> done = new ArrayList<>();
                for (StorePath path : batch) {
                    int i = snapshot.graph.indexOf(path);
                    if (snapshot.liveness.isLive(i)) {
                        continue;
                    }
                    try {
                        database.invalidate(List.of(path));
                        done.add(path);
                    } catch (StillReferencedException referenced) {
                        // A path registered since the snapshot refers to it: it and its references stay.
                        snapshot.spare(i);
                    }
                }
                return done;
            }
        }

        private void remove(String full, Path physical) throws IOException {
            if (!Files.exists(physical, NOFOLLOW_LINKS)) {
                return;
            }
            freed += Deletion.delete(physical);
            deleted.add(full);
            progress.progress(full, deleted.size(), freed);
        }
    }

    /** The roots, temporary roots (frozen until closed), graph and liveness of one collection or listing. */
    private static final class Snapshot implements AutoCloseable {
        final StoreConfig config;
        final StoreDatabase database;
        final TempRoots.LiveRoots frozen;
        final Set<String> tempRoots;
        final StoreGraph graph;
        final Roots roots;
        final List<GcRoot> rootList = new ArrayList<>();
        final Set<StorePath> rootPaths = new HashSet<>();
        final Liveness liveness;

        private Snapshot(StoreConfig config, StoreDatabase database, Options options, TempRoots.LiveRoots frozen)
                throws IOException {
            this.config = config;
            this.database = database;
            this.frozen = frozen;
            this.tempRoots = frozen.roots();
            this.graph = database.graph();
            this.roots = Roots.find(config, path -> graph.indexOf(path) >= 0);
            this.liveness = new Liveness(graph, options.keepDerivations(), options.keepOutputs());
            for (GcRoot root : roots.roots()) {
                keep(root);
            }
            for (String temp : tempRoots) {
                StorePath path = storeItem(temp, config.storeDir().logical());
                if (path != null) {
                    keep(new GcRoot("temporary root", path, GcRoot.Kind.TEMPORARY));
                }
            }
            for (StorePath extra : options.extraRoots()) {
                keep(new GcRoot("extra root", extra, GcRoot.Kind.EXTRA));
            }
        }

        /** Reads and freezes the temporary roots (removing stale files or not), then the graph and roots. */
        static Snapshot take(StoreConfig config, StoreDatabase database, Options options, boolean removeStale)
                throws IOException {
            TempRoots.LiveRoots frozen = TempRoots.readLive(config.physicalStateDir(), removeStale);
            try {
                return new Snapshot(config, database, options, frozen);
            } catch (IOException | RuntimeException | Error e) {
                try {
                    frozen.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }

        /** Marks a root and what it keeps alive; a root registered since the snapshot keeps its closure. */
        private void keep(GcRoot root) {
            if (!rootPaths.add(root.path())) {
                return;
            }
            int i = graph.indexOf(root.path());
            rootList.add(root);
            if (i >= 0) {
                liveness.mark(i, rootList.size() - 1);
            } else if (database.isValid(root.path())) {
                for (StorePath kept : database.closure(List.of(root.path()), false)) {
                    int k = graph.indexOf(kept);
                    if (k >= 0) {
                        liveness.mark(k, rootList.size() - 1);
                    }
                }
            }
        }

        /** Scans the permanent roots again: a root added since (outside the GC-lock protocol) is spared. */
        void rescanRoots() throws IOException {
            Roots now = Roots.find(config, path -> graph.indexOf(path) >= 0 || database.isValid(path));
            for (GcRoot root : now.roots()) {
                keep(root);
            }
        }

        /** Spares a path that gained a valid referrer, and what it keeps alive. */
        void spare(int i) {
            rootList.add(new GcRoot("a referrer registered during the collection", graph.path(i), GcRoot.Kind.EXTRA));
            liveness.mark(i, rootList.size() - 1);
        }

        @Override
        public void close() throws IOException {
            frozen.close();
        }
    }
}
