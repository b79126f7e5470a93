package org.granary.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.function.Function;
import org.agrona.DirectBuffer;
import org.lmdbjava.Cursor;
import org.lmdbjava.Dbi;
import org.lmdbjava.DirectBufferProxy;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.GetOp;
import org.lmdbjava.SeekOp;
import org.lmdbjava.Txn;

/**
 * The reference database of a store: which paths are valid, and for each its {@link PathInfo}, its
 * references and referrers, and the outputs of valid derivations. An LMDB environment (usually
 * {@code <state>/db/lmdb}) with the sub-databases {@code info}, {@code refs}, {@code referrers},
 * {@code drv-outputs}, {@code output-drvs} and {@code meta}, every item keyed by its 20-byte hash part.
 *
 * <p><b>Validity.</b> A path is valid when {@code info} holds a record under its hash part <i>with its
 * name</i>: a path whose hash part is known under another name is not valid. The <b>closure
 * invariant</b> holds after every commit: every reference of a valid path is valid. {@link #register}
 * and {@link #invalidate} each run in one write transaction and either change everything asked or
 * nothing.
 *
 * <p><b>Concurrency.</b> Thread-safe: share one instance between threads. Safe between processes, as
 * LMDB is: readers see a consistent snapshot and never block writers; writers are serialised by LMDB's
 * lock. A process must open a directory at most once at a time (LMDB's locks are per process); a second
 * {@link #open} of the same directory in one JVM is refused until the first is closed.
 *
 * <p><b>Size.</b> The memory map starts at the size given to {@link #open(Path, String, long)} and doubles
 * whenever a transaction finds it full; the transaction is then retried. A map grown by another process is
 * adopted when a transaction starts.
 */
public final class StoreDatabase implements AutoCloseable {
    /** The initial map size of {@link #open(Path, String)}: 1 GiB of address space, not of disk. */
    public static final long DEFAULT_MAP_SIZE = 1L << 30;
    /** The schema this class reads and writes. */
    static final int SCHEMA_VERSION = 1;

    private static final byte[] META_SCHEMA = ascii("schema");
    private static final byte[] META_STORE_DIR = ascii("store-dir");

    /**
     * Directories open in this process. LMDB's locks are POSIX locks, which belong to the process: a second
     * environment on the same files would drop the first one's locks when it closes (LMDB's documentation
     * forbids it). This mirrors a per-process resource, so it is the one static mutable field.
     */
    private static final Set<Path> OPEN = ConcurrentHashMap.newKeySet();

    private final Path directory;
    private final String storeDir;
    private final Env<DirectBuffer> env;
    private final Dbi<DirectBuffer> info;
    private final Dbi<DirectBuffer> refs;
    private final Dbi<DirectBuffer> referrers;
    private final Dbi<DirectBuffer> drvOutputs;
    private final Dbi<DirectBuffer> outputDrvs;
    /** Shared by every transaction, exclusive for a resize: LMDB resizes only with no transaction open. */
    private final ReentrantReadWriteLock mapLock = new ReentrantReadWriteLock();
    /** One writer per JVM at a time, so that a writer waiting on LMDB's lock never holds up a resize. */
    private final ReentrantLock writer = new ReentrantLock();
    private boolean closed;

    private StoreDatabase(Path directory, String storeDir, Env<DirectBuffer> env) {
        this.directory = directory;
        this.storeDir = storeDir;
        this.env = env;
        List<Dbi<DirectBuffer>> dbis = write(txn -> {
            List<Dbi<DirectBuffer>> opened = new ArrayList<>();
            opened.add(openDbi(txn, "info"));
            opened.add(openDbi(txn, "refs", DbiFlags.MDB_DUPSORT, DbiFlags.MDB_DUPFIXED));
            opened.add(openDbi(txn, "referrers", DbiFlags.MDB_DUPSORT, DbiFlags.MDB_DUPFIXED));
            opened.add(openDbi(txn, "drv-outputs", DbiFlags.MDB_DUPSORT));
            opened.add(openDbi(txn, "output-drvs", DbiFlags.MDB_DUPSORT, DbiFlags.MDB_DUPFIXED));
            checkMeta(txn, openDbi(txn, "meta"), opened.get(0));
            return opened;
        });
        this.info = dbis.get(0);
        this.refs = dbis.get(1);
        this.referrers = dbis.get(2);
        this.drvOutputs = dbis.get(3);
        this.outputDrvs = dbis.get(4);
    }

    /**
     * Opens (creating if needed) the database in {@code directory} for the logical store dir
     * {@code storeDir}, with a map of {@link #DEFAULT_MAP_SIZE} to start with.
     *
     * @param directory the LMDB environment's directory, such as {@code /var/guix/db/lmdb}; created if
     *     missing
     * @param storeDir the logical store dir, such as {@code /gnu/store}
     * @return the open database; close it
     * @throws IncompatibleDatabaseException if the database was made for another store dir or has an
     *     unknown schema version
     * @throws IllegalStateException if this process already has the directory open
     * @throws UncheckedIOException if the directory cannot be created
     */
    public static StoreDatabase open(Path directory, String storeDir) {
        return open(directory, storeDir, DEFAULT_MAP_SIZE);
    }

    /**
     * Opens (creating if needed) the database in {@code directory} for the logical store dir
     * {@code storeDir}. An existing database keeps its larger map size.
     *
     * @param directory the LMDB environment's directory; created if missing
     * @param storeDir the logical store dir, such as {@code /gnu/store}
     * @param initialMapSize the map size to start with, in bytes (a multiple of the page size; it doubles
     *     on demand)
     * @return the open database; close it
     * @throws IncompatibleDatabaseException if the database was made for another store dir or has an
     *     unknown schema version
     * @throws IllegalStateException if this process already has the directory open
     * @throws IllegalArgumentException if {@code storeDir} is not canonical or the size is not positive
     * @throws UncheckedIOException if the directory cannot be created
     */
    public static StoreDatabase open(Path directory, String storeDir, long initialMapSize) {
        StoreDir.checkLogical(storeDir);
        if (initialMapSize <= 0) {
            throw new IllegalArgumentException("map size must be positive, not " + initialMapSize);
        }
        Path canonical;
        try {
            Files.createDirectories(directory);
            canonical = directory.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create database directory " + directory, e);
        }
        if (!OPEN.add(canonical)) {
            throw new IllegalStateException("database " + canonical + " is already open in this process");
        }
        Env<DirectBuffer> env = null;
        try {
            env = Env.create(DirectBufferProxy.PROXY_DB)
                .setMapSize(initialMapSize)
                .setMaxDbs(8)
                // Reader slots belong to transactions, not threads: any thread may run a read.
                .open(canonical.toFile(), EnvFlags.MDB_NOTLS);
            return new StoreDatabase(canonical, storeDir, env);
        } catch (RuntimeException | Error e) {
            if (env != null) {
                env.close();
            }
            OPEN.remove(canonical);
            throw e;
        }
    }

    /**
     * Returns the logical store dir the database belongs to.
     *
     * @return such as {@code /gnu/store}
     */
    public String storeDir() {
        return storeDir;
    }

    /**
     * Says whether a path is valid: registered under its hash part with its name.
     *
     * @param path a path of this store dir
     * @return whether it is valid
     * @throws IllegalArgumentException if it belongs to another store dir
     * @throws CorruptRecordException if its record cannot be read
     */
    public boolean isValid(StorePath path) {
        byte[] key = key(path);
        return read(txn -> isValid(txn, key, path.name()));
    }

    /**
     * Returns what the database knows of a path, references included.
     *
     * @param path a path of this store dir
     * @return its information, or empty if it is not valid
     * @throws IllegalArgumentException if it belongs to another store dir
     * @throws CorruptRecordException if a record of it cannot be read
     */
    public Optional<PathInfo> pathInfo(StorePath path) {
        byte[] key = key(path);
        return read(txn -> {
            DirectBuffer found = info.get(txn, lmdbKey(key));
            if (found == null || !InfoRecord.hasName(key, found, path.name())) {
                return Optional.empty();
            }
            byte[] record = Scratch.bytes(found);
            return Optional.of(InfoRecord.decode(storeDir, key, record, paths(txn, refs, key)));
        });
    }

    /**
     * Returns the references of a valid path (the path itself among them if it refers to itself).
     *
     * @param path a valid path
     * @return its references, sorted
     * @throws PathNotValidException if it is not valid
     * @throws IllegalArgumentException if it belongs to another store dir
     */
    public SortedSet<StorePath> references(StorePath path) {
        return neighbours(path, refs);
    }

    /**
     * Returns the valid paths that refer to a valid path (itself among them if it refers to itself).
     *
     * @param path a valid path
     * @return its referrers, sorted
     * @throws PathNotValidException if it is not valid
     * @throws IllegalArgumentException if it belongs to another store dir
     */
    public SortedSet<StorePath> referrers(StorePath path) {
        return neighbours(path, referrers);
    }

    /**
     * Returns the closure of valid paths under references (the requisites, as {@code guix gc
     * --requisites}) or under referrers ({@code guix gc --referrers} applied transitively), roots included.
     * One read transaction: the result is a consistent snapshot. The walk reads the 20-byte keys of
     * {@code refs} or {@code referrers} a page at a time and only the name of each record.
     *
     * @param roots valid paths to start from
     * @param referrersDirection false to follow references, true to follow referrers
     * @return the closure, sorted
     * @throws PathNotValidException if a root is not valid
     * @throws IllegalArgumentException if a root belongs to another store dir
     */
    public SortedSet<StorePath> closure(Collection<StorePath> roots, boolean referrersDirection) {
        List<byte[]> rootKeys = new ArrayList<>(roots.size());
        for (StorePath root : roots) {
            rootKeys.add(key(root));
        }
        Dbi<DirectBuffer> edges = referrersDirection ? referrers : refs;
        return read(txn -> {
            // The keys reached, in order of arrival: the walk's queue as well as its set of seen keys.
            KeySet seen = new KeySet();
            List<StorePath> result = new ArrayList<>();
            int r = 0;
            for (StorePath root : roots) {
                byte[] key = rootKeys.get(r++);
                if (!isValid(txn, key, root.name())) {
                    throw new PathNotValidException(root);
                }
                if (seen.add(key)) {
                    result.add(root);
                }
            }
            try (Cursor<DirectBuffer> cursor = edges.openCursor(txn)) {
                for (int i = 0; i < seen.size(); i++) {
                    DirectBuffer from = Scratch.get().key(seen.array(), KeySet.offset(i), Keys.SIZE);
                    if (!cursor.get(from, GetOp.MDB_SET)) {
                        continue;
                    }
                    byte[] fromKey = seen.key(i);
                    // The values of a page are read in place, in the map: only new keys are copied.
                    for (boolean more = cursor.seek(SeekOp.MDB_GET_MULTIPLE); more;
                            more = cursor.seek(SeekOp.MDB_NEXT_MULTIPLE)) {
                        DirectBuffer page = cursor.val();
                        checkRun(fromKey, page.capacity());
                        for (int offset = 0; offset < page.capacity(); offset += Keys.SIZE) {
                            if (seen.add(page, offset)) {
                                result.add(validPath(txn, seen.key(seen.size() - 1), fromKey));
                            }
                        }
                    }
                }
            }
            return Collections.unmodifiableSortedSet(new TreeSet<>(result));
        });
    }

    /**
     * Finds the valid path with a hash part, as the daemon's {@code QueryPathFromHashPart}.
     *
     * @param hashPart 32 nix-base32 characters
     * @return the valid path, or empty if none has that hash part
     * @throws InvalidStorePathException if {@code hashPart} is not 32 nix-base32 characters
     */
    public Optional<StorePath> pathFromHashPart(String hashPart) {
        String problem = StorePath.hashPartProblem(hashPart);
        if (problem != null) {
            throw new InvalidStorePathException("invalid hash part: " + problem);
        }
        byte[] key = NixBase32.decode(hashPart);
        return read(txn -> {
            DirectBuffer record = info.get(txn, lmdbKey(key));
            return record == null ? Optional.empty()
                : Optional.of(new StorePath(storeDir, hashPart, InfoRecord.name(key, record)));
        });
    }

    /**
     * Returns every valid path, from one consistent snapshot.
     *
     * @return the valid paths, sorted
     */
    public SortedSet<StorePath> validPaths() {
        return read(txn -> {
            TreeSet<StorePath> result = new TreeSet<>();
            try (Cursor<DirectBuffer> cursor = info.openCursor(txn)) {
                for (boolean more = cursor.first(); more; more = cursor.next()) {
                    byte[] key = Scratch.bytes(cursor.key());
                    result.add(new StorePath(storeDir, Keys.hashPart(key), InfoRecord.name(key, cursor.val())));
                }
            }
            return Collections.unmodifiableSortedSet(result);
        });
    }

    /**
     * Returns the whole reference graph, read in one read transaction: a consistent snapshot of every
     * valid path with its NAR size, deriver, references and valid derivation outputs, as arrays of ints
     * (what a garbage collector walks instead of querying path by path).
     *
     * @return the graph
     * @throws CorruptRecordException if a record cannot be read or an edge leads to no valid path
     */
    public StoreGraph graph() {
        return read(txn -> StoreGraph.read(storeDir, txn, info, refs, drvOutputs));
    }

    /**
     * Returns how many paths are valid, without reading them.
     *
     * @return the number of valid paths
     */
    public long validPathCount() {
        return read(txn -> info.stat(txn).entries);
    }

    /**
     * Registers a batch of paths; see {@link #register(Collection, Map)}.
     *
     * @param batch the paths, in any order
     * @throws MissingReferenceException if a reference is neither valid nor in the batch
     * @throws StoreException if a path's hash part is valid under another name, or the batch's references
     *     form a cycle
     * @throws IllegalArgumentException if a path belongs to another store dir or appears twice
     */
    public void register(Collection<PathInfo> batch) {
        register(batch, Map.of());
    }

    /**
     * Makes a batch of paths valid in one transaction: all of them or, on any error, none. The batch may
     * come in any order; together with the paths already valid it must be closed under references.
     * Re-registering a valid path replaces its information and references, as the daemon updates it.
     * For each derivation of the batch that {@code derivationOutputs} names, its outputs are recorded
     * (replacing those recorded before); output paths need not be valid.
     *
     * @param batch the paths, in any order
     * @param derivationOutputs for derivations of the batch: output id (such as {@code out}) to output path
     * @throws MissingReferenceException naming the path and the reference, if a reference is neither valid
     *     nor in the batch
     * @throws StoreException if a path's hash part is valid under another name, or the batch's references
     *     form a cycle (other than a self-reference)
     * @throws IllegalArgumentException if a path belongs to another store dir or appears twice, or a
     *     derivation of {@code derivationOutputs} is not in the batch
     */
    public void register(Collection<PathInfo> batch, Map<StorePath, Map<String, StorePath>> derivationOutputs) {
        List<Registration> items = Registration.prepare(this, batch, derivationOutputs);
        write(txn -> {
            registerIn(txn, items);
            return null;
        });
    }

    /**
     * Makes a set of paths invalid in one transaction: all of them or, on refusal, none. Paths of the set
     * that are not valid are skipped. References among the set, self-references included, do not hold
     * it up. The files are not touched: delete them afterwards.
     *
     * @param paths the paths to invalidate
     * @return how many were valid and are now invalid
     * @throws StillReferencedException naming the path and the referrer, if a valid path outside the set
     *     refers to one of the set
     * @throws IllegalArgumentException if a path belongs to another store dir
     */
    public int invalidate(Collection<StorePath> paths) {
        Map<String, StorePath> byId = new HashMap<>();
        for (StorePath path : paths) {
            byId.put(id(key(path)), path);
        }
        return write(txn -> invalidateIn(txn, byId));
    }

    /**
     * Returns the outputs recorded for a valid derivation.
     *
     * @param derivation a valid {@code .drv} path
     * @return output id to output path, sorted by id; empty if none were recorded
     * @throws PathNotValidException if it is not valid
     * @throws IllegalArgumentException if it belongs to another store dir
     */
    public SortedMap<String, StorePath> derivationOutputs(StorePath derivation) {
        byte[] key = key(derivation);
        return read(txn -> {
            if (!isValid(txn, key, derivation.name())) {
                throw new PathNotValidException(derivation);
            }
            TreeMap<String, StorePath> outputs = new TreeMap<>();
            forEachOutput(txn, key, (id, output) -> outputs.put(id, output));
            return Collections.unmodifiableSortedMap(outputs);
        });
    }

    /**
     * Returns the valid derivations that have {@code output} among their recorded outputs, as the
     * daemon's {@code queryValidDerivers}. The output itself need not be valid.
     *
     * @param output a path of this store dir
     * @return the derivations, sorted
     * @throws IllegalArgumentException if it belongs to another store dir
     */
    public SortedSet<StorePath> validDerivers(StorePath output) {
        byte[] key = key(output);
        return read(txn -> {
            TreeSet<StorePath> derivers = new TreeSet<>();
            try (Cursor<DirectBuffer> cursor = outputDrvs.openCursor(txn)) {
                forEachValue(cursor, key, drvKey -> {
                    DirectBuffer record = info.get(txn, lmdbKey(drvKey));
                    if (record == null) {
                        return;
                    }
                    StorePath drv = new StorePath(storeDir, Keys.hashPart(drvKey), InfoRecord.name(drvKey, record));
                    boolean[] names = {false};
                    forEachOutput(txn, drvKey, (id, recorded) -> names[0] |= recorded.equals(output));
                    if (names[0]) {
                        derivers.add(drv);
                    }
                });
            }
            return Collections.unmodifiableSortedSet(derivers);
        });
    }

    /**
     * Closes the database. Waits for running operations; later calls fail with
     * {@link IllegalStateException}. Closing twice does nothing.
     */
    @Override
    public void close() {
        mapLock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                env.close();
                OPEN.remove(directory);
            }
        } finally {
            mapLock.writeLock().unlock();
        }
    }

    /**
     * Returns the directory and store dir.
     *
     * @return such as {@code StoreDatabase[/var/guix/db/lmdb for /gnu/store]}
     */
    @Override
    public String toString() {
        return "StoreDatabase[" + directory + " for " + storeDir + "]";
    }

    // ---- registration and invalidation, inside a write transaction ----

    private void registerIn(Txn<DirectBuffer> txn, List<Registration> items) {
        Map<String, StorePath> batch = new HashMap<>();
        for (Registration item : items) {
            batch.put(id(item.key), item.info.path());
        }
        List<Registration> updated = new ArrayList<>();
        for (Registration item : items) {
            DirectBuffer old = info.get(txn, lmdbKey(item.key));
            if (old != null) {
                String oldName = InfoRecord.name(item.key, old);
                if (!oldName.equals(item.info.path().name())) {
                    throw new StoreException("cannot register " + item.info.path() + ": its hash part is that of"
                        + " the valid path " + storeDir + "/" + item.info.path().hashPart() + "-" + oldName);
                }
                updated.add(item);
            }
        }
        for (Registration item : items) {
            int i = 0;
            for (StorePath reference : item.info.references()) {
                byte[] refKey = item.refKeys[i++];
                if (!reference.equals(batch.get(id(refKey))) && !isValid(txn, refKey, reference.name())) {
                    throw new MissingReferenceException(item.info.path(), reference);
                }
            }
        }
        for (Registration item : updated) {
            try (Cursor<DirectBuffer> cursor = refs.openCursor(txn)) {
                forEachValue(cursor, item.key, oldRef -> referrers.delete(txn, lmdbKey(oldRef), lmdbVal(item.key)));
            }
            refs.delete(txn, lmdbKey(item.key));
        }
        // Keys in order, so that consecutive puts land on the same or neighbouring pages.
        List<byte[][]> reverse = new ArrayList<>();
        for (Registration item : items) {
            info.put(txn, lmdbKey(item.key), lmdbVal(item.record));
            for (byte[] refKey : item.refKeys) {
                refs.put(txn, lmdbKey(item.key), lmdbVal(refKey));
                reverse.add(new byte[][] {refKey, item.key});
            }
        }
        reverse.sort((a, b) -> {
            int c = Keys.compare(a[0], b[0]);
            return c != 0 ? c : Keys.compare(a[1], b[1]);
        });
        for (byte[][] pair : reverse) {
            referrers.put(txn, lmdbKey(pair[0]), lmdbVal(pair[1]));
        }
        for (Registration item : items) {
            if (item.outputs != null) {
                deleteOutputs(txn, item.key);
                for (Map.Entry<String, StorePath> output : item.outputs.entrySet()) {
                    byte[] outKey = Keys.of(output.getValue());
                    drvOutputs.put(txn, lmdbKey(item.key),
                        lmdbVal(OutputRecord.encode(output.getKey(), outKey, output.getValue())));
                    outputDrvs.put(txn, lmdbKey(outKey), lmdbVal(item.key));
                }
            }
        }
    }

    private int invalidateIn(Txn<DirectBuffer> txn, Map<String, StorePath> requested) {
        Map<String, byte[]> valid = new TreeMap<>();
        for (Map.Entry<String, StorePath> entry : requested.entrySet()) {
            byte[] key = unid(entry.getKey());
            if (isValid(txn, key, entry.getValue().name())) {
                valid.put(entry.getKey(), key);
            }
        }
        try (Cursor<DirectBuffer> cursor = referrers.openCursor(txn)) {
            for (byte[] key : valid.values()) {
                forEachValue(cursor, key, referrer -> {
                    if (!valid.containsKey(id(referrer))) {
                        throw new StillReferencedException(requested.get(id(key)), validPath(txn, referrer, key));
                    }
                });
            }
        }
        for (byte[] key : valid.values()) {
            try (Cursor<DirectBuffer> cursor = refs.openCursor(txn)) {
                forEachValue(cursor, key, reference -> referrers.delete(txn, lmdbKey(reference), lmdbVal(key)));
            }
            refs.delete(txn, lmdbKey(key));
            info.delete(txn, lmdbKey(key));
            deleteOutputs(txn, key);
        }
        return valid.size();
    }

    private void deleteOutputs(Txn<DirectBuffer> txn, byte[] drvKey) {
        List<byte[]> outKeys = new ArrayList<>();
        try (Cursor<DirectBuffer> cursor = drvOutputs.openCursor(txn)) {
            if (cursor.get(lmdbKey(drvKey), GetOp.MDB_SET)) {
                do {
                    outKeys.add(OutputRecord.outputKey(drvKey, Scratch.bytes(cursor.val())));
                } while (cursor.seek(SeekOp.MDB_NEXT_DUP));
            }
        }
        for (byte[] outKey : outKeys) {
            outputDrvs.delete(txn, lmdbKey(outKey), lmdbVal(drvKey));
        }
        drvOutputs.delete(txn, lmdbKey(drvKey));
    }

    // ---- reading ----

    private boolean isValid(Txn<DirectBuffer> txn, byte[] key, String name) {
        DirectBuffer record = info.get(txn, lmdbKey(key));
        return record != null && InfoRecord.hasName(key, record, name);
    }

    /** The valid path of a key reached from {@code from}; a dangling edge means a corrupt database. */
    private StorePath validPath(Txn<DirectBuffer> txn, byte[] key, byte[] from) {
        DirectBuffer record = info.get(txn, lmdbKey(key));
        if (record == null) {
            throw new CorruptRecordException("the database links hash part " + Keys.hashPart(from)
                + " to hash part " + Keys.hashPart(key) + ", which is not valid (closure invariant broken)");
        }
        return new StorePath(storeDir, Keys.hashPart(key), InfoRecord.name(key, record));
    }

    private SortedSet<StorePath> neighbours(StorePath path, Dbi<DirectBuffer> edges) {
        byte[] key = key(path);
        return read(txn -> {
            if (!isValid(txn, key, path.name())) {
                throw new PathNotValidException(path);
            }
            return paths(txn, edges, key);
        });
    }

    private SortedSet<StorePath> paths(Txn<DirectBuffer> txn, Dbi<DirectBuffer> edges, byte[] key) {
        TreeSet<StorePath> result = new TreeSet<>();
        try (Cursor<DirectBuffer> cursor = edges.openCursor(txn)) {
            forEachValue(cursor, key, next -> result.add(validPath(txn, next, key)));
        }
        return result;
    }

    /** Visits the 20-byte values under {@code key}, fetched a page at a time (MDB_GET_MULTIPLE). */
    private static void forEachValue(Cursor<DirectBuffer> cursor, byte[] key, Consumer<byte[]> action) {
        if (!cursor.get(lmdbKey(key), GetOp.MDB_SET)) {
            return;
        }
        for (boolean more = cursor.seek(SeekOp.MDB_GET_MULTIPLE); more;
                more = cursor.seek(SeekOp.MDB_NEXT_MULTIPLE)) {
            byte[] page = Scratch.bytes(cursor.val());
            checkRun(key, page.length);
            for (int offset = 0; offset < page.length; offset += Keys.SIZE) {
                action.accept(Arrays.copyOfRange(page, offset, offset + Keys.SIZE));
            }
        }
    }

    /** Duplicates of {@code refs} and {@code referrers} are 20 bytes each, so a run is a multiple of 20. */
    private static void checkRun(byte[] key, int length) {
        if (length % Keys.SIZE != 0) {
            throw new CorruptRecordException("edges of hash part " + Keys.hashPart(key) + " come in a run of "
                + length + " bytes, not a multiple of " + Keys.SIZE);
        }
    }

    private interface OutputAction {
        void accept(String id, StorePath output);
    }

    private void forEachOutput(Txn<DirectBuffer> txn, byte[] drvKey, OutputAction action) {
        try (Cursor<DirectBuffer> cursor = drvOutputs.openCursor(txn)) {
            if (cursor.get(lmdbKey(drvKey), GetOp.MDB_SET)) {
                do {
                    OutputRecord.decode(storeDir, drvKey, Scratch.bytes(cursor.val()), action::accept);
                } while (cursor.seek(SeekOp.MDB_NEXT_DUP));
            }
        }
    }

    // ---- transactions and the map ----

    private <R> R read(Function<Txn<DirectBuffer>, R> work) {
        while (true) {
            mapLock.readLock().lock();
            try {
                checkOpen();
                try (Txn<DirectBuffer> txn = env.txnRead()) {
                    return work.apply(txn);
                }
            } catch (Dbi.MapResizedException e) {
                // Another process grew the map beyond ours: adopt its size below, then retry.
            } finally {
                mapLock.readLock().unlock();
            }
            resize(0);
        }
    }

    private <R> R write(Function<Txn<DirectBuffer>, R> work) {
        writer.lock();
        try {
            while (true) {
                boolean full = false;
                mapLock.readLock().lock();
                try {
                    checkOpen();
                    try (Txn<DirectBuffer> txn = env.txnWrite()) {
                        R result = work.apply(txn);
                        txn.commit();
                        return result;
                    }
                } catch (Env.MapFullException e) {
                    full = true; // the transaction is aborted; grow the map and run it again
                } catch (Dbi.MapResizedException e) {
                    full = false; // another process grew the map: adopt its size and run it again
                } finally {
                    mapLock.readLock().unlock();
                }
                resize(full ? 2 : 0);
            }
        } finally {
            writer.unlock();
        }
    }

    /** Multiplies the map size by {@code factor}, or with 0 adopts the size another process set. */
    private void resize(int factor) {
        mapLock.writeLock().lock();
        try {
            checkOpen();
            env.setMapSize(factor == 0 ? 0 : env.info().mapSize * factor);
        } finally {
            mapLock.writeLock().unlock();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    private Dbi<DirectBuffer> openDbi(Txn<DirectBuffer> txn, String name, DbiFlags... flags) {
        DbiFlags[] all = Arrays.copyOf(flags, flags.length + 1);
        all[flags.length] = DbiFlags.MDB_CREATE;
        return env.openDbi(txn, ascii(name), null, false, all);
    }

    private void checkMeta(Txn<DirectBuffer> txn, Dbi<DirectBuffer> meta, Dbi<DirectBuffer> infoDbi) {
        byte[] schema = copy(meta.get(txn, lmdbKey(META_SCHEMA)));
        byte[] dir = copy(meta.get(txn, lmdbKey(META_STORE_DIR)));
        if (schema == null && dir == null && infoDbi.stat(txn).entries == 0) {
            meta.put(txn, lmdbKey(META_SCHEMA), lmdbVal(ascii(Integer.toString(SCHEMA_VERSION))));
            meta.put(txn, lmdbKey(META_STORE_DIR), lmdbVal(storeDir.getBytes(StandardCharsets.UTF_8)));
            return;
        }
        String found = schema == null ? "none" : new String(schema, StandardCharsets.ISO_8859_1);
        if (!found.equals(Integer.toString(SCHEMA_VERSION))) {
            throw new IncompatibleDatabaseException("database " + directory + " has schema version " + found
                + ", but this Granary knows only version " + SCHEMA_VERSION);
        }
        String foundDir = dir == null ? "none" : new String(dir, StandardCharsets.UTF_8);
        if (!foundDir.equals(storeDir)) {
            throw new IncompatibleDatabaseException("database " + directory + " was made for store dir "
                + foundDir + ", not " + storeDir);
        }
    }

    private byte[] key(StorePath path) {
        Objects.requireNonNull(path, "path");
        if (!path.storeDir().equals(storeDir)) {
            throw new IllegalArgumentException("path " + path + " is not in store dir " + storeDir + " of " + this);
        }
        return Keys.of(path);
    }

    /** An off-heap copy of a key for one LMDB call ({@link Scratch}). */
    private static DirectBuffer lmdbKey(byte[] key) {
        return Scratch.get().key(key);
    }

    /** An off-heap copy of a value for one LMDB call ({@link Scratch}). */
    private static DirectBuffer lmdbVal(byte[] value) {
        return Scratch.get().val(value);
    }

    private static byte[] copy(DirectBuffer buffer) {
        return buffer == null ? null : Scratch.bytes(buffer);
    }

    /** A key as a hashable string: one char per byte. */
    private static String id(byte[] key) {
        return new String(key, StandardCharsets.ISO_8859_1);
    }

    private static byte[] unid(String id) {
        return id.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Refuses a batch whose references (self-references aside) form a cycle, as the daemon's topological
     * sort does: content-addressed items cannot refer to each other in a circle, so a cycle means bad input.
     */
    private static void checkAcyclic(List<Registration> items) {
        Map<StorePath, PathInfo> byPath = new HashMap<>();
        for (Registration item : items) {
            byPath.put(item.info.path(), item.info);
        }
        Map<StorePath, Boolean> done = new HashMap<>(); // false while on the current walk, true once left
        for (Registration item : items) {
            ArrayDeque<Iterator<StorePath>> stack = new ArrayDeque<>();
            ArrayDeque<StorePath> walk = new ArrayDeque<>();
            if (done.putIfAbsent(item.info.path(), false) != null) {
                continue;
            }
            walk.push(item.info.path());
            stack.push(item.info.references().iterator());
            while (!stack.isEmpty()) {
                if (!stack.peek().hasNext()) {
                    stack.pop();
                    done.put(walk.pop(), true);
                    continue;
                }
                StorePath next = stack.peek().next();
                if (next.equals(walk.peek()) || !byPath.containsKey(next)) {
                    continue;
                }
                Boolean state = done.putIfAbsent(next, false);
                if (state == null) {
                    walk.push(next);
                    stack.push(byPath.get(next).references().iterator());
                } else if (!state) {
                    throw new StoreException("cannot register the batch: " + walk.peek() + " refers to " + next
                        + ", which refers back to it (a reference cycle)");
                }
            }
        }
    }

    /** One path of a batch, checked and encoded before the transaction starts. */
    private static final class Registration {
        final PathInfo info;
        final byte[] key;
        final byte[] record;
        final byte[][] refKeys;
        final Map<String, StorePath> outputs;

        private Registration(PathInfo info, byte[] key, Map<String, StorePath> outputs) {
            this.info = info;
            this.key = key;
            this.record = InfoRecord.encode(info);
            this.refKeys = new byte[info.references().size()][];
            int i = 0;
            for (StorePath reference : info.references()) {
                refKeys[i++] = Keys.of(reference);
            }
            this.outputs = outputs;
        }

        static List<Registration> prepare(StoreDatabase db, Collection<PathInfo> batch,
                Map<StorePath, Map<String, StorePath>> derivationOutputs) {
            Map<StorePath, Map<String, StorePath>> outputs = new HashMap<>(derivationOutputs);
            Set<String> seen = new HashSet<>();
            List<Registration> items = new ArrayList<>(batch.size());
            for (PathInfo info : batch) {
                byte[] key = db.key(info.path());
                if (!seen.add(id(key))) {
                    throw new IllegalArgumentException("the batch holds hash part " + info.path().hashPart()
                        + " twice (" + info.path() + ")");
                }
                Map<String, StorePath> drvOutputs = outputs.remove(info.path());
                if (drvOutputs != null) {
                    for (Map.Entry<String, StorePath> output : drvOutputs.entrySet()) {
                        OutputRecord.check(info.path(), output.getKey());
                        db.key(output.getValue());
                    }
                }
                items.add(new Registration(info, key, drvOutputs));
            }
            if (!outputs.isEmpty()) {
                throw new IllegalArgumentException("outputs given for derivations not in the batch: "
                    + new TreeSet<>(outputs.keySet()));
            }
            checkAcyclic(items);
            items.sort((a, b) -> Keys.compare(a.key, b.key));
            return items;
        }
    }
}
