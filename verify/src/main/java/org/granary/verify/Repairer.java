package org.granary.verify;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import org.granary.nar.FileTrees;
import org.granary.nar.NarRestorer;
import org.granary.store.Canonicaliser;
import org.granary.store.Hash;
import org.granary.store.HashAlgorithm;
import org.granary.store.PathInfo;
import org.granary.store.PathLocks;
import org.granary.store.StoreDatabase;
import org.granary.store.StoreDir;
import org.granary.store.StoreException;
import org.granary.store.StorePath;

/**
 * Repairs what the checks found, item by item, under each item's path lock:
 * <ul>
 * <li>a missing or corrupt item is asked of the substituters in order; a substitute's NAR is restored
 *     under a temporary name in the store dir while it is hashed, and accepted only if its hash and size
 *     are those of the <em>local</em> database; it is then made canonical, synced to disk, and swapped in
 *     with {@link AtomicExchange} (or renamed into place if the item was missing), and the old copy
 *     deleted. At every moment the item's path names either the old copy or the whole new one;</li>
 * <li>metadata drift is fixed by canonicalising in place (only modes and times change, never contents);</li>
 * <li>missing items that no substituter has and that nothing else valid refers to (directly, or through
 *     other such items) are invalidated in one transaction, as the daemon drops missing leaves. An item a
 *     substituter offered but that was refused (a bad signature, a wrong NAR hash) or that could not be
 *     fetched is not invalidated: it is reported, so that a corrected key or a cache back online can
 *     still restore it.</li>
 * </ul>
 * Database inconsistencies and leftovers are left as they are. Used once, from one thread.
 */
final class Repairer {
    /**
     * The prefix of LocalStore's temporary entries: a repair killed half-way leaves its temporary copy
     * under a name that the next opening of the store deletes once this process is gone.
     */
    private static final String TEMP_PREFIX = ".granary-add-";

    private final StoreDir storeDir;
    private final StoreDatabase database;
    private final Canonicaliser canonicaliser;
    private final List<Substituter> substituters;
    private final PathLocks locks;
    private final Progress.Listener listener;

    Repairer(StoreDir storeDir, StoreDatabase database, Canonicaliser canonicaliser, List<Substituter> substituters,
            Progress.Listener listener) throws IOException {
        this.storeDir = storeDir;
        this.database = database;
        this.canonicaliser = canonicaliser;
        this.substituters = substituters;
        this.locks = new PathLocks(storeDir);
        this.listener = listener;
    }

    /** Repairs what can be repaired and returns the findings with their actions, in the same order. */
    List<Finding> repair(List<Finding> findings) throws IOException {
        Map<String, List<Integer>> byItem = new LinkedHashMap<>();
        for (int i = 0; i < findings.size(); i++) {
            Finding finding = findings.get(i);
            if (finding.kind() != Finding.Kind.LEFTOVER && finding.kind() != Finding.Kind.REFERENCE) {
                byItem.computeIfAbsent(finding.path(), p -> new ArrayList<>()).add(i);
            }
        }
        List<Finding> result = new ArrayList<>(findings);
        Map<StorePath, String> unrepairedMissing = new TreeMap<>();
        long done = 0;
        for (Map.Entry<String, List<Integer>> entry : byItem.entrySet()) {
            listener.progress(new Progress(Progress.Phase.REPAIR, done++, byItem.size(), 0, 0));
            repairItem(StorePath.parse(entry.getKey(), storeDir), entry.getValue(), result, unrepairedMissing);
        }
        invalidateLoneMissing(unrepairedMissing, byItem, result);
        listener.progress(new Progress(Progress.Phase.REPAIR, byItem.size(), byItem.size(), 0, 0));
        return result;
    }

    private void repairItem(StorePath path, List<Integer> indices, List<Finding> result,
            Map<StorePath, String> unrepairedMissing) throws IOException {
        boolean needsSubstitute = false;
        boolean missing = false;
        for (int i : indices) {
            Finding.Kind kind = result.get(i).kind();
            needsSubstitute |= kind == Finding.Kind.MISSING || kind == Finding.Kind.CONTENTS;
            missing |= kind == Finding.Kind.MISSING;
        }
        Optional<PathInfo> info = database.pathInfo(path);
        if (info.isEmpty()) {
            mark(result, indices, Finding.Action.FAILED, "no longer valid");
            return;
        }
        try (PathLocks.Held held = locks.lock(List.of(path))) {
            if (needsSubstitute) {
                Outcome outcome = substitute(info.get());
                if (outcome.installed()) {
                    mark(result, indices, Finding.Action.REPAIRED, outcome.detail());
                    held.deleteLockFilesOnClose();
                    return;
                }
                for (int i : indices) {
                    Finding.Kind kind = result.get(i).kind();
                    if (kind == Finding.Kind.MISSING || kind == Finding.Kind.CONTENTS) {
                        result.set(i, result.get(i).withAction(Finding.Action.FAILED, outcome.detail()));
                    }
                }
                // Only when no substituter has the item: a refused or unreachable one may serve it on another try.
                if (missing && !outcome.offered()) {
                    unrepairedMissing.put(path, outcome.detail());
                }
            }
            if (!missing) {
                recanonicalise(path, indices, result);
            }
            held.deleteLockFilesOnClose();
        }
    }

    /** Re-canonicalises an item in place and marks its metadata findings by what a second check says. */
    private void recanonicalise(StorePath path, List<Integer> indices, List<Finding> result) {
        List<Integer> metadata = new ArrayList<>();
        for (int i : indices) {
            if (result.get(i).kind() == Finding.Kind.METADATA) {
                metadata.add(i);
            }
        }
        if (metadata.isEmpty()) {
            return;
        }
        Path physical = storeDir.physicalPath(path);
        try {
            canonicaliser.canonicalise(physical);
            List<Finding> still = ItemChecker.metadata(path.toString(), physical, canonicaliser);
            if (still.isEmpty()) {
                mark(result, metadata, Finding.Action.REPAIRED, "canonicalised");
            } else {
                mark(result, metadata, Finding.Action.FAILED, "still not canonical after canonicalising: "
                    + still.get(0).file() + " " + still.get(0).actual());
            }
        } catch (IOException | StoreException e) {
            mark(result, metadata, Finding.Action.FAILED, "cannot canonicalise: " + e.getMessage());
        }
    }

    /**
     * Whether a substitute was put in place, and from where or why not; {@code offered} is whether any
     * substituter had the item or could not be asked (as opposed to all saying they do not have it).
     */
    private record Outcome(boolean installed, boolean offered, String detail) {}

    /**
     * Asks each substituter in turn until one substitute is in place; otherwise gathers every
     * substituter's reason, joined with "; ".
     */
    private Outcome substitute(PathInfo info) {
        if (substituters.isEmpty()) {
            return new Outcome(false, false, "no substituter configured");
        }
        List<String> reasons = new ArrayList<>();
        boolean offered = false;
        for (Substituter substituter : substituters) {
            try {
                Optional<Substitute> found = substituter.lookup(info.path());
                if (found.isEmpty()) {
                    reasons.add(substituter.uri() + " does not have it");
                    continue;
                }
                offered = true;
                String refused = install(info, found.get());
                if (refused == null) {
                    return new Outcome(true, true, "from " + substituter.uri());
                }
                reasons.add(substituter.uri() + ": " + refused);
            } catch (SubstituteException e) {
                offered = true;
                reasons.add(substituter.uri() + " refused: " + e.getMessage());
            } catch (IOException | RuntimeException e) {
                offered = true;
                reasons.add(substituter.uri() + ": " + e.getMessage());
            }
        }
        return new Outcome(false, offered, String.join("; ", reasons));
    }

    /**
     * Restores a substitute under a temporary name and, if its NAR is the database's, puts it in place.
     * Returns null on success, or why the substitute was refused (nothing changed at the item's path).
     */
    private String install(PathInfo info, Substitute substitute) throws IOException {
        Path physical = storeDir.physicalPath(info.path());
        Path temp = storeDir.physicalPath(info.path()).resolveSibling(TEMP_PREFIX + ProcessHandle.current().pid()
            + "-repair-" + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36));
        try {
            Hash narHash;
            long narSize;
            // The restorer reads every byte (it never skips), so the digest sees exactly the NAR it restored.
            MessageDigest digest = HashAlgorithm.SHA256.newDigest();
            try (InputStream nar = substitute.openNar();
                    InputStream hashing = new DigestInputStream(new BufferedInputStream(nar, 1 << 16), digest)) {
                narSize = NarRestorer.restore(hashing, temp);
                narHash = Hash.of(HashAlgorithm.SHA256, digest.digest());
            }
            if (!narHash.equals(info.narHash()) || (info.narSize() != 0 && narSize != info.narSize())) {
                return "its NAR is " + ItemChecker.describe(narHash, narSize) + ", the database has "
                    + ItemChecker.describe(info.narHash(), info.narSize());
            }
            canonicaliser.canonicalise(temp);
            Canonicaliser.syncTree(temp);
            if (Files.exists(physical, NOFOLLOW_LINKS)) {
                AtomicExchange.exchange(physical, temp);
            } else {
                Files.move(temp, physical, StandardCopyOption.ATOMIC_MOVE);
            }
            Canonicaliser.syncDirectory(physical.getParent());
            return null;
        } finally {
            FileTrees.deleteTree(temp);
        }
    }

    /**
     * Invalidates the missing items that no substituter had and that no valid item outside them refers
     * to, in one transaction; the others are reported as still referred to.
     */
    private void invalidateLoneMissing(Map<StorePath, String> missing, Map<String, List<Integer>> byItem,
            List<Finding> result) {
        Set<StorePath> lone = new HashSet<>(missing.keySet());
        Map<StorePath, StorePath> heldBy = new TreeMap<>();
        boolean changed = true;
        while (changed) {
            changed = false;
            for (StorePath path : List.copyOf(lone)) {
                SortedSet<StorePath> referrers;
                try {
                    referrers = database.referrers(path);
                } catch (StoreException e) {
                    lone.remove(path);
                    heldBy.put(path, path);
                    changed = true;
                    continue;
                }
                for (StorePath referrer : referrers) {
                    if (!referrer.equals(path) && !lone.contains(referrer)) {
                        lone.remove(path);
                        heldBy.put(path, referrer);
                        changed = true;
                        break;
                    }
                }
            }
        }
        if (!lone.isEmpty()) {
            try {
                database.invalidate(lone);
            } catch (StoreException e) {
                for (StorePath path : lone) {
                    heldBy.put(path, path);
                }
                lone.clear();
            }
        }
        for (Map.Entry<StorePath, String> entry : missing.entrySet()) {
            List<Integer> indices = byItem.get(entry.getKey().toString());
            if (lone.contains(entry.getKey())) {
                mark(result, indices, Finding.Action.INVALIDATED, "no substitute (" + entry.getValue()
                    + ") and nothing refers to it");
            } else {
                StorePath referrer = heldBy.get(entry.getKey());
                String why = referrer == null || referrer.equals(entry.getKey()) ? "its referrers cannot be read"
                    : "still referred to by " + referrer;
                mark(result, indices, Finding.Action.FAILED, entry.getValue() + "; " + why);
            }
        }
    }

    private static void mark(List<Finding> result, List<Integer> indices, Finding.Action action, String detail) {
        for (int i : indices) {
            result.set(i, result.get(i).withAction(action, detail));
        }
    }
}
