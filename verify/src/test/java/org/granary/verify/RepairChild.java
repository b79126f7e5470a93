package org.granary.verify;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.granary.store.StoreConfig;
import org.granary.store.StorePath;

/**
 * Run in a child JVM by {@link RepairCrashTest}: verifies the store under {@code ROOT} with contents and
 * repair, from the NAR directory {@code CACHE} whose items are listed in {@code CACHE/items} (one store
 * path a line). Prints {@code repairing} when the repair phase starts and {@code done} at the end.
 */
public final class RepairChild {
    private RepairChild() {
    }

    /**
     * Entry point.
     *
     * @param args the root and the NAR directory
     * @throws Exception on any failure, which ends the JVM with a stack trace and a non-zero status
     */
    public static void main(String[] args) throws Exception {
        StoreConfig config = StoreConfig.under(Path.of(args[0]));
        Path cacheDir = Path.of(args[1]);
        List<StorePath> paths = Files.readAllLines(cacheDir.resolve("items")).stream()
            .map(line -> StorePath.parse(line, config.storeDir())).toList();
        NarDirectory cache = NarDirectory.open(cacheDir, config, paths);
        AtomicBoolean told = new AtomicBoolean();
        Progress.Listener listener = progress -> {
            if (progress.phase() == Progress.Phase.REPAIR && told.compareAndSet(false, true)) {
                System.out.println("repairing");
                System.out.flush();
            }
        };
        Report report = new StoreVerifier(config).verify(VerifyOptions.defaults().withContents(true).withRepair(true)
            .withSubstituters(List.of(cache)).withListener(listener));
        System.out.println(report.sound() ? "done" : "unsound " + report.findings());
        System.out.flush();
    }
}
