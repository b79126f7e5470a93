package org.granary.verify;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.granary.nar.FileTrees;
import org.granary.store.ChildJvm;
import org.granary.store.CrashHarness;
import org.granary.store.Hash;
import org.granary.store.HashAlgorithm;
import org.granary.store.LocalStore;
import org.granary.store.PathInfo;
import org.granary.store.StoreConfig;
import org.granary.store.StoreDatabase;
import org.granary.store.StorePath;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills (SIGKILL) a child JVM in the middle of repairing a damaged store, again and again, and checks after
 * each kill that every valid item is either intact or exactly as damaged as before the repair started:
 * never absent unless it was absent already, never half-written. Then a repair run to its end leaves the
 * store sound and every item intact.
 *
 * <p>Trials: {@value #CI_TRIALS} by default, which keeps the test within a few seconds of CI time; set
 * {@code -Dgranary.crash.trials=24} for the full run.
 */
class RepairCrashTest {
    private static final int CI_TRIALS = 4;
    private static final int ITEMS = 24;

    @TempDir
    Path tmp;

    @Test
    void aKilledRepairNeverLeavesAValidItemAbsentOrHalfWritten() throws Exception {
        int trials = CrashHarness.trials(CI_TRIALS);
        Random random = new Random(20261121);
        StoreConfig config = StoreConfig.under(tmp.resolve("root"));
        List<StorePath> paths = makeStore(config, random);
        Path cacheDir = tmp.resolve("cache");
        NarDirectory.of(cacheDir, config, paths);
        Files.write(cacheDir.resolve("items"), paths.stream().map(StorePath::toString).toList());
        Map<StorePath, Hash> pristine = new HashMap<>();
        try (StoreDatabase db = StoreDatabase.open(config.databaseDir(), "/gnu/store")) {
            for (StorePath path : paths) {
                pristine.put(path, db.pathInfo(path).map(PathInfo::narHash).orElseThrow());
            }
        }
        long window = 0;
        int killedInRepair = 0;
        for (int trial = 0; trial <= trials; trial++) {
            Map<StorePath, Hash> before = damage(config, paths, random);
            Process child = spawn(config, cacheDir, trial);
            BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String first = lines.readLine();
            assertEquals("repairing", first, "trial " + trial + ": " + stderr(trial));
            long start = System.nanoTime();
            if (trial == 0) {
                // An uncut run measures how long repair takes, so the kills land inside it.
                assertEquals("done", lines.readLine(), stderr(trial));
                assertTrue(child.waitFor(60, TimeUnit.SECONDS));
                window = Math.max(1, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            } else {
                long delay = (long) (random.nextDouble() * window);
                boolean exited = child.waitFor(delay, TimeUnit.MILLISECONDS);
                child.destroyForcibly();
                assertTrue(child.waitFor(30, TimeUnit.SECONDS));
                killedInRepair += exited ? 0 : 1;
            }
            check(config, paths, pristine, before, "trial " + trial);
            if (trial == 0) {
                Report whole = new StoreVerifier(config).verify(VerifyOptions.defaults().withContents(true));
                assertTrue(whole.findings().stream().allMatch(f -> f.kind() == Finding.Kind.LEFTOVER),
                    "an uncut repair leaves the store sound: " + whole.findings());
            }
        }
        System.out.println(trials + " kills during repair, " + killedInRepair + " before it ended (window "
            + window + " ms)");
        Report last = new StoreVerifier(config).verify(VerifyOptions.defaults().withContents(true).withRepair(true)
            .withSubstituters(List.of(NarDirectory.open(cacheDir, config, paths))));
        assertTrue(last.sound(), last.findings().toString());
        for (StorePath path : paths) {
            assertEquals(pristine.get(path), Hash.ofNar(config.storeDir().physicalPath(path), HashAlgorithm.SHA256));
        }
    }

    /** Items of four files of 32 kB each, so that restoring and syncing them takes a while. */
    private List<StorePath> makeStore(StoreConfig config, Random random) throws IOException {
        List<StorePath> paths = new ArrayList<>();
        try (LocalStore store = LocalStore.open(config)) {
            for (int i = 0; i < ITEMS; i++) {
                Path source = Files.createDirectories(tmp.resolve("src/item-" + i + "/d"));
                for (int f = 0; f < 4; f++) {
                    byte[] bytes = new byte[32_768];
                    random.nextBytes(bytes);
                    Files.write(source.resolve("f" + f), bytes);
                }
                paths.add(store.addToStore("item-" + i, source, true, HashAlgorithm.SHA256, List.of()));
            }
        }
        return paths;
    }

    /**
     * Damages some items (a byte changed, a whole item deleted, a file truncated, a mode changed) and
     * returns the NAR hash of every item as it is now, null for an absent one.
     */
    private static Map<StorePath, Hash> damage(StoreConfig config, List<StorePath> paths, Random random)
            throws IOException {
        for (int n = 0; n < 6; n++) {
            Path top = config.storeDir().physicalPath(paths.get(random.nextInt(paths.size())));
            if (!Files.exists(top, NOFOLLOW_LINKS)) {
                continue;
            }
            Path file = top.resolve("f" + random.nextInt(4));
            switch (n % 4) {
                case 0 -> {
                    writable(top);
                    byte[] bytes = Files.readAllBytes(file);
                    if (bytes.length == 0) {
                        bytes = new byte[] {7}; // truncated by an earlier trial
                    }
                    bytes[random.nextInt(bytes.length)] ^= 1;
                    Files.write(file, bytes);
                }
                case 1 -> FileTrees.deleteTree(top);
                case 2 -> {
                    writable(top);
                    Files.write(file, new byte[0]);
                }
                default -> Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw-rw-"));
            }
        }
        Map<StorePath, Hash> now = new HashMap<>();
        for (StorePath path : paths) {
            Path top = config.storeDir().physicalPath(path);
            now.put(path, Files.exists(top, NOFOLLOW_LINKS) ? Hash.ofNar(top, HashAlgorithm.SHA256) : null);
        }
        return now;
    }

    private static void writable(Path top) throws IOException {
        try (var walk = Files.walk(top)) {
            for (Path p : walk.toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p, NOFOLLOW_LINKS)
                    ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
    }

    /** Every valid item is intact or as it was before the repair; an absent one was absent before. */
    private static void check(StoreConfig config, List<StorePath> paths, Map<StorePath, Hash> pristine,
            Map<StorePath, Hash> before, String trial) throws IOException {
        try (StoreDatabase db = StoreDatabase.open(config.databaseDir(), "/gnu/store")) {
            for (StorePath path : paths) {
                if (!db.isValid(path)) {
                    continue; // nothing refers to these items: repair may invalidate one it cannot fetch
                }
                Path top = config.storeDir().physicalPath(path);
                if (!Files.exists(top, NOFOLLOW_LINKS)) {
                    assertEquals(null, before.get(path), trial + ": " + path + " was present before the repair, "
                        + "and is absent after the kill");
                    continue;
                }
                Hash now = Hash.ofNar(top, HashAlgorithm.SHA256);
                assertTrue(now.equals(pristine.get(path)) || now.equals(before.get(path)),
                    trial + ": " + path + " is neither intact nor as it was before the repair");
            }
        }
    }

    private Process spawn(StoreConfig config, Path cacheDir, int trial) throws IOException {
        List<String> command = ChildJvm.command(RepairChild.class, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
        command.addAll(List.of(config.storeDir().root().toString(), cacheDir.toString()));
        return new ProcessBuilder(command)
            .redirectError(tmp.resolve("child-" + trial + ".err").toFile())
            .start();
    }

    private String stderr(int trial) throws IOException {
        return Files.readString(tmp.resolve("child-" + trial + ".err"));
    }
}
