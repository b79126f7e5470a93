package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.granary.nar.NarDumper;

/**
 * Kills a child JVM running a {@link CrashWorkload} with SIGKILL at random moments, trial after trial on
 * one store, and checks after each kill what it left: the database opens; the closure invariant holds and
 * the referrers mirror the references; every valid item is on disk, canonical, and of its registered NAR
 * hash and size; every path the child reported valid (or invalid) still is; every registration batch is
 * all valid or all invalid; the entries of the store dir that are not valid are only lock files,
 * temporaries of dead processes (which the next open removes) and unregistered items of the workload's
 * names. At the end it replays every generation in this process and checks that each unregistered item
 * left at a path has been replaced by a valid, sound one.
 *
 * <p>Everything random comes from one seed: the workload of each generation (so a trial's steps are
 * reproducible exactly) and the kill delays (so the kills land at about the same moments; the child's
 * speed varies). Every failure names the seed and the trial. A module above adds its operations through a
 * {@link CrashWorkload} subclass and its checks (for example "a collection removes every leftover")
 * through a {@link TrialCheck}.
 */
public final class CrashHarness {
    /** The system property giving the number of trials. */
    public static final String TRIALS_PROPERTY = "granary.crash.trials";
    /** The system property giving the seed; a fixed one by default. */
    public static final String SEED_PROPERTY = "granary.crash.seed";
    private static final long DEFAULT_SEED = 0x6772616e617279L;
    private static final int MIN_DELAY_MS = 20;
    private static final int MAX_DELAY_MS = 600;

    private CrashHarness() {
    }

    /** A check run after each trial's own checks, with the database closed and no child running. */
    @FunctionalInterface
    public interface TrialCheck {
        /**
         * Checks the store after a trial.
         *
         * @param config the store
         * @param trial what the trial did and left
         * @throws IOException if the store cannot be read
         */
        void check(StoreConfig config, Trial trial) throws IOException;

        /**
         * Mends, before the trial's own checks, what the workload breaks on purpose and a kill may have
         * left broken (such as an item damaged so that a step can repair it). Does nothing by default.
         *
         * @param config the store
         * @param lines the child's complete output lines
         * @throws IOException if the store cannot be mended
         */
        default void beforeChecks(StoreConfig config, List<String> lines) throws IOException {
        }
    }

    /**
     * One trial.
     *
     * @param index its number
     * @param generation the generation the child ran (two trials in a row run each one)
     * @param description where the kill landed, for messages
     * @param lines the child's complete output lines
     * @param leftovers the entries of the store dir at store paths that are not valid
     */
    public record Trial(int index, int generation, String description, List<String> lines, Set<String> leftovers) {
    }

    /**
     * What a run of the harness did.
     *
     * @param seed the seed
     * @param trials trials run
     * @param steps steps begun by the children in all
     * @param stepsByOperation steps begun, by operation
     * @param valid paths reported valid in all
     * @param trialsWithTemporaries trials after which a temporary entry was left
     * @param leftovers distinct unregistered items left at store paths
     * @param killedBeforeOpen kills that landed before the store was open
     */
    public record Summary(long seed, int trials, int steps, Map<String, Integer> stepsByOperation, int valid,
            int trialsWithTemporaries, int leftovers, int killedBeforeOpen) {
        @Override
        public String toString() {
            return trials + " kills (seed " + seed + "): " + steps + " steps begun " + stepsByOperation + ", "
                + valid + " paths reported valid, temporaries left by " + trialsWithTemporaries + " kills, "
                + leftovers + " unregistered items left at their paths (all replaced by a replay), "
                + killedBeforeOpen + " kills before the store was open";
        }
    }

    /** The number of trials: the system property, else {@code defaultTrials}. */
    public static int trials(int defaultTrials) {
        return Integer.getInteger(TRIALS_PROPERTY, defaultTrials);
    }

    /** The seed: the system property, else a fixed one. */
    public static long seed() {
        return Long.getLong(SEED_PROPERTY, DEFAULT_SEED);
    }

    /**
     * Runs the trials on a new store under {@code tmp}.
     *
     * @param tmp a directory of the test's own
     * @param seed the seed of everything random
     * @param trials how many kills
     * @param workload the workload the child runs
     * @param extra checks of a module above, after each trial's own; may be null
     * @return what happened
     * @throws Exception on a failed check (an AssertionError naming the seed and the trial) or an I/O error
     */
    public static Summary run(Path tmp, long seed, int trials, Class<? extends CrashWorkload> workload,
            TrialCheck extra) throws Exception {
        Random random = new Random(seed);
        Path root = tmp.resolve("root");
        StoreConfig config = CrashWorkload.config(root);
        long openMillis = 0;
        int steps = 0;
        int valid = 0;
        int trialsWithTemporaries = 0;
        int killedBeforeOpen = 0;
        Map<String, Integer> byOperation = new TreeMap<>();
        Map<Integer, Integer> lastStep = new TreeMap<>();
        Set<String> leftovers = new TreeSet<>();
        for (int i = 0; i < trials; i++) {
            int index = i;
            // Two trials per generation: the second runs the same steps again, over what the first left.
            int generation = index / 2;
            Path out = tmp.resolve("out-" + index);
            Path err = tmp.resolve("err-" + index);
            long spawned = System.nanoTime();
            Process child = start(root, tmp.resolve("scratch-" + index), seed, generation, out, err, workload);
            boolean early = index % 4 == 3;
            int delay;
            try {
                if (early) {
                    // Every fourth kill counts from the spawn and lands while the child starts and opens the store.
                    delay = (int) (openMillis * (0.5 + 0.6 * random.nextDouble()));
                    Thread.sleep(delay);
                } else {
                    waitForOpen(child, out, err, seed, index);
                    openMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - spawned);
                    delay = MIN_DELAY_MS + random.nextInt(MAX_DELAY_MS - MIN_DELAY_MS + 1);
                    Thread.sleep(delay);
                    assertTrue(child.isAlive(), () -> context(seed, index) + "the child ended on its own: " + read(err));
                }
            } finally {
                child.destroyForcibly(); // SIGKILL
            }
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), context(seed, index) + "the killed child did not end");
            assertEquals("", read(err), context(seed, index) + "the child's errors before it was killed");
            List<String> lines = lines(out);
            killedBeforeOpen += lines.isEmpty() ? 1 : 0;
            for (String line : lines) {
                if (line.startsWith("step ")) {
                    steps++;
                    byOperation.merge(line.split(" ")[2], 1, Integer::sum);
                    lastStep.merge(generation, Integer.parseInt(line.split(" ")[1]), Math::max);
                } else if (line.startsWith("valid ")) {
                    valid++;
                }
            }
            boolean temporaries = !temporaries(config).isEmpty();
            trialsWithTemporaries += temporaries ? 1 : 0;
            String description = "generation " + generation + ", killed " + delay + " ms after "
                + (early ? "its start" : "opening the store") + ", " + lines.size() + " lines reported";
            if (extra != null) {
                extra.beforeChecks(config, lines);
            }
            Set<String> left = checkAfterCrash(config, lines, context(seed, index) + description);
            leftovers.addAll(left);
            if (extra != null) {
                extra.check(config, new Trial(index, generation, description, lines, left));
            }
        }
        replay(config, tmp.resolve("scratch-replay"), seed, lastStep, leftovers, workload, context(seed, -1));
        return new Summary(seed, trials, steps, byOperation, valid, trialsWithTemporaries, leftovers.size(),
            killedBeforeOpen);
    }

    private static String context(long seed, int trial) {
        return "[seed " + seed + (trial >= 0 ? ", trial " + trial : ", replay") + " — rerun with -D" + SEED_PROPERTY
            + "=" + seed + "] ";
    }

    /**
     * The checks after one kill (see the class documentation). Returns the entries at store paths that
     * are not valid.
     */
    static Set<String> checkAfterCrash(StoreConfig config, List<String> lines, String trial) throws IOException {
        List<String> temporaries = temporaries(config);
        Set<String> unregistered = new TreeSet<>();
        try (StoreDatabase db = StoreDatabase.open(config.databaseDir(), config.storeDir().logical())) {
            SortedSet<StorePath> valid = db.validPaths();
            checkReported(lines, valid, config.storeDir(), trial);
            for (StorePath path : valid) {
                for (StorePath reference : db.references(path)) {
                    assertTrue(valid.contains(reference), trial + ": " + path + " refers to " + reference
                        + ", which is not valid");
                    assertTrue(db.referrers(reference).contains(path), trial + ": " + reference
                        + "'s referrers miss " + path);
                }
            }
            checkItems(config, db, trial);
            Set<String> validNames = new TreeSet<>();
            valid.forEach(path -> validNames.add(path.baseName()));
            for (String entry : storeEntries(config)) {
                if (validNames.contains(entry) || entry.endsWith(".lock")) {
                    continue;
                }
                if (temporaries.contains(entry)) {
                    continue;
                }
                String name = entry.length() > StorePath.HASH_PART_LENGTH + 1
                    && StorePath.hashPartProblem(entry.substring(0, StorePath.HASH_PART_LENGTH)) == null
                    ? entry.substring(StorePath.HASH_PART_LENGTH + 1) : "";
                assertTrue(CrashWorkload.NAME_PREFIXES.stream().anyMatch(name::startsWith),
                    trial + ": " + entry + " in the store dir is neither valid, a lock, a temporary nor an item"
                        + " of the workload");
                unregistered.add(entry);
            }
        }
        try (LocalStore reopened = LocalStore.open(config)) {
            assertEquals(List.of(), temporaries(config), trial + ": temporaries left after the next open (before: "
                + temporaries + ")");
        }
        return unregistered;
    }

    /**
     * Each path's last reported state holds (a path announced for invalidation and not yet reported
     * invalid may be either), and each announced registration or invalidation is all done or not at all
     * until a later line reports or announces one of its paths again (a later step that invalidates or
     * collects some of a registration's items leaves it partly valid, rightly).
     */
    private static void checkReported(List<String> lines, Set<StorePath> valid, StoreDir storeDir, String trial) {
        Map<StorePath, Boolean> reported = new HashMap<>();
        List<List<StorePath>> batches = new ArrayList<>();
        for (String line : lines) {
            String[] words = line.split(" ");
            if (List.of("valid", "invalid", "batch", "invalidating").contains(words[0])) {
                Set<String> named = new HashSet<>(List.of(words));
                batches.removeIf(batch -> batch.stream().anyMatch(path -> named.contains(path.toString())));
            }
            switch (words[0]) {
                case "valid" -> reported.put(StorePath.parse(words[1], storeDir), true);
                case "invalid" -> reported.put(StorePath.parse(words[1], storeDir), false);
                case "batch", "invalidating" -> {
                    List<StorePath> batch = Stream.of(words).skip(1).map(p -> StorePath.parse(p, storeDir)).toList();
                    batches.add(batch);
                    if (words[0].equals("invalidating")) {
                        batch.forEach(reported::remove);
                    }
                }
                default -> { }
            }
        }
        reported.forEach((path, isValid) -> assertEquals(isValid, valid.contains(path),
            trial + ": " + path + " was last reported " + (isValid ? "valid" : "invalid")));
        for (List<StorePath> batch : batches) {
            long count = batch.stream().filter(valid::contains).count();
            assertTrue(count == 0 || count == batch.size(), trial + ": a transaction left " + count + " of "
                + batch.size() + " paths valid: " + batch);
        }
    }

    /**
     * Replays, in this process, each generation up to its last step begun (invalidations skipped): every
     * unregistered item left at a path must then be valid and sound.
     */
    private static void replay(StoreConfig config, Path scratch, long seed, Map<Integer, Integer> lastStep,
            Set<String> leftovers, Class<? extends CrashWorkload> workload, String context) throws Exception {
        CrashWorkload replayed = workload.getDeclaredConstructor().newInstance();
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8);
        try (LocalStore store = LocalStore.open(config)) {
            for (Map.Entry<Integer, Integer> generation : lastStep.entrySet()) {
                replayed.run(store, scratch, seed, generation.getKey(), generation.getValue() + 1, true, quiet);
            }
        }
        try (StoreDatabase db = StoreDatabase.open(config.databaseDir(), config.storeDir().logical())) {
            for (String name : leftovers) {
                assertTrue(db.isValid(StorePath.parse(config.storeDir().logical() + "/" + name, config.storeDir())),
                    context + name + " was not replaced by a valid item when its step ran again");
            }
            checkItems(config, db, context);
        }
    }

    /** Every valid item exists, is canonical, and has its registered NAR hash and size. */
    static void checkItems(StoreConfig config, StoreDatabase db, String context) throws IOException {
        Canonicaliser canonical = Canonicaliser.keepingOwners();
        NarDumper dumper = new NarDumper();
        for (StorePath path : db.validPaths()) {
            Path files = config.storeDir().physicalPath(path);
            assertTrue(Files.exists(files, LinkOption.NOFOLLOW_LINKS), context + ": " + path + " is valid but missing");
            assertEquals(Optional.empty(), canonical.firstDeviation(files), context + ": " + path + " is not canonical");
            PathInfo info = db.pathInfo(path).orElseThrow();
            var nar = dumper.digest(files, HashAlgorithm.SHA256.newDigest());
            assertEquals(info.narSize(), nar.narSize(), context + ": " + path + ": NAR size");
            assertEquals(info.narHash(), Hash.of(HashAlgorithm.SHA256, nar.digest()), context + ": " + path
                + ": NAR hash");
        }
    }

    /** The temporary entries of additions in the store dir. */
    static List<String> temporaries(StoreConfig config) throws IOException {
        return storeEntries(config).stream().filter(n -> LocalStore.temporaryOwner(n) > 0).toList();
    }

    /** The names in the store dir, sorted. */
    static List<String> storeEntries(StoreConfig config) throws IOException {
        try (Stream<Path> entries = Files.list(config.physicalStoreDir())) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static Process start(Path root, Path scratch, long seed, int generation, Path out, Path err,
            Class<? extends CrashWorkload> workload) throws IOException {
        List<String> command = ChildJvm.command(CrashWorkload.class);
        command.addAll(List.of(root.toString(), scratch.toString(), Long.toString(seed), Integer.toString(generation),
            workload.getName()));
        return new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    }

    private static void waitForOpen(Process child, Path out, Path err, long seed, int trial)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (lines(out).isEmpty()) {
            assertTrue(child.isAlive(), () -> context(seed, trial) + "the child died before opening the store: "
                + read(err));
            assertTrue(System.nanoTime() < deadline, context(seed, trial) + "the child did not open the store in 30 s");
            Thread.sleep(2);
        }
        assertEquals("open", lines(out).get(0));
    }

    /** The complete lines of a child's output: a line the kill cut short is not one. */
    static List<String> lines(Path out) throws IOException {
        String text = read(out);
        List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
        lines.remove(lines.size() - 1);
        return lines;
    }

    static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
