package org.granary.verify;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.granary.store.Canonicaliser;
import org.granary.store.DatabaseAudit;
import org.granary.store.GcLock;
import org.granary.store.InvalidStorePathException;
import org.granary.store.PathInfo;
import org.granary.store.StoreConfig;
import org.granary.store.StoreDatabase;
import org.granary.store.StoreDir;
import org.granary.store.StorePath;

/**
 * Verifies a store and, if asked, repairs it: the equivalent of {@code guix gc --verify[=contents,repair]}
 * and {@code nix-store --verify [--check-contents] [--repair]}, but read-only unless repair is asked for.
 *
 * <p>The checks, all under the GC lock (held shared, so that no collector deletes anything meanwhile,
 * while additions go on):
 * <ol>
 * <li><b>database</b>: one read transaction over the whole database ({@link StoreDatabase#audit}); each
 *     record must decode, each reference must be valid and mirrored among the referrers and the other way
 *     round, each deriver should be valid (a deriver that is not is reported but is not damage:
 *     substituted items name derivations never built here) — findings of kind {@code reference};</li>
 * <li><b>existence</b>: each valid item must be in the store dir — {@code missing};</li>
 * <li><b>metadata</b>: each item must be canonical (modes 0444/0555, no write, setuid, setgid or sticky
 *     bit, mtime 1; owners are not checked, as they differ between Guix's setups) — {@code metadata}, the
 *     first deviation of each item;</li>
 * <li><b>contents</b> (optional): each item's NAR, hashed afresh, must have the database's hash and size —
 *     {@code contents}; an item that cannot be read is a finding naming the file, and the check goes on;</li>
 * <li><b>leftovers</b>: each entry of the store dir that is not a valid item (a temporary of an
 *     interrupted addition, a stale lock file, an item never registered) — {@code leftover}, which is
 *     garbage for the collector, not damage. The daemon's {@code .links} directory is not listed.</li>
 * </ol>
 * Items are checked {@code jobs} at a time. <b>Without repair nothing is changed</b>: no file is touched
 * and no database row written (opening the database only reads it; the lock files {@code gc.lock} and
 * LMDB's {@code lock.mdb} are created if absent, as by any process that opens the store). With repair, see
 * {@link VerifyOptions#repair()}: metadata drift is re-canonicalised, missing or corrupt items are replaced
 * from the substituters when their NAR has the database's hash, missing items no substituter has and
 * nothing refers to are invalidated; the rest is reported as not repaired.
 *
 * <p>The verifier opens the store's database itself, so the store must not be open as a {@code LocalStore}
 * in the same JVM (other processes may use it). Safe to share between threads; each {@link #verify} call
 * is independent.
 */
public final class StoreVerifier {
    private final StoreConfig config;
    private final boolean nativeHashing;

    /**
     * Creates a verifier for the store {@code config} describes.
     *
     * @param config where the store and its database are
     */
    public StoreVerifier(StoreConfig config) {
        this(config, true);
    }

    /** A verifier that hashes in Java if {@code nativeHashing} is false (for tests of that path). */
    StoreVerifier(StoreConfig config, boolean nativeHashing) {
        this.config = Objects.requireNonNull(config, "config");
        this.nativeHashing = nativeHashing;
    }

    /**
     * Verifies the store, repairing if the options say so, and reports what was found and done.
     *
     * @param options what to check and whether to repair
     * @return the report; {@link Report#sound()} says whether damage remains
     * @throws NoSuchFileException if the store dir, the state dir or the database does not exist
     * @throws org.granary.store.IncompatibleDatabaseException if the database was made for another store
     *     dir (verify refuses rather than report every item missing)
     * @throws IOException if the store dir cannot be listed or the GC lock taken
     */
    @SuppressWarnings("try") // the GC lock is held for the whole run, not used
    public Report verify(VerifyOptions options) throws IOException {
        Objects.requireNonNull(options, "options");
        long start = System.nanoTime();
        StoreDir storeDir = config.storeDir();
        Path physicalStoreDir = config.physicalStoreDir();
        requireExisting(physicalStoreDir, "store dir");
        requireExisting(config.physicalStateDir(), "state dir");
        requireExisting(config.databaseDir().resolve("data.mdb"), "Granary database (import one with granary db import)");
        // Owners are not checked or changed: root:root in the classic setup, the daemon's user in the
        // unprivileged one; a root verifier must not call every item of the latter damaged. Restored items
        // belong to this process, as additions do.
        Canonicaliser canonicaliser = Canonicaliser.keepingOwners();
        try (GcLock.Held gc = GcLock.at(config.physicalStateDir()).lockShared();
                ItemChecker checker = new ItemChecker(storeDir, canonicaliser, options.contents(), nativeHashing,
                    options.jobs(), options.listener())) {
            // Hashing starts on the store dir's entries while this thread opens and reads the database.
            checker.startEarly(physicalStoreDir);
            return verify(options, checker, canonicaliser, start);
        }
    }

    /** The checks once the GC lock is held and the checker is ready (see {@link #verify(VerifyOptions)}). */
    private Report verify(VerifyOptions options, ItemChecker checker, Canonicaliser canonicaliser, long start)
            throws IOException {
        StoreDir storeDir = config.storeDir();
        Path physicalStoreDir = config.physicalStoreDir();
        try (StoreDatabase database = StoreDatabase.open(config.databaseDir(), storeDir.logical())) {
            List<Finding> findings = new ArrayList<>();
            List<PathInfo> items = audit(database, findings, options.listener());
            Set<String> validNames = new HashSet<>(items.size() * 2);
            for (PathInfo item : items) {
                validNames.add(item.path().baseName());
            }
            List<Finding> itemFindings = checker.check(items, validNames);
            itemFindings.sort(Comparator.comparing(Finding::path).thenComparing(Finding::kind));
            findings.addAll(itemFindings);
            findings.addAll(leftovers(physicalStoreDir, validNames, database));
            if (options.repair()) {
                findings = new Repairer(storeDir, database, canonicaliser, options.substituters(), options.listener())
                    .repair(findings);
            }
            Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
            return new Report(findings, Report.Summary.of(findings, items.size(), checker.itemsHashed(),
                checker.bytesHashed(), elapsed, options.jobs(), options.contents(), options.repair()));
        }
    }

    /** Reads the database once: the valid items, and a {@code reference} finding for each inconsistency. */
    private static List<PathInfo> audit(StoreDatabase database, List<Finding> findings, Progress.Listener listener) {
        long total = database.validPathCount();
        listener.progress(new Progress(Progress.Phase.DATABASE, 0, total, 0, 0));
        List<PathInfo> items = new ArrayList<>();
        database.audit(new DatabaseAudit() {
            @Override
            public void item(PathInfo info) {
                items.add(info);
            }

            @Override
            public void problem(DatabaseAudit.Problem problem) {
                boolean damage = problem.kind() != DatabaseAudit.Kind.INVALID_DERIVER;
                findings.add(new Finding(Finding.Kind.REFERENCE, problem.subject(), null, problem.expected(),
                    problem.actual(), damage, Finding.Action.NONE, null));
            }
        });
        listener.progress(new Progress(Progress.Phase.DATABASE, items.size(), total, 0, 0));
        return items;
    }

    /**
     * The entries of the store dir that are not valid items, listed after the items were read: an entry
     * that became valid since (an addition that went on meanwhile) is checked again and not reported.
     */
    private List<Finding> leftovers(Path physicalStoreDir, Set<String> valid, StoreDatabase database)
            throws IOException {
        List<Finding> found = new ArrayList<>();
        for (String name : Leftovers.names(physicalStoreDir)) {
            if (valid.contains(name) || name.equals(".links") || becameValid(name, database)) {
                continue;
            }
            found.add(new Finding(Finding.Kind.LEFTOVER, config.storeDir().logical() + "/" + name,
                physicalStoreDir.resolve(name).toString(), null, Leftovers.describe(name), false,
                Finding.Action.NONE, null));
        }
        found.sort(Comparator.comparing(Finding::path));
        return found;
    }

    private boolean becameValid(String name, StoreDatabase database) {
        try {
            return database.isValid(StorePath.parse(config.storeDir().logical() + "/" + name, config.storeDir()));
        } catch (InvalidStorePathException e) {
            return false;
        }
    }

    private static void requireExisting(Path path, String what) throws NoSuchFileException {
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "no " + what + " here");
        }
    }
}
