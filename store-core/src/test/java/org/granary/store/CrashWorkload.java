package org.granary.store;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.SortedSet;
import org.granary.nar.FileTrees;
import org.granary.nar.NarDigest;
import org.granary.nar.NarDumper;

/**
 * The seeded random workload that {@link CrashHarness} kills: a sequence of steps, each one
 * {@link Operation} on a {@link LocalStore}, chosen and parameterised by a {@link Random} seeded from the
 * harness's seed and the generation. Runs of one generation do exactly the same steps (the same paths,
 * contents and references), whatever the store holds, so a second run adds over the leftovers of a first
 * one that was killed.
 *
 * <p>The operations of the store core are {@link StandardOperation}s: adds of text, source trees,
 * fixed-output items and NARs, imports of exports, registrations (reg-info and dump-db texts, one
 * transaction per batch) and invalidations. A module above (gc, verify) adds its own by subclassing this
 * class and overriding {@link #operations()}; the harness starts the child with the subclass's name.
 *
 * <p>Run in a child JVM: {@code CrashWorkload ROOT SCRATCH SEED GENERATION}. It prints, each on its own
 * line and flushed: {@code open} once the store is open, {@code step N OPERATION} before each step,
 * {@code valid PATH} once a path is valid (the call that made it so returned), {@code invalid PATH} once
 * one is invalid, {@code batch PATH…} before a registration that must make all or none of them valid,
 * {@code invalidating PATH…} before an invalidation that must make all or none of them invalid.
 * It never ends by itself.
 */
public class CrashWorkload {
    /** Prefixes of the names of the items the workload makes: an unregistered entry must carry one. */
    public static final List<String> NAME_PREFIXES = List.of("text-", "src-", "fixed-", "nar-", "exp-", "reg-");

    /** One kind of step. */
    public interface Operation {
        /**
         * Runs one step. Every path made valid or invalid is reported through {@code step}; choices come
         * from {@code step.random()} and {@code step.intended()}, never from the store's answers, so that
         * the same generation does the same steps.
         *
         * @param step the step's context
         * @throws IOException if the store fails
         */
        void run(Step step) throws IOException;
    }

    /** An operation and how often it is chosen relative to the others. */
    public record Weighted(String name, int weight, Operation operation) {
    }

    /**
     * What a step sees: the store, its random source, a name tag unique to the step, a scratch directory
     * of this process, and the paths the workload intends to be valid (with their references).
     */
    public static final class Step {
        private final LocalStore store;
        private final Random random;
        private final String tag;
        private final Path scratch;
        private final Intended intended;
        private final PrintStream out;
        private final boolean replaying;

        Step(LocalStore store, Random random, String tag, Path scratch, Intended intended, PrintStream out,
                boolean replaying) {
            this.store = store;
            this.random = random;
            this.tag = tag;
            this.scratch = scratch;
            this.intended = intended;
            this.out = out;
            this.replaying = replaying;
        }

        /** The store. */
        public LocalStore store() {
            return store;
        }

        /** The step's random source. */
        public Random random() {
            return random;
        }

        /** A tag unique to the generation and step, usable in a store name: {@code g3-s12}. */
        public String tag() {
            return tag;
        }

        /** A directory of this process for inputs; its contents may be replaced by each step. */
        public Path scratch() {
            return scratch;
        }

        /** The paths this generation intends to be valid. */
        public Intended intended() {
            return intended;
        }

        /**
         * Whether the harness replays the generation in its own process to replace leftovers: operations
         * that remove (invalidate, collect) must then update {@link #intended()} as usual but leave the
         * store alone, so that every path the run adds ends up valid.
         */
        public boolean replaying() {
            return replaying;
        }

        /** Reports that {@code path} is valid now. */
        public void valid(StorePath path) {
            out.println("valid " + path);
            out.flush();
        }

        /** Reports that {@code path} is invalid now. */
        public void invalid(StorePath path) {
            out.println("invalid " + path);
            out.flush();
        }

        /** Announces a registration that must make all of {@code paths} valid or none. */
        public void batch(Collection<StorePath> paths) {
            announce("batch", paths);
        }

        /**
         * Announces an invalidation that must make all of {@code paths} invalid or none: until each is
         * reported {@link #invalid}, a kill may leave it either way.
         */
        public void invalidating(Collection<StorePath> paths) {
            announce("invalidating", paths);
        }

        private void announce(String what, Collection<StorePath> paths) {
            StringBuilder line = new StringBuilder(what);
            paths.forEach(path -> line.append(' ').append(path));
            out.println(line);
            out.flush();
        }
    }

    /**
     * The paths the workload intends to be valid and the references it gave them: the workload's own
     * bookkeeping, independent of what the store says.
     */
    public static final class Intended {
        private final Map<StorePath, Set<StorePath>> references = new HashMap<>();
        private final List<StorePath> order = new ArrayList<>();

        /** Records that {@code path} was added with {@code refs}. */
        public void add(StorePath path, Collection<StorePath> refs) {
            if (references.put(path, new HashSet<>(refs)) == null) {
                order.add(path);
            }
        }

        /** All the paths intended valid, in the order of their addition. */
        public List<StorePath> paths() {
            return List.copyOf(order);
        }

        /** Up to {@code max} distinct valid paths chosen at random (sorted by addition). */
        public List<StorePath> pick(Random random, int max) {
            Set<StorePath> chosen = new LinkedHashSet<>();
            int count = order.isEmpty() ? 0 : random.nextInt(max + 1);
            for (int i = 0; i < count; i++) {
                chosen.add(order.get(random.nextInt(order.size())));
            }
            return new ArrayList<>(chosen);
        }

        /** Removes {@code path} and every path that reaches it through references; returns them. */
        public Set<StorePath> removeWithReferrers(StorePath path) {
            Set<StorePath> removed = new HashSet<>();
            removed.add(path);
            boolean grew = true;
            while (grew) {
                grew = false;
                for (Map.Entry<StorePath, Set<StorePath>> entry : references.entrySet()) {
                    if (!removed.contains(entry.getKey())
                            && entry.getValue().stream().anyMatch(removed::contains)) {
                        removed.add(entry.getKey());
                        grew = true;
                    }
                }
            }
            removed.forEach(references::remove);
            order.removeAll(removed);
            return removed;
        }
    }

    /**
     * Entry point of the child JVM.
     *
     * @param args root, scratch directory, seed, generation, and optionally the workload's class name
     * @throws Exception on any failure, which ends the JVM with a stack trace and a non-zero status
     */
    public static void main(String[] args) throws Exception {
        CrashWorkload workload = args.length > 4
            ? (CrashWorkload) Class.forName(args[4]).getDeclaredConstructor().newInstance()
            : new CrashWorkload();
        Path root = Path.of(args[0]);
        try (LocalStore store = LocalStore.open(config(root))) {
            System.out.println("open");
            System.out.flush();
            workload.run(store, Path.of(args[1]), Long.parseLong(args[2]), Integer.parseInt(args[3]),
                Integer.MAX_VALUE, false, System.out);
        }
    }

    /** The configuration of the harness's stores: Guix's layout under {@code root}, little reserved space. */
    public static StoreConfig config(Path root) {
        return StoreConfig.under(root).withReservedSpace(4096);
    }

    /**
     * The operations to choose from, with their weights. Subclasses add theirs to this list.
     *
     * @return the operations
     */
    protected List<Weighted> operations() {
        List<Weighted> all = new ArrayList<>();
        for (StandardOperation operation : StandardOperation.values()) {
            all.add(new Weighted(operation.name(), operation.weight, operation));
        }
        return all;
    }

    /**
     * Runs steps 0 to {@code steps - 1} of a generation (its own process's store, or the harness's).
     *
     * @param store the open store
     * @param scratch a directory of this process
     * @param seed the harness's seed
     * @param generation the generation: the same one does the same steps
     * @param steps how many steps
     * @param replaying see {@link Step#replaying()}
     * @param out where the reports go
     * @throws IOException if the store fails
     */
    public final void run(LocalStore store, Path scratch, long seed, int generation, int steps, boolean replaying,
            PrintStream out) throws IOException {
        List<Weighted> operations = operations();
        int total = operations.stream().mapToInt(Weighted::weight).sum();
        Random random = new Random(seed * 31 + generation);
        Intended intended = new Intended();
        for (int step = 0; step < steps; step++) {
            int choice = random.nextInt(total);
            Weighted chosen = operations.get(0);
            for (Weighted operation : operations) {
                chosen = operation;
                choice -= operation.weight();
                if (choice < 0) {
                    break;
                }
            }
            // Each step gets its own random source, so an operation's draws never shift the next choices.
            Random stepRandom = new Random(random.nextLong());
            out.println("step " + step + " " + chosen.name());
            out.flush();
            Files.createDirectories(scratch);
            chosen.operation().run(new Step(store, stepRandom, "g" + generation + "-s" + step, scratch, intended,
                out, replaying));
        }
    }

    // ---------------------------------------------------------------- the store core's operations

    /** The operations of {@link LocalStore}. */
    public enum StandardOperation implements Operation {
        /** {@link LocalStore#addTextToStore} with up to three references. */
        ADD_TEXT(3) {
            @Override
            public void run(Step step) throws IOException {
                List<StorePath> refs = step.intended().pick(step.random(), 3);
                StorePath path = step.store().addTextToStore("text-" + step.tag(), text(step), refs);
                added(step, path, refs);
            }
        },
        /** {@link LocalStore#addToStore} of a source tree with up to two references. */
        ADD_SOURCE(2) {
            @Override
            public void run(Step step) throws IOException {
                List<StorePath> refs = step.intended().pick(step.random(), 2);
                Path tree = tree(step, "src");
                StorePath path = step.store().addToStore("src-" + step.tag(), tree, true, HashAlgorithm.SHA256, refs);
                added(step, path, refs);
            }
        },
        /** {@link LocalStore#addToStore} of a fixed-output item: a flat file or a tree, any algorithm. */
        ADD_FIXED(2) {
            @Override
            public void run(Step step) throws IOException {
                HashAlgorithm algorithm = HashAlgorithm.values()[step.random().nextInt(HashAlgorithm.values().length)];
                boolean recursive = algorithm != HashAlgorithm.SHA256 && step.random().nextBoolean();
                Path tree = tree(step, "fixed");
                Path source = recursive ? tree : tree.resolve("a");
                StorePath path = step.store().addToStore("fixed-" + step.tag(), source, recursive, algorithm, List.of());
                added(step, path, List.of());
            }
        },
        /** {@link LocalStore#addFromNar} of a tree's NAR with up to two references. */
        ADD_FROM_NAR(2) {
            @Override
            public void run(Step step) throws IOException {
                List<StorePath> refs = step.intended().pick(step.random(), 2);
                Path tree = tree(step, "nar");
                ByteArrayOutputStream nar = new ByteArrayOutputStream();
                new NarDumper().dump(tree, nar);
                Hash narHash = Hash.ofNar(tree, HashAlgorithm.SHA256);
                StorePath path = paths(step).source("nar-" + step.tag(), narHash, refs, false);
                step.store().addFromNar(new ByteArrayInputStream(nar.toByteArray()),
                    PathInfo.of(path, narHash, nar.size(), refs, 0));
                added(step, path, refs);
            }
        },
        /** {@link LocalStore#importPaths} of an export of one to three new items referring to earlier ones. */
        IMPORT(2) {
            @Override
            public void run(Step step) throws IOException {
                int count = 1 + step.random().nextInt(3);
                List<StorePath> outside = step.intended().pick(step.random(), 2);
                ByteArrayOutputStream export = new ByteArrayOutputStream();
                ExportWriter writer = new ExportWriter(export);
                List<StorePath> items = new ArrayList<>();
                Map<StorePath, List<StorePath>> refsOf = new HashMap<>();
                for (int i = 0; i < count; i++) {
                    Path tree = tree(step, "export-" + i);
                    List<StorePath> refs = new ArrayList<>(outside);
                    refs.addAll(items);
                    StorePath path = paths(step).source("exp-" + step.tag() + "-" + i,
                        Hash.ofNar(tree, HashAlgorithm.SHA256), refs, false);
                    writer.write(path, tree, refs, Optional.empty());
                    items.add(path);
                    refsOf.put(path, refs);
                }
                writer.finish();
                List<StorePath> imported = step.store().importPaths(
                    new BufferedInputStream(new ByteArrayInputStream(export.toByteArray())));
                for (StorePath path : imported) {
                    added(step, path, refsOf.get(path));
                }
            }
        },
        /**
         * A registration of one to three items whose files the workload writes into the store dir itself
         * (as a build does), canonicalises and syncs, then describes in a reg-info or dump-db text that
         * {@link RegistrationReader} parses; registered in one transaction.
         */
        REGISTER(2) {
            @Override
            public void run(Step step) throws IOException {
                LocalStore store = step.store();
                boolean hashGiven = step.random().nextBoolean();
                int count = 1 + step.random().nextInt(3);
                List<StorePath> outside = step.intended().pick(step.random(), 2);
                StoreDir storeDir = store.config().storeDir();
                List<StorePath> batch = new ArrayList<>();
                StringBuilderWriter text = new StringBuilderWriter();
                RegistrationWriter writer = new RegistrationWriter(text, hashGiven);
                Canonicaliser canonicaliser = Canonicaliser.forThisProcess();
                for (int i = 0; i < count; i++) {
                    Path tree = tree(step, "register-" + i);
                    List<StorePath> refs = new ArrayList<>(outside);
                    refs.addAll(batch);
                    Hash narHash = Hash.ofNar(tree, HashAlgorithm.SHA256);
                    StorePath path = paths(step).source("reg-" + step.tag() + "-" + i, narHash, refs, false);
                    batch.add(path);
                    if (store.isValidPath(path)) {
                        continue;
                    }
                    // The files go straight to their place, as a build's outputs do; a leftover is replaced.
                    Path files = storeDir.physicalPath(path);
                    FileTrees.deleteTree(files);
                    copyTree(tree, files);
                    canonicaliser.canonicalise(files);
                    Canonicaliser.syncTree(files);
                    writer.write(path, narHash, narOf(files).narSize(), null, refs);
                }
                Canonicaliser.syncDirectory(store.config().physicalStoreDir());
                List<RegistrationReader.Item> items = (hashGiven
                    ? RegistrationReader.hashGiven(text.bytes(), storeDir.logical())
                    : RegistrationReader.regInfo(text.bytes(), storeDir.logical())).readAll();
                List<PathInfo> infos = new ArrayList<>();
                for (RegistrationReader.Item item : items) {
                    if (hashGiven) {
                        infos.add(item.toPathInfo(item.narHash(), item.narSize(), 1_700_000_000L));
                    } else {
                        NarDigest nar = narOf(storeDir.physicalPath(item.path()));
                        infos.add(item.toPathInfo(Hash.of(HashAlgorithm.SHA256, nar.digest()), nar.narSize(),
                            1_700_000_000L));
                    }
                }
                if (!infos.isEmpty()) {
                    step.batch(infos.stream().map(PathInfo::path).toList());
                    store.registerValidPaths(infos);
                }
                for (StorePath path : batch) {
                    int index = batch.indexOf(path);
                    List<StorePath> refs = new ArrayList<>(outside);
                    refs.addAll(batch.subList(0, index));
                    added(step, path, refs);
                }
            }
        },
        /** {@link LocalStore#invalidatePaths} of an intended-valid path and every valid path that reaches it. */
        INVALIDATE(1) {
            @Override
            public void run(Step step) throws IOException {
                List<StorePath> picked = step.intended().pick(step.random(), 1);
                if (picked.isEmpty()) {
                    return;
                }
                StorePath path = picked.get(0);
                step.intended().removeWithReferrers(path);
                if (step.replaying() || !step.store().isValidPath(path)) {
                    return;
                }
                SortedSet<StorePath> closure = step.store().queryReferrersClosure(List.of(path));
                step.invalidating(closure);
                step.store().invalidatePaths(closure);
                closure.forEach(step::invalid);
            }
        };

        private final int weight;

        StandardOperation(int weight) {
            this.weight = weight;
        }

        private static void added(Step step, StorePath path, List<StorePath> refs) {
            step.intended().add(path, refs);
            step.valid(path);
        }

        private static StorePaths paths(Step step) {
            return new StorePaths(step.store().config().storeDir());
        }

        private static String text(Step step) {
            return "text of " + step.tag() + ": " + Long.toHexString(step.random().nextLong()) + "\n";
        }
    }

    /**
     * A small random tree in the scratch directory: a file {@code a}, sometimes an executable, a
     * subdirectory with a symlink, and one time in eight a file of a few MiB, so that kills land inside
     * long writes too.
     */
    static Path tree(Step step, String name) throws IOException {
        Random random = step.random();
        Path root = step.scratch().resolve(name);
        FileTrees.deleteTree(root);
        Files.createDirectories(root);
        Files.writeString(root.resolve("a"), "a of " + step.tag() + " " + random.nextInt() + "\n");
        if (random.nextBoolean()) {
            Path run = Files.writeString(root.resolve("run"), "#!/bin/sh\necho " + step.tag() + "\n");
            Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        if (random.nextBoolean()) {
            Files.createDirectories(root.resolve("sub"));
            Files.createSymbolicLink(root.resolve("sub/link"), Path.of("../a"));
            byte[] data = new byte[random.nextInt(64 * 1024)];
            random.nextBytes(data);
            Files.write(root.resolve("sub/data"), data);
        }
        if (random.nextInt(8) == 0) {
            byte[] block = new byte[1 << 20];
            random.nextBytes(block);
            try (var out = Files.newOutputStream(root.resolve("big"))) {
                for (int i = 0, blocks = 1 + random.nextInt(4); i < blocks; i++) {
                    out.write(block);
                }
            }
        }
        return root;
    }

    /** Copies a tree made by {@link #tree} (files, an executable, directories, symlinks) to a new place. */
    private static void copyTree(Path from, Path to) throws IOException {
        try (var walk = Files.walk(from)) {
            for (Path source : (Iterable<Path>) walk::iterator) {
                Path target = to.resolve(from.relativize(source).toString());
                if (Files.isSymbolicLink(source)) {
                    Files.createSymbolicLink(target, Files.readSymbolicLink(source));
                } else if (Files.isDirectory(source)) {
                    Files.createDirectory(target);
                } else {
                    Files.copy(source, target, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    /** The NAR SHA-256 and size of a tree. */
    private static NarDigest narOf(Path files) throws IOException {
        return new NarDumper().digest(files, HashAlgorithm.SHA256.newDigest());
    }

    /** A writer into memory whose text becomes an input stream. */
    private static final class StringBuilderWriter extends Writer {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final Writer out = new OutputStreamWriter(bytes, StandardCharsets.UTF_8);

        @Override
        public void write(char[] buffer, int off, int len) throws IOException {
            out.write(buffer, off, len);
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            out.close();
        }

        ByteArrayInputStream bytes() throws IOException {
            out.flush();
            return new ByteArrayInputStream(bytes.toByteArray());
        }
    }
}
