package org.granary.verify;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.stream.Stream;
import org.granary.gc.GarbageCollector;
import org.granary.gc.GcProgress;
import org.granary.store.Canonicaliser;
import org.granary.store.CrashWorkload;
import org.granary.store.LocalStore;
import org.granary.store.PathInfo;
import org.granary.store.StorePath;
import org.granary.verify.cache.BinaryCache;
import org.granary.verify.cache.CacheWriter;
import org.granary.verify.cache.Compression;

/**
 * The crash harness's workload ({@link CrashWorkload}) with a collection step and a repair step: the store
 * core's operations; a {@link GarbageCollector} run that roots the paths the workload intends to keep and
 * deletes everything else, including what earlier generations added and the leftovers of killed runs; and
 * the repair of an intended-valid item whose contents the step damages after publishing it to a local
 * binary cache ({@link CacheWriter}), from that cache ({@link BinaryCache}).
 * Run by {@link CollectRepairCrashTest} in the child JVMs the harness kills.
 *
 * <p>Besides the harness's lines, the repair step prints {@code damaged PATH CACHE} before it damages an
 * item and {@code repaired PATH} once the repair is done: a kill in between leaves a damaged item, which
 * the test's {@link org.granary.store.CrashHarness.TrialCheck#beforeChecks} repairs from {@code CACHE}.
 */
public class CollectRepairWorkload extends CrashWorkload {
    /** Creates the workload; the harness instantiates it by name. */
    public CollectRepairWorkload() {
    }

    @Override
    protected List<Weighted> operations() {
        List<Weighted> all = super.operations();
        all.add(new Weighted("COLLECT", 1, CollectRepairWorkload::collect));
        all.add(new Weighted("REPAIR", 3, CollectRepairWorkload::repair));
        return all;
    }

    /**
     * Collects with the intended-valid paths as roots. Each dead path is announced on its own before the
     * collection and reported invalid after it if it is gone: the collector invalidates in batches and
     * rescans the roots between them, and keeps what a temporary root holds, so a kill may leave any subset
     * of them invalid, but never one that a live path refers to (the harness's closure check).
     */
    private static void collect(Step step) throws IOException {
        if (step.replaying()) {
            return; // a replay must leave every path it adds valid
        }
        LocalStore store = step.store();
        List<StorePath> keep = step.intended().paths().stream().filter(store::isValidPath).toList();
        SortedSet<StorePath> live = store.queryRequisites(keep);
        List<StorePath> dead = store.database().validPaths().stream().filter(p -> !live.contains(p)).toList();
        for (StorePath path : dead) {
            step.invalidating(List.of(path));
        }
        new GarbageCollector(store.config(), store.database(), new GarbageCollector.Options(true, false, keep))
            .collect(Long.MAX_VALUE, GcProgress.NONE);
        for (StorePath path : dead) {
            if (!store.isValidPath(path)) {
                step.invalid(path);
            }
        }
        for (StorePath path : keep) {
            if (!store.isValidPath(path)) {
                throw new IllegalStateException("the collection deleted " + path + ", a root");
            }
        }
    }

    /**
     * Publishes an intended-valid item to a cache in the scratch directory, overwrites one of its files
     * with other bytes (canonical modes and times kept, so only the contents check sees it), and repairs
     * it from the cache with the verifier's {@link Repairer}, as {@code granary verify --repair} would.
     */
    private static void repair(Step step) throws IOException {
        List<StorePath> picked = step.intended().pick(step.random(), 1);
        int damageAt = step.random().nextInt(1 << 16);
        if (picked.isEmpty() || step.replaying() || !step.store().isValidPath(picked.get(0))) {
            return; // a replay must not leave a damaged item behind
        }
        LocalStore store = step.store();
        StorePath path = picked.get(0);
        PathInfo info = store.database().pathInfo(path).orElseThrow();
        Path item = store.config().storeDir().physicalPath(path);
        Path cacheDir = step.scratch().resolve("cache");
        CacheWriter.open(cacheDir, store.config().storeDir().logical(), Compression.NONE, null).write(info, item);
        // The harness's child prints its reports to System.out too (a replay, which prints nowhere, stops above).
        System.out.println("damaged " + path + " " + cacheDir);
        System.out.flush();
        damage(item, damageAt);
        BinaryCache cache = BinaryCache.openAllowingUnsigned(cacheDir.toUri().toString(),
            store.config().storeDir().logical());
        Finding corrupt = new Finding(Finding.Kind.CONTENTS, path.toString(), null, null, null, true,
            Finding.Action.NONE, null);
        List<Finding> result = new Repairer(store.config().storeDir(), store.database(), Canonicaliser.keepingOwners(),
            List.of(cache), Progress.Listener.NONE).repair(List.of(corrupt));
        if (result.get(0).action() != Finding.Action.REPAIRED) {
            throw new IllegalStateException("the repair of " + path + " failed: " + result);
        }
        System.out.println("repaired " + path);
        System.out.flush();
    }

    /** Overwrites one byte of the item's first regular file (or appends one), keeping modes and mtime. */
    private static void damage(Path item, int at) throws IOException {
        Path file;
        try (Stream<Path> walk = Files.walk(item)) {
            file = walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).findFirst().orElseThrow();
        }
        Set<PosixFilePermission> modes = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
        Path parent = file.getParent();
        Optional<Set<PosixFilePermission>> parentModes = file.equals(item) ? Optional.empty()
            : Optional.of(Files.getPosixFilePermissions(parent));
        if (parentModes.isPresent()) {
            Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length == 0) {
            bytes = new byte[] {1};
        } else {
            bytes[at % bytes.length] ^= 0x5a;
        }
        Files.write(file, bytes);
        Files.setPosixFilePermissions(file, modes);
        Files.setLastModifiedTime(file, FileTime.fromMillis(1000));
        if (parentModes.isPresent()) {
            Files.setPosixFilePermissions(parent, parentModes.get());
            Files.setLastModifiedTime(parent, FileTime.fromMillis(1000));
        }
    }
}
