package org.granary.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.granary.gc.GarbageCollector;
import org.granary.gc.GcProgress;
import org.granary.store.CrashHarness;
import org.granary.store.LocalStore;
import org.granary.store.StoreConfig;
import org.granary.store.StorePath;
import org.granary.verify.cache.BinaryCache;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The crash harness ({@link CrashHarness}) on a workload that also collects garbage and repairs damaged
 * items from a local cache ({@link CollectRepairWorkload}): after each kill, an item the kill left damaged
 * is repaired from the same cache; then, besides the harness's own checks, a read-only verification with
 * contents finds nothing but leftovers, and a collection that roots every valid path removes every
 * leftover and nothing valid, after which the verification finds nothing at all.
 */
class CollectRepairCrashTest {
    /**
     * Kills in a plain build (about 15 s, as store-core's LocalStoreCrashTest); the full count comes from
     * {@code -Dgranary.crash.trials} ({@code -Pfull-reliability}, bench/crash-trials.sh).
     */
    private static final int CI_TRIALS = 12;

    @TempDir
    Path tmp;

    @Test
    void killedCollectionsAndRepairsLeaveAStoreThatVerifiesCleanOnceCollected() throws Exception {
        CrashHarness.Summary summary = CrashHarness.run(tmp, CrashHarness.seed(), CrashHarness.trials(CI_TRIALS),
            CollectRepairWorkload.class, new CrashHarness.TrialCheck() {
                @Override
                public void beforeChecks(StoreConfig config, List<String> lines) throws IOException {
                    repairLeftDamage(config, lines);
                }

                @Override
                public void check(StoreConfig config, CrashHarness.Trial trial) throws IOException {
                    verifyAndCollect(config, trial);
                }
            });
        System.out.println(summary + "; " + repairsFinished + " repairs finished by the children, "
            + repairsCompletedAfterKill + " completed after a kill");
        // How far the children get before each kill depends on the machine's speed: ask only that they got there.
        assertTrue(summary.stepsByOperation().getOrDefault("COLLECT", 0)
            + summary.stepsByOperation().getOrDefault("REPAIR", 0) > 0, "the children collected or repaired: " + summary);
    }

    private int repairsFinished;
    private int repairsCompletedAfterKill;

    /**
     * Repairs, from the child's cache, an item the kill left damaged (the child printed {@code damaged} but
     * not {@code repaired}): a repair killed half-way must leave the item whole (old or new) and the next
     * repair must succeed.
     */
    private void repairLeftDamage(StoreConfig config, List<String> lines) throws IOException {
        String damaged = null;
        for (String line : lines) {
            if (line.startsWith("damaged ")) {
                damaged = line;
            } else if (line.startsWith("repaired ")) {
                assertEquals(line.split(" ")[1], damaged.split(" ")[1], "the item repaired is the one damaged");
                damaged = null;
                repairsFinished++;
            }
        }
        if (damaged == null) {
            return;
        }
        String[] words = damaged.split(" ");
        BinaryCache cache = BinaryCache.openAllowingUnsigned(Path.of(words[2]).toUri().toString(),
            config.storeDir().logical());
        Report report = new StoreVerifier(config).verify(VerifyOptions.defaults().withContents(true).withJobs(1)
            .withRepair(true).withSubstituters(List.of(cache)));
        assertTrue(report.sound(), "the repair after a kill that left " + words[1] + " damaged: " + report.findings());
        repairsCompletedAfterKill++;
    }

    /** The checks after one kill, with no child running and the store closed. */
    private static void verifyAndCollect(StoreConfig config, CrashHarness.Trial trial) throws IOException {
        String context = "[seed " + CrashHarness.seed() + ", trial " + trial.index() + ", " + trial.description()
            + "] ";
        Report before = verify(config);
        List<Finding> damage = before.findings().stream().filter(f -> f.kind() != Finding.Kind.LEFTOVER).toList();
        assertEquals(List.of(), damage, context + "findings other than leftovers after the kill");
        SortedSet<StorePath> valid;
        try (LocalStore store = LocalStore.open(config)) {
            valid = store.database().validPaths();
            new GarbageCollector(config, store.database(), new GarbageCollector.Options(true, false, valid))
                .collect(Long.MAX_VALUE, GcProgress.NONE);
            assertEquals(valid, store.database().validPaths(), context + "a collection rooting every valid path "
                + "changed the valid paths");
        }
        SortedSet<String> expected = new TreeSet<>();
        valid.forEach(path -> expected.add(path.baseName()));
        SortedSet<String> entries = new TreeSet<>();
        try (Stream<Path> list = Files.list(config.physicalStoreDir())) {
            list.map(p -> p.getFileName().toString())
                .filter(name -> !name.endsWith(".lock") && !name.equals(".links"))
                .forEach(entries::add);
        }
        assertEquals(expected, entries, context + "the store dir after a collection (leftovers before: "
            + trial.leftovers() + ")");
        Report after = verify(config);
        assertEquals(List.of(), after.findings(), context + "findings after the collection");
    }

    private static Report verify(StoreConfig config) throws IOException {
        return new StoreVerifier(config).verify(VerifyOptions.defaults().withContents(true).withJobs(1));
    }
}
