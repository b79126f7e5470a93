package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.granary.nar.NarDumper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a process that is adding items at random moments and checks what it leaves behind, and runs two
 * processes adding the same items at once.
 */
class LocalStoreCrashTest {
    /**
     * Kills per run. Each trial costs a child JVM's start (about 0.3 s) plus its random lifetime and a check
     * of the whole store; 32 keep the test under about 30 s while kills land in every phase of every method
     * (and, one trial in four, in the child's start and its opening of the store).
     */
    private static final int TRIALS = 32;
    private static final long SEED = 0x6772616e617279L;
    private static final int MIN_DELAY_MS = 20;
    private static final int MAX_DELAY_MS = 400;

    @TempDir
    Path tmp;

    @Test
    void aProcessKilledWhileAddingLeavesASoundStore() throws Exception {
        Random random = new Random(SEED);
        Path root = tmp.resolve("root");
        int reportedTotal = 0;
        int trialsWithTemporaries = 0;
        Set<String> invalidLeftovers = new TreeSet<>();
        long openMillis = 0;
        int killedBeforeOpen = 0;
        for (int trial = 0; trial < TRIALS; trial++) {
            // Two trials per generation: the second adds the same paths again, over what the first left.
            int generation = trial / 2;
            Path out = tmp.resolve("out-" + trial);
            Path err = tmp.resolve("err-" + trial);
            long spawned = System.nanoTime();
            Process child = start(root, tmp.resolve("scratch-" + trial), generation, out, err, "loop");
            int delay;
            if (trial % 4 == 3) {
                // Every fourth kill counts from the spawn and lands while the child starts and opens the store.
                delay = (int) (openMillis * (0.5 + 0.6 * random.nextDouble()));
                Thread.sleep(delay);
            } else {
                waitForOpen(child, out, err);
                openMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - spawned);
                delay = MIN_DELAY_MS + random.nextInt(MAX_DELAY_MS - MIN_DELAY_MS + 1);
                Thread.sleep(delay);
                assertTrue(child.isAlive(), () -> "the child ended on its own: " + read(err));
            }
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the killed child did not end");
            assertEquals("", read(err), "the child's errors before it was killed");
            List<String> reported = lines(out);
            List<StorePath> done = new ArrayList<>();
            for (String line : reported.subList(Math.min(1, reported.size()), reported.size())) {
                done.add(StorePath.parse(line, "/gnu/store"));
            }
            reportedTotal += done.size();
            trialsWithTemporaries += temporaries(root).isEmpty() ? 0 : 1;
            killedBeforeOpen += reported.isEmpty() ? 1 : 0;
            String description = "trial " + trial + " (killed " + delay + " ms after "
                + (trial % 4 == 3 ? "its start" : "opening the store") + ", " + done.size() + " items reported)";
            invalidLeftovers.addAll(checkAfterCrash(root, done, description));
        }
        replaceLeftovers(root, invalidLeftovers);
        System.out.println(TRIALS + " kills: " + reportedTotal + " additions reported, temporaries left by "
            + trialsWithTemporaries + " kills, " + invalidLeftovers.size()
            + " unregistered items left at their paths, " + killedBeforeOpen + " kills before the store was open");
    }

    /**
     * Adds again, in this process, the steps that the kills cut short, up to the last one that left an
     * unregistered item at its path: each such item is replaced by a valid, sound one.
     */
    private void replaceLeftovers(Path root, Set<String> leftovers) throws IOException {
        Map<Integer, Integer> lastStep = new TreeMap<>();
        for (String name : leftovers) {
            String[] parts = name.split("-");
            lastStep.merge(Integer.parseInt(parts[parts.length - 2]), Integer.parseInt(parts[parts.length - 1]),
                Math::max);
        }
        try (LocalStore store = LocalStore.open(AddingChild.config(root))) {
            for (Map.Entry<Integer, Integer> generation : lastStep.entrySet()) {
                for (int step = 0; step <= generation.getValue(); step++) {
                    AddingChild.step(store, tmp.resolve("scratch-parent"), generation.getKey(), step, path -> { });
                }
            }
        }
        try (StoreDatabase db = StoreDatabase.open(AddingChild.config(root).databaseDir(), "/gnu/store")) {
            for (String name : leftovers) {
                assertTrue(db.isValid(StorePath.parse("/gnu/store/" + name, "/gnu/store")), name + " replaced");
            }
            checkItems(root, db);
        }
    }

    @Test
    void twoProcessesAddingTheSameItemsWriteEachOnceWithoutErrors() throws Exception {
        int steps = 24;
        Path root = tmp.resolve("root");
        // No store yet: the two children create its layout and database at the same time too.
        List<Process> children = new ArrayList<>();
        List<Path> outs = new ArrayList<>();
        List<Path> errs = new ArrayList<>();
        List<List<StorePath>> added = new ArrayList<>();
        try {
            for (int c = 0; c < 2; c++) {
                outs.add(tmp.resolve("out-" + c));
                errs.add(tmp.resolve("err-" + c));
                children.add(start(root, tmp.resolve("scratch-" + c), 0, outs.get(c), errs.get(c), "fixed",
                    Integer.toString(steps)));
            }
            for (int c = 0; c < 2; c++) {
                waitForOpen(children.get(c), outs.get(c), errs.get(c));
            }
            // Both are open and waiting: let them go at once.
            for (Process child : children) {
                try (OutputStream go = child.getOutputStream()) {
                    go.write("go\n".getBytes(StandardCharsets.UTF_8));
                }
            }
            for (int c = 0; c < 2; c++) {
                Process child = children.get(c);
                assertTrue(child.waitFor(60, TimeUnit.SECONDS), "child " + c + " did not finish in 60 s");
                assertEquals("", read(errs.get(c)), "child " + c + "'s errors");
                assertEquals(0, child.exitValue(), "child " + c + "'s exit status");
                List<String> lines = lines(outs.get(c));
                assertEquals("done", lines.get(lines.size() - 1), "child " + c + "'s last line");
                added.add(lines.subList(1, lines.size() - 1).stream()
                    .map(line -> StorePath.parse(line, "/gnu/store")).toList());
            }
        } finally {
            children.forEach(Process::destroyForcibly);
        }
        List<StorePath> paths = added.get(0);
        assertEquals(paths, added.get(1), "both processes add the same paths in the same order");
        assertEquals(steps + 2 * (steps / 3) + 2 * (steps / 4), new TreeSet<>(paths).size(), "distinct items added");
        try (StoreDatabase db = StoreDatabase.open(AddingChild.config(root).databaseDir(), "/gnu/store")) {
            assertEquals(new TreeSet<>(paths), db.validPaths(), "the items are valid, and nothing else is");
            checkItems(root, db);
        }
        Set<String> names = new TreeSet<>();
        paths.forEach(path -> names.add(path.toString().substring("/gnu/store/".length())));
        assertEquals(names, new TreeSet<>(storeEntries(root).stream().filter(n -> !n.endsWith(".lock")).toList()),
            "the store dir holds each item once and nothing else (no temporaries)");
    }

    /**
     * What a killed adder must leave: a database that opens, closed under references, whose every item is
     * on disk, canonical and of its registered NAR hash and size; every reported path valid; temporaries
     * not valid and removed by the next open. Returns the entries at store paths left unregistered.
     */
    private Set<String> checkAfterCrash(Path root, List<StorePath> done, String trial) throws IOException {
        List<String> leftovers = temporaries(root);
        Set<String> unregistered;
        try (StoreDatabase db = StoreDatabase.open(AddingChild.config(root).databaseDir(), "/gnu/store")) {
            SortedSet<StorePath> valid = db.validPaths();
            for (StorePath path : done) {
                assertTrue(valid.contains(path), trial + ": " + path + " was reported added but is not valid");
            }
            for (StorePath path : valid) {
                for (StorePath reference : db.references(path)) {
                    assertTrue(valid.contains(reference), trial + ": " + path + " refers to " + reference
                        + ", which is not valid");
                }
            }
            Set<String> validNames = new TreeSet<>();
            valid.forEach(path -> validNames.add(path.toString().substring("/gnu/store/".length())));
            for (String leftover : leftovers) {
                assertFalse(validNames.contains(leftover), trial + ": temporary " + leftover + " is valid");
            }
            checkItems(root, db);
            unregistered = storeEntries(root).stream()
                .filter(n -> !n.startsWith(".") && !n.endsWith(".lock") && !validNames.contains(n))
                .collect(Collectors.toSet());
        }
        try (LocalStore reopened = LocalStore.open(AddingChild.config(root))) {
            assertTrue(done.stream().allMatch(reopened::isValidPath), trial + ": reported paths valid after reopening");
        }
        assertEquals(List.of(), temporaries(root), trial + ": temporaries left after the next open (before: "
            + leftovers + ")");
        return unregistered;
    }

    private static void checkItems(Path root, StoreDatabase db) throws IOException {
        StoreDir storeDir = AddingChild.config(root).storeDir();
        Canonicaliser canonical = Canonicaliser.keepingOwners();
        for (StorePath path : db.validPaths()) {
            Path files = storeDir.physicalPath(path);
            assertTrue(Files.exists(files, LinkOption.NOFOLLOW_LINKS), path + " is valid but missing");
            assertEquals(Optional.empty(), canonical.firstDeviation(files), path + " is not canonical");
            PathInfo info = db.pathInfo(path).orElseThrow();
            CountingSink nar = new CountingSink();
            new NarDumper().dump(files, nar);
            assertEquals(info.narSize(), nar.count, path + ": NAR size");
            assertEquals(info.narHash(), Hash.ofNar(files, HashAlgorithm.SHA256), path + ": NAR hash");
        }
    }

    private static List<String> temporaries(Path root) throws IOException {
        return storeEntries(root).stream().filter(n -> LocalStore.temporaryOwner(n) > 0).toList();
    }

    private static List<String> storeEntries(Path root) throws IOException {
        try (Stream<Path> entries = Files.list(AddingChild.config(root).physicalStoreDir())) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static Process start(Path root, Path scratch, int generation, Path out, Path err, String... mode)
            throws IOException {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
            "-cp", System.getProperty("java.class.path"), AddingChild.class.getName(), root.toString(),
            scratch.toString(), Integer.toString(generation)));
        command.addAll(List.of(mode));
        return new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    }

    private static void waitForOpen(Process child, Path out, Path err) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (lines(out).isEmpty()) {
            assertTrue(child.isAlive(), () -> "the child died before opening the store: " + read(err));
            assertTrue(System.nanoTime() < deadline, "the child did not open the store in 30 s");
            Thread.sleep(2);
        }
        assertEquals("open", lines(out).get(0));
    }

    /** The complete lines of a child's output: a line the kill cut short is not one. */
    private static List<String> lines(Path out) throws IOException {
        String text = read(out);
        List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
        lines.remove(lines.size() - 1);
        return lines;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final class CountingSink extends OutputStream {
        long count;

        @Override
        public void write(int b) {
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            count += len;
        }
    }
}
