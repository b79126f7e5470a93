package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a process running a seeded workload of every store operation at random moments and checks what it
 * leaves behind ({@link CrashHarness}), and runs two processes adding the same items at once.
 */
class LocalStoreCrashTest {
    /** Kills in a plain build: about 15 s. The full count comes from {@code -Pfull-reliability} (bench/crash-trials.sh). */
    private static final int CI_TRIALS = 12;

    @TempDir
    Path tmp;

    @Test
    void aProcessKilledAtRandomMomentsOfASeededWorkloadLeavesASoundStore() throws Exception {
        CrashHarness.Summary summary = CrashHarness.run(tmp, CrashHarness.seed(), CrashHarness.trials(CI_TRIALS),
            CrashWorkload.class, null);
        System.out.println(summary);
        assertTrue(summary.steps() > 0, "the children ran steps: " + summary);
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
                assertEquals("", CrashHarness.read(errs.get(c)), "child " + c + "'s errors");
                assertEquals(0, child.exitValue(), "child " + c + "'s exit status");
                List<String> lines = CrashHarness.lines(outs.get(c));
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
        StoreConfig config = AddingChild.config(root);
        try (StoreDatabase db = StoreDatabase.open(config.databaseDir(), "/gnu/store")) {
            assertEquals(new TreeSet<>(paths), db.validPaths(), "the items are valid, and nothing else is");
            CrashHarness.checkItems(config, db, "after the race");
        }
        Set<String> names = new TreeSet<>();
        paths.forEach(path -> names.add(path.toString().substring("/gnu/store/".length())));
        assertEquals(names, new TreeSet<>(CrashHarness.storeEntries(config).stream().filter(n -> !n.endsWith(".lock")).toList()),
            "the store dir holds each item once and nothing else (no temporaries)");
    }

    private static Process start(Path root, Path scratch, int generation, Path out, Path err, String... mode)
            throws IOException {
        List<String> command = ChildJvm.command(AddingChild.class);
        command.addAll(List.of(root.toString(), scratch.toString(), Integer.toString(generation)));
        command.addAll(List.of(mode));
        return new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    }

    private static void waitForOpen(Process child, Path out, Path err) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (CrashHarness.lines(out).isEmpty()) {
            assertTrue(child.isAlive(), () -> "the child died before opening the store: " + CrashHarness.read(err));
            assertTrue(System.nanoTime() < deadline, "the child did not open the store in 30 s");
            Thread.sleep(2);
        }
        assertEquals("open", CrashHarness.lines(out).get(0));
    }
}
