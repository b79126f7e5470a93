package org.granary.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.granary.store.ChildJvm;
import org.granary.store.LocalStore;
import org.granary.store.StoreConfig;
import org.granary.store.StoreDatabase;
import org.granary.store.StorePath;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two processes of {@value StressChild#THREADS} threads each ({@link StressChild}) add, import, query,
 * take temporary roots, collect garbage and check contents on one store at once for a bounded time
 * ({@value #CI_SECONDS} s in a plain build; {@code -Dgranary.stress.seconds}, {@code -Pfull-reliability},
 * bench/stress.sh). Afterwards nothing rooted or temporarily rooted was deleted, the collections removed
 * the garbage nobody rooted, and {@code verify --contents} finds nothing.
 */
class StressTest {
    private static final int CI_SECONDS = 3;
    private static final int ROOTED = 12;
    private static final int GARBAGE = 40;

    @TempDir
    Path tmp;

    @Test
    void twoProcessesOfFourThreadsDeleteNothingRootedAndLeaveAStoreThatVerifiesClean() throws Exception {
        double seconds = Double.parseDouble(System.getProperty("granary.stress.seconds", Integer.toString(CI_SECONDS)));
        Path root = tmp.resolve("root");
        StoreConfig config = StoreConfig.under(root);
        List<StorePath> rooted = new ArrayList<>();
        List<StorePath> garbage = new ArrayList<>();
        try (LocalStore store = LocalStore.open(config)) {
            for (int i = 0; i < ROOTED; i++) {
                // A chain: each rooted item refers to the one before, so the roots' closures overlap.
                StorePath path = store.addTextToStore("rooted-" + i, "rooted " + i, i == 0 ? List.of()
                    : List.of(rooted.get(i - 1)));
                rooted.add(path);
                if (i % 3 == 2) {
                    Files.createSymbolicLink(config.physicalStateDir().resolve("gcroots").resolve("root-" + i),
                        Path.of(path.toString()));
                }
            }
            for (int i = 0; i < GARBAGE; i++) {
                garbage.add(store.addTextToStore("garbage-" + i, "garbage " + i,
                    i % 2 == 1 ? List.of(garbage.get(i - 1)) : List.of()));
            }
        }
        Files.write(root.resolve("rooted"), rooted.stream().map(StorePath::toString).toList());
        Files.write(root.resolve("garbage"), garbage.stream().map(StorePath::toString).toList());

        List<Process> children = new ArrayList<>();
        List<List<String>> outputs = new ArrayList<>();
        try {
            for (int c = 0; c < 2; c++) {
                List<String> command = ChildJvm.command(StressChild.class);
                command.addAll(List.of(root.toString(), tmp.resolve("scratch-" + c).toString(),
                    Double.toString(seconds), "c" + c));
                children.add(new ProcessBuilder(command)
                    .redirectOutput(tmp.resolve("out-" + c).toFile()).redirectError(tmp.resolve("err-" + c).toFile())
                    .start());
            }
            for (int c = 0; c < 2; c++) {
                waitForDone(children.get(c), tmp.resolve("out-" + c), tmp.resolve("err-" + c), seconds);
            }
            // Both are done and still hold their temporary roots: now they may close.
            for (Process child : children) {
                try (OutputStream go = child.getOutputStream()) {
                    go.write("exit\n".getBytes(StandardCharsets.UTF_8));
                }
            }
            for (int c = 0; c < 2; c++) {
                assertTrue(children.get(c).waitFor(60, TimeUnit.SECONDS), "child " + c + " did not exit");
                assertEquals("", Files.readString(tmp.resolve("err-" + c)), "child " + c + "'s errors");
                assertEquals(0, children.get(c).exitValue(), "child " + c + "'s exit status");
                outputs.add(Files.readAllLines(tmp.resolve("out-" + c)));
            }
        } finally {
            children.forEach(Process::destroyForcibly);
        }

        Set<StorePath> mustBeValid = new TreeSet<>(rooted.subList(0, ROOTED - ROOTED % 3));
        long ops = 0;
        long peakKib = 0;
        StringBuilder byOperation = new StringBuilder();
        for (List<String> lines : outputs) {
            for (String line : lines) {
                String[] words = line.split(" ");
                switch (words[0]) {
                    case "added", "temprooted" -> mustBeValid.add(StorePath.parse(words[1], config.storeDir()));
                    case "ops" -> {
                        for (int w = 1; w < words.length; w++) {
                            ops += Long.parseLong(words[w].substring(words[w].indexOf('=') + 1));
                        }
                        byOperation.append(line.substring(4)).append("; ");
                    }
                    case "peak-kib" -> peakKib = Math.max(peakKib, Long.parseLong(words[1]));
                    default -> { }
                }
            }
        }
        SortedSet<StorePath> valid;
        try (StoreDatabase db = StoreDatabase.open(config.databaseDir(), config.storeDir().logical())) {
            valid = db.validPaths();
        }
        for (StorePath path : mustBeValid) {
            assertTrue(valid.contains(path), path + " was rooted, temporarily rooted or added, and is gone");
        }
        assertTrue(garbage.stream().anyMatch(p -> !valid.contains(p)), "the collections removed garbage");
        Report report = new StoreVerifier(config).verify(VerifyOptions.defaults().withContents(true));
        assertEquals(List.of(), report.findings(), "verify --contents after the stress");
        System.out.printf("stress: 2 processes x %d threads, %.1f s: %d operations (%.0f/s) [%s], %d paths kept"
            + " valid, %d of %d garbage items collected, peak RSS of a process %d MiB, verify --contents clean%n",
            StressChild.THREADS, seconds, ops, ops / seconds, byOperation, mustBeValid.size(),
            garbage.stream().filter(p -> !valid.contains(p)).count(), GARBAGE, peakKib / 1024);
    }

    /** Waits until a child has printed {@code done}, failing if it ends first or takes far too long. */
    private static void waitForDone(Process child, Path out, Path err, double seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120 + (long) seconds);
        while (!Files.readString(out).contains("\ndone\n") && !Files.readString(out).startsWith("done\n")) {
            assertTrue(child.isAlive(), () -> "the child ended early: " + read(err));
            assertTrue(System.nanoTime() < deadline, "the child did not finish");
            Thread.sleep(20);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
