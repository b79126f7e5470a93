package org.granary.verify;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.granary.nar.NarDigest;
import org.granary.nar.NarDumpException;
import org.granary.nar.NarDumper;
import org.granary.store.Canonicaliser;
import org.granary.store.Hash;
import org.granary.store.HashAlgorithm;
import org.granary.store.HashFormat;
import org.granary.store.NativeNarHasher;
import org.granary.store.PathInfo;
import org.granary.store.StoreDir;

/**
 * Checks each valid item on disk, {@code jobs} items at a time: that it exists, that its metadata is
 * canonical and, with contents, that its NAR hash and size are the database's. Memory is bounded by the
 * number of jobs, not by the sizes of items or files. An item that cannot be read (an I/O error, a file
 * that cannot be archived) is a finding naming the file, and the check carries on.
 *
 * <p>With contents, each worker hashes two items at once with the {@link NativeNarHasher} where it is
 * available, and otherwise one at a time with its own {@link NarDumper} ({@link NarDumper#digestInline},
 * on the worker's thread: a second hashing thread per worker only added hand-overs, 2.70 to 2.42 CPU-s
 * over a 1.8 GB store). With the native hasher the workers also {@link #startEarly start early}, on the
 * entries of the store dir, while the caller is still opening and reading the database (otherwise a wait
 * of about 0.2 s with one core busy); an entry hashed early counts once the database says it is valid,
 * with the database's hash to compare it with, and is forgotten otherwise.
 *
 * <p>Items are taken largest first once the database is read, so that a large item does not start last
 * and leave the other workers idle at the end. Used once, from one thread; it starts and joins its workers
 * itself, and {@link #close()} stops them if {@link #check} is never reached.
 */
final class ItemChecker implements AutoCloseable {
    private final StoreDir storeDir;
    private final Canonicaliser canonicaliser;
    private final boolean contents;
    /** Whether contents are hashed with the {@link NativeNarHasher}. */
    private final boolean inLanes;
    private final int jobs;
    private final Progress.Listener listener;

    private final Queue<Finding> findings = new ConcurrentLinkedQueue<>();
    private final AtomicLong itemsDone = new AtomicLong();
    private final AtomicLong bytesDone = new AtomicLong();
    private final AtomicLong itemsHashed = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final List<Thread> workers = new ArrayList<>();
    /**
     * NAR bytes a worker hashes between two looks at its lanes, for early entries that turned out not to
     * be valid: 64 MiB, some 40 ms of hashing, against a look that costs microseconds.
     */
    private static final long LOOK_EVERY = 64L << 20;

    /** Store dir entries hashed before the database is read ({@link #startEarly}); empty otherwise. */
    private List<String> early = List.of();
    /** The store dir the early entries are in. */
    private Path earlyDir;
    /** The next early entry to take; set to {@code early.size()} when the database's items take over. */
    private final AtomicInteger earlyNext = new AtomicInteger();
    /** The outcome of each early entry taken; null when its worker stopped before finishing it. */
    private List<CompletableFuture<NativeNarHasher.Outcome>> earlyOutcomes = List.of();
    /** Opened once {@link #order} is set: workers out of early entries wait for it. */
    private final CountDownLatch ordered = new CountDownLatch(1);
    /** Set by {@link #check}, before {@link #order}: the base names of the valid items. */
    private volatile Set<String> validNames;
    /** Set by {@link #check}: the items not taken early, in the order they are taken. */
    private volatile List<PathInfo> order = List.of();
    private final AtomicInteger next = new AtomicInteger();
    /** Set by {@link #check}: the phase, the number of items and their NAR bytes in all. */
    private volatile Progress.Phase phase;
    private volatile int itemCount;
    private volatile long bytesTotal;

    /**
     * A checker; {@code nativeHashing} false keeps contents hashing in Java even where the
     * {@link NativeNarHasher} is available (for tests of that path).
     */
    ItemChecker(StoreDir storeDir, Canonicaliser canonicaliser, boolean contents, boolean nativeHashing, int jobs,
            Progress.Listener listener) {
        this.storeDir = storeDir;
        this.canonicaliser = canonicaliser;
        this.contents = contents;
        this.inLanes = contents && nativeHashing && NativeNarHasher.available();
        this.jobs = jobs;
        this.listener = listener;
    }

    /**
     * Starts hashing the entries of the store dir at {@code physicalStoreDir} that are named as store
     * items are, before the caller knows which are valid; does nothing unless contents are checked with
     * the {@link NativeNarHasher}. Call it at most once, before {@link #check}.
     *
     * @throws IOException if the store dir cannot be listed
     */
    void startEarly(Path physicalStoreDir) throws IOException {
        if (!inLanes || !workers.isEmpty()) {
            return;
        }
        String[] names = Leftovers.names(physicalStoreDir);
        List<String> entries = new ArrayList<>(names.length);
        for (String name : names) {
            if (Leftovers.looksLikeItem(name)) {
                entries.add(name);
            }
        }
        List<CompletableFuture<NativeNarHasher.Outcome>> outcomes = new ArrayList<>(entries.size());
        for (int i = 0; i < entries.size(); i++) {
            outcomes.add(new CompletableFuture<>());
        }
        earlyDir = physicalStoreDir;
        early = entries;
        earlyOutcomes = outcomes;
        startWorkers(jobs);
    }

    /**
     * Checks every item and returns the findings, in no particular order; {@code validNames} holds the
     * base names of {@code items}.
     *
     * @throws InterruptedIOException if the calling thread is interrupted (the workers are stopped)
     */
    List<Finding> check(List<PathInfo> items, Set<String> validNames) throws IOException {
        long bytes = 0;
        for (PathInfo item : items) {
            bytes += item.narSize();
        }
        bytesTotal = bytes;
        itemCount = items.size();
        phase = contents ? Progress.Phase.CONTENTS : Progress.Phase.ITEMS;
        listener.progress(new Progress(phase, 0, items.size(), 0, contents ? bytes : 0));
        // From here on no early entry is taken; those taken so far are matched with the database's items.
        int takenEarly = Math.min(earlyNext.getAndSet(early.size()), early.size());
        Map<String, Integer> earlyIndex = new HashMap<>(takenEarly * 2);
        for (int i = 0; i < takenEarly; i++) {
            earlyIndex.put(early.get(i), i);
        }
        List<PathInfo> rest = new ArrayList<>(items.size());
        List<PathInfo> hashedEarly = new ArrayList<>(takenEarly);
        for (PathInfo item : items) {
            (earlyIndex.containsKey(item.path().baseName()) ? hashedEarly : rest).add(item);
        }
        if (contents) {
            rest.sort(Comparator.comparingLong(PathInfo::narSize).reversed());
        }
        this.validNames = validNames;
        order = rest;
        ordered.countDown();
        if (workers.isEmpty()) {
            startWorkers(Math.min(jobs, rest.size()));
        }
        try {
            recordEarly(hashedEarly, earlyIndex);
            for (Thread worker : workers) {
                worker.join();
            }
        } catch (InterruptedException e) {
            stopWorkers();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while verifying " + storeDir.logical());
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new ArrayList<>(findings);
    }

    /**
     * Stops the workers if {@link #check} did not run to its end (the database could not be read, say);
     * otherwise does nothing.
     */
    @Override
    public void close() {
        if (ordered.getCount() > 0 || workers.stream().anyMatch(Thread::isAlive)) {
            failure.compareAndSet(null, new CancellationException("verification stopped"));
            earlyNext.set(early.size());
            ordered.countDown();
            stopWorkers();
        }
    }

    /** Records, on the calling thread, the items that were hashed early, as their workers finish them. */
    private void recordEarly(List<PathInfo> hashedEarly, Map<String, Integer> earlyIndex) throws InterruptedException {
        if (hashedEarly.isEmpty()) {
            return;
        }
        NarDumper dumper = new NarDumper();
        MessageDigest digest = HashAlgorithm.SHA256.newDigest();
        for (PathInfo item : hashedEarly) {
            NativeNarHasher.Outcome outcome;
            try {
                outcome = earlyOutcomes.get(earlyIndex.get(item.path().baseName())).get();
            } catch (ExecutionException e) {
                throw new IllegalStateException(e); // never completed exceptionally
            }
            if (outcome == null) {
                return; // its worker stopped: the failure that stopped it is reported
            }
            record(item, outcome, dumper, digest);
            done(item);
        }
    }

    private void startWorkers(int count) {
        for (int t = 0; t < Math.max(1, count); t++) {
            Thread worker = new Thread(() -> {
                NarDumper dumper = contents ? new NarDumper() : null;
                MessageDigest digest = contents ? HashAlgorithm.SHA256.newDigest() : null;
                try {
                    if (inLanes) {
                        checkInLanes(dumper, digest);
                    } else {
                        for (Task task = take(); task != null; task = take()) {
                            checkItem(task.item(), dumper, digest);
                            done(task.item());
                        }
                    }
                } catch (RuntimeException | Error e) {
                    failure.compareAndSet(null, e);
                }
            }, "granary-verify-" + t);
            worker.setDaemon(true);
            workers.add(worker);
            worker.start();
        }
    }

    private void stopWorkers() {
        workers.forEach(Thread::interrupt);
        for (Thread worker : workers) {
            try {
                worker.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * What a worker checks next: an early entry of the store dir, or an item of the database; null when
     * there is none left or the check is stopping.
     */
    private Task take() {
        if (failure.get() != null || Thread.currentThread().isInterrupted()) {
            return null;
        }
        int e = earlyNext.getAndIncrement();
        if (e < early.size()) {
            return new Task(null, e, earlyDir.resolve(early.get(e)));
        }
        try {
            ordered.await();
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            return null;
        }
        List<PathInfo> items = order;
        int i = next.getAndIncrement();
        return i < items.size() && failure.get() == null
            ? new Task(items.get(i), -1, storeDir.physicalPath(items.get(i).path())) : null;
    }

    /** Something to check at {@code physical}: a valid {@code item}, or (item null) early entry {@code early}. */
    private record Task(PathInfo item, int early, Path physical) {
    }

    /** Counts a checked item and reports the progress. */
    private void done(PathInfo item) {
        long bytes = contents ? bytesDone.addAndGet(item.narSize()) : 0;
        listener.progress(new Progress(phase, itemsDone.incrementAndGet(), itemCount, bytes,
            contents ? bytesTotal : 0));
    }

    /**
     * A worker's loop with the {@link NativeNarHasher}: two items hashed at once, a lane refilled as soon
     * as its item is done; an item the native side could not hash is checked again here in Java, which
     * finds and names what is wrong with it. An early entry's outcome goes to {@link #check}'s thread.
     */
    private void checkInLanes(NarDumper dumper, MessageDigest digest) {
        Task[] lanes = new Task[NativeNarHasher.lanes()];
        try (NativeNarHasher hasher = new NativeNarHasher()) {
            for (;;) {
                for (int lane = 0; lane < lanes.length; lane++) {
                    if (lanes[lane] == null && (lanes[lane] = take()) != null) {
                        hasher.start(lane, lanes[lane].physical());
                    }
                }
                if (!hasher.anyBusy()) {
                    return;
                }
                int finished = hasher.run(LOOK_EVERY);
                abandonLeftovers(lanes, hasher);
                for (int lane = 0; lane < lanes.length; lane++) {
                    if ((finished & (1 << lane)) != 0 && lanes[lane] != null) {
                        Task task = lanes[lane];
                        lanes[lane] = null;
                        NativeNarHasher.Outcome outcome = hasher.result(lane);
                        if (task.item() == null) {
                            earlyOutcomes.get(task.early()).complete(outcome);
                        } else {
                            record(task.item(), outcome, dumper, digest);
                            done(task.item());
                        }
                    }
                }
            }
        } finally {
            for (Task task : lanes) {
                if (task != null && task.item() == null) {
                    earlyOutcomes.get(task.early()).complete(null);
                }
            }
        }
    }

    /**
     * Stops hashing the early entries the database says are not valid items (a large leftover would
     * otherwise be hashed to its end for nothing); their outcomes are never asked for.
     */
    private void abandonLeftovers(Task[] lanes, NativeNarHasher hasher) {
        Set<String> valid = validNames;
        for (int lane = 0; valid != null && lane < lanes.length; lane++) {
            Task task = lanes[lane];
            if (task != null && task.item() == null && !valid.contains(task.physical().getFileName().toString())) {
                hasher.abandon(lane);
                earlyOutcomes.get(task.early()).complete(null);
                lanes[lane] = null;
            }
        }
    }

    /** The findings of an item the native hasher is done with. */
    private void record(PathInfo item, NativeNarHasher.Outcome outcome, NarDumper dumper, MessageDigest digest) {
        if (!outcome.hashed()) {
            checkItem(item, dumper, digest);
            return;
        }
        itemsHashed.incrementAndGet();
        String path = item.path().toString();
        if (!outcome.canonical()) {
            findings.addAll(metadata(path, storeDir.physicalPath(item.path()), canonicaliser));
        }
        Finding found = compare(item, outcome.digest(), outcome.narSize());
        if (found != null) {
            findings.add(found);
        }
    }

    /** How many items were hashed. */
    long itemsHashed() {
        return itemsHashed.get();
    }

    /** How many NAR bytes were hashed (by the database's count). */
    long bytesHashed() {
        return contents ? bytesDone.get() : 0;
    }

    private void checkItem(PathInfo item, NarDumper dumper, MessageDigest digest) {
        String path = item.path().toString();
        Path physical = storeDir.physicalPath(item.path());
        if (!Files.exists(physical, NOFOLLOW_LINKS)) {
            findings.add(new Finding(Finding.Kind.MISSING, path, null, "present in the store dir", "absent", true,
                Finding.Action.NONE, null));
            return;
        }
        findings.addAll(metadata(path, physical, canonicaliser));
        if (contents) {
            Finding found = contents(item, physical, dumper, digest);
            if (found != null) {
                findings.add(found);
            }
        }
    }

    /** The metadata finding of an item, if any, as a list of zero or one. */
    static List<Finding> metadata(String path, Path physical, Canonicaliser canonicaliser) {
        try {
            Optional<Canonicaliser.Deviation> deviation = canonicaliser.firstDeviation(physical);
            if (deviation.isEmpty()) {
                return List.of();
            }
            Canonicaliser.Deviation d = deviation.get();
            String aspect = d.aspect().name().toLowerCase(java.util.Locale.ROOT);
            return List.of(new Finding(Finding.Kind.METADATA, path, d.path().toString(), aspect + " " + d.expected(),
                aspect + " " + d.actual(), true, Finding.Action.NONE, null));
        } catch (IOException e) {
            return List.of(new Finding(Finding.Kind.METADATA, path, fileOf(e), null, "unreadable: " + e.getMessage(),
                true, Finding.Action.NONE, null));
        }
    }

    private Finding contents(PathInfo item, Path physical, NarDumper dumper, MessageDigest digest) {
        String path = item.path().toString();
        NarDigest found;
        try {
            found = dumper.digestInline(physical, digest);
        } catch (IOException e) {
            return new Finding(Finding.Kind.CONTENTS, path, fileOf(e), describe(item.narHash(), item.narSize()),
                "unreadable: " + e.getMessage(), true, Finding.Action.NONE, null);
        } finally {
            itemsHashed.incrementAndGet();
        }
        return compare(item, found.digest(), found.narSize());
    }

    /** A {@code contents} finding if the item's NAR, as hashed, is not the database's; null if it is. */
    private static Finding compare(PathInfo item, byte[] sha256, long narSize) {
        Hash actual = Hash.of(HashAlgorithm.SHA256, sha256);
        // A size of 0 means "not recorded" (old Guix databases), as the daemon treats it.
        if (actual.equals(item.narHash()) && (item.narSize() == 0 || narSize == item.narSize())) {
            return null;
        }
        return new Finding(Finding.Kind.CONTENTS, item.path().toString(), null,
            describe(item.narHash(), item.narSize()), describe(actual, narSize), true,
            Finding.Action.NONE, null);
    }

    /** A NAR hash and size as reports show them: {@code sha256:<nix-base32>, N bytes}. */
    static String describe(Hash hash, long size) {
        return nix32(hash) + ", " + size + " bytes";
    }

    /** A hash as Nix prints it in messages: {@code sha256:<nix-base32>}. */
    static String nix32(Hash hash) {
        return hash.algorithm().nixName() + ":" + hash.format(HashFormat.BASE32);
    }

    /** The file an I/O error names, if it names one. */
    static String fileOf(IOException e) {
        if (e instanceof NarDumpException dump && dump.path() != null) {
            return dump.path().toString();
        }
        if (e instanceof FileSystemException fs) {
            return fs.getFile();
        }
        return null;
    }
}
