package org.granary.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
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
import org.lmdbjava.LmdbNativeException;
import org.lmdbjava.PutFlags;
import org.lmdbjava.SeekOp;
import org.lmdbjava.Txn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
    /**
     * The logger, made at its first use rather than with the class: {@link #preload} loads this class on
     * another thread while a command line is still parsed, and the first logger of a JVM fixes SLF4J's
     * configuration, which the command line sets once parsed.
     */
    private static final class Log {
        static final Logger LOG = LoggerFactory.getLogger(StoreDatabase.class);
    }

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
     * Loads the LMDB binding, so that the first {@link #open} in this JVM finds it ready: lmdbjava's
     * native library and the bindings jnr-ffi generates for it at run time, about 0.15 CPU-seconds. A
     * command-line tool calls it on a background thread while it parses its arguments, to overlap that
     * cost with its own start-up; nothing needs it for correctness. A failure here is left for
     * {@link #open} to report. Safe to call from any thread, any number of times.
     */
    public static void preload() {
        try {
            Class.forName("org.lmdbjava.Library", true, Env.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            // open() meets the same failure, and reports it where it matters.
        }
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
        List<byte[]> rootKeys = keys(roots);
        return read(txn -> Collections.unmodifiableSortedSet(
            new TreeSet<>(walk(txn, roots, rootKeys, referrersDirection, null))));
    }

    /**
     * Returns the closure of valid paths under references or referrers, in the order {@code nix-store -q
     * --requisites} and {@code --referrers-closure} print it: every path after the paths of the closure it
     * refers to, otherwise sorted. One walk of the database gives the closure and the order.
     *
     * @param roots valid paths
     * @param referrersDirection false for the closure under references, true for the closure under referrers
     * @return the closure, references first
     * @throws PathNotValidException if a root is not valid
     * @throws IllegalArgumentException if a root belongs to another store dir
     */
    public List<StorePath> closureReferencesFirst(Collection<StorePath> roots, boolean referrersDirection) {
        List<byte[]> rootKeys = keys(roots);
        return read(txn -> {
            ReferenceOrder order = new ReferenceOrder();
            return order.order(walk(txn, roots, rootKeys, referrersDirection, order));
        });
    }

    /**
     * Orders valid paths as {@code nix-store -q} and {@code --export} print a set of paths: every path after
     * the paths of the set it refers to, otherwise sorted.
     *
     * @param paths valid paths (a path given twice counts once)
     * @return the same paths, references first
     * @throws PathNotValidException if a path is not valid
     * @throws IllegalArgumentException if a path belongs to another store dir
     */
    public List<StorePath> referencesFirst(Collection<StorePath> paths) {
        List<byte[]> keys = keys(paths);
        return read(txn -> {
            KeySet numbers = new KeySet();
            List<StorePath> distinct = number(txn, paths, keys, numbers);
            ReferenceOrder order = new ReferenceOrder();
            try (Cursor<DirectBuffer> cursor = refs.openCursor(txn)) {
                for (int i = 0; i < distinct.size(); i++) {
                    int referrer = i;
                    forEachValue(cursor, numbers.array(), KeySet.offset(i), (page, offset) -> {
                        int reference = numbers.indexOf(page, offset);
                        if (reference >= 0) {
                            order.refersTo(referrer, reference);
                        }
                    });
                }
            }
            return order.order(distinct);
        });
    }

    /**
     * Checks that each path (whose keys are {@code keys}) is valid and adds its key to {@code numbers};
     * returns the distinct paths, path {@code i} with key {@code i}.
     */
    private List<StorePath> number(Txn<DirectBuffer> txn, Collection<StorePath> paths, List<byte[]> keys,
            KeySet numbers) {
        List<StorePath> distinct = new ArrayList<>(paths.size());
        int k = 0;
        for (StorePath path : paths) {
            byte[] key = keys.get(k++);
            if (!isValid(txn, key, path.name())) {
                throw new PathNotValidException(path);
            }
            if (numbers.add(key)) {
                distinct.add(path);
            }
        }
        return distinct;
    }

    /**
     * Walks the closure of {@code roots} (whose keys are {@code rootKeys}) breadth first, giving each edge
     * between paths of the closure to {@code edges} (unless null) by the paths' numbers in the result.
     *
     * @return the closure's paths in order of arrival
     */
    private List<StorePath> walk(Txn<DirectBuffer> txn, Collection<StorePath> roots, List<byte[]> rootKeys,
            boolean referrersDirection, ReferenceOrder edges) {
        // The keys reached, in order of arrival: the walk's queue as well as its set of seen keys.
        KeySet seen = new KeySet();
        List<StorePath> result = number(txn, roots, rootKeys, seen);
        try (Cursor<DirectBuffer> cursor = (referrersDirection ? referrers : refs).openCursor(txn)) {
            for (int i = 0; i < seen.size(); i++) {
                int from = i;
                // The values of a page are read in place, in the map: only new keys are copied.
                forEachValue(cursor, seen.array(), KeySet.offset(i), (page, offset) -> {
                    int before = seen.size();
                    int to = seen.addIndex(page, offset);
                    if (to == before) {
                        result.add(validPath(txn, seen.key(to), seen.key(from)));
                    }
                    if (edges != null) {
                        edges.refersTo(referrersDirection ? to : from, referrersDirection ? from : to);
                    }
                });
            }
        }
        return result;
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
     * Reads the whole database in one read transaction and reports to {@code audit} every valid item and
     * every inconsistency: a record that cannot be decoded, an edge of {@code refs} from or to a path that
     * is not valid, an edge of {@code refs} or {@code referrers} without its mirror in the other, a deriver
     * that is not valid. It streams (records and edges are read one at a time, nothing is gathered) and
     * never throws for what it finds: a store verifier reports a damaged database instead of stopping at
     * the first dangling edge. Nothing is written.
     *
     * @param audit receives the items and problems, from the calling thread, in the database's key order
     */
    public void audit(DatabaseAudit audit) {
        Objects.requireNonNull(audit, "audit");
        read(txn -> {
            auditItems(txn, audit);
            auditEdges(txn, refs, referrers, false, audit);
            auditEdges(txn, referrers, refs, true, audit);
            return null;
        });
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
     * @throws UncheckedIOException naming the database, if the disk fails under it (full, for one); nothing
     *     of the batch is registered
     */
    public void register(Collection<PathInfo> batch, Map<StorePath, Map<String, StorePath>> derivationOutputs) {
        Batch items = Registration.prepare(this, batch, derivationOutputs);
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

    private void registerIn(Txn<DirectBuffer> txn, Batch batch) {
        List<Registration> items = batch.items;
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
            for (int k = 0; k < item.refIndex.length; k++) {
                if (item.refIndex[k] < 0 && !isValid(txn, item.refKeys, k * Keys.SIZE, item.references[k].name())) {
                    throw new MissingReferenceException(item.info.path(), item.references[k]);
                }
            }
        }
        for (Registration item : updated) {
            try (Cursor<DirectBuffer> cursor = refs.openCursor(txn)) {
                forEachValue(cursor, item.key, oldRef -> referrers.delete(txn, lmdbKey(oldRef), lmdbVal(item.key)));
            }
            refs.delete(txn, lmdbKey(item.key));
        }
        // Keys in order (the batch is sorted), so that consecutive puts land on the same or neighbouring pages,
        // and each path's references in one call.
        try (Cursor<DirectBuffer> cursor = refs.openCursor(txn)) {
            for (Registration item : items) {
                info.put(txn, lmdbKey(item.key), lmdbVal(item.record));
                putAll(cursor, item.key, 0, item.refKeys, item.refIndex.length);
            }
        }
        putReferrers(txn, batch);
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

    /**
     * Records the batch's edges in {@code referrers}: grouped by reference (a counting sort, as the items
     * come sorted their referrers do too), the references in key order, each group in one call. A reference
     * is numbered as its item in the batch, or else after the batch's items in {@code batch.keys}.
     */
    private void putReferrers(Txn<DirectBuffer> txn, Batch batch) {
        List<Registration> items = batch.items;
        KeySet targets = batch.keys;
        int edges = 0;
        for (Registration item : items) {
            edges += item.refIndex.length;
        }
        int[] target = new int[edges];
        int e = 0;
        for (Registration item : items) {
            for (int k = 0; k < item.refIndex.length; k++) {
                int known = item.refIndex[k];
                target[e++] = known >= 0 ? known : targets.addIndex(item.refKeys, k * Keys.SIZE);
            }
        }
        int n = targets.size();
        int[] start = new int[n + 1];
        for (int t : target) {
            start[t + 1]++;
        }
        for (int t = 0; t < n; t++) {
            start[t + 1] += start[t];
        }
        int[] fill = Arrays.copyOf(start, n);
        int[] referrer = new int[edges];
        e = 0;
        for (int i = 0; i < items.size(); i++) {
            for (int k = 0; k < items.get(i).refIndex.length; k++) {
                referrer[fill[target[e++]]++] = i;
            }
        }
        byte[] keys = targets.array();
        Integer[] byKey = new Integer[n];
        for (int t = 0; t < n; t++) {
            byKey[t] = t;
        }
        if (n > items.size()) { // the batch's own keys are in order already; the others are not
            Arrays.sort(byKey, (a, b) -> Arrays.compareUnsigned(keys, KeySet.offset(a),
                KeySet.offset(a) + Keys.SIZE, keys, KeySet.offset(b), KeySet.offset(b) + Keys.SIZE));
        }
        byte[] values = new byte[Keys.SIZE * 64];
        try (Cursor<DirectBuffer> cursor = referrers.openCursor(txn)) {
            for (int t : byKey) {
                int count = start[t + 1] - start[t];
                if (values.length < count * Keys.SIZE) {
                    values = new byte[count * Keys.SIZE];
                }
                for (int j = 0; j < count; j++) {
                    // Item i's key is key i of the set: read from one array, not through the items.
                    System.arraycopy(keys, KeySet.offset(referrer[start[t] + j]), values, j * Keys.SIZE, Keys.SIZE);
                }
                putAll(cursor, keys, KeySet.offset(t), values, count);
            }
        }
    }

    /**
     * Adds {@code count} 20-byte values, packed in {@code values}, under the key at {@code keyOffset} of
     * {@code keys} of a DUPFIXED sub-database: in one call (MDB_MULTIPLE) when the key has no value yet,
     * else one by one. LMDB's MDB_MULTIPLE silently stops after the first value when the key holds exactly
     * one value and it equals that first value, so it is used only on keys it cannot meet.
     */
    private static void putAll(Cursor<DirectBuffer> cursor, byte[] keys, int keyOffset, byte[] values, int count) {
        if (count == 0) {
            return;
        }
        Scratch scratch = Scratch.get();
        if (!cursor.get(scratch.key(keys, keyOffset, Keys.SIZE), GetOp.MDB_SET)) {
            cursor.putMultiple(scratch.key(keys, keyOffset, Keys.SIZE), scratch.val(values, 0, count * Keys.SIZE),
                count, PutFlags.MDB_MULTIPLE);
            return;
        }
        for (int j = 0; j < count; j++) {
            cursor.put(scratch.key(keys, keyOffset, Keys.SIZE), scratch.val(values, j * Keys.SIZE, Keys.SIZE));
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

    // ---- the audit ----

    private void auditItems(Txn<DirectBuffer> txn, DatabaseAudit audit) {
        try (Cursor<DirectBuffer> cursor = info.openCursor(txn)) {
            for (boolean more = cursor.first(); more; more = cursor.next()) {
                byte[] key = Scratch.bytes(cursor.key());
                if (key.length != Keys.SIZE) {
                    audit.problem(new DatabaseAudit.Problem(DatabaseAudit.Kind.CORRUPT_RECORD, hex(key),
                        "a key of " + Keys.SIZE + " bytes", "a key of " + key.length + " bytes"));
                    continue;
                }
                PathInfo item;
                try {
                    item = InfoRecord.decode(storeDir, key, Scratch.bytes(cursor.val()), Collections.emptySortedSet());
                } catch (CorruptRecordException e) {
                    audit.problem(new DatabaseAudit.Problem(DatabaseAudit.Kind.CORRUPT_RECORD, Keys.hashPart(key),
                        "a record that decodes", e.getMessage()));
                    continue;
                }
                StorePath deriver = item.deriver();
                if (deriver != null && !auditValid(txn, Keys.of(deriver), deriver.name())) {
                    audit.problem(new DatabaseAudit.Problem(DatabaseAudit.Kind.INVALID_DERIVER, item.path().toString(),
                        "a valid deriver", "deriver " + deriver + " is not valid"));
                }
                audit.item(item);
            }
        }
    }

    /**
     * Checks each edge of {@code edges} (refs: item to reference; referrers: reference to referrer): that
     * both ends are valid (for refs; a referrers edge with its mirror is then checked too) and that
     * {@code mirror} holds it reversed.
     */
    private void auditEdges(Txn<DirectBuffer> txn, Dbi<DirectBuffer> edges, Dbi<DirectBuffer> mirror,
            boolean referrersSide, DatabaseAudit audit) {
        try (Cursor<DirectBuffer> cursor = edges.openCursor(txn); Cursor<DirectBuffer> other = mirror.openCursor(txn)) {
            for (boolean more = cursor.first(); more; more = cursor.next()) {
                byte[] key = Scratch.bytes(cursor.key());
                byte[] value = Scratch.bytes(cursor.val());
                if (key.length != Keys.SIZE || value.length != Keys.SIZE) {
                    audit.problem(new DatabaseAudit.Problem(DatabaseAudit.Kind.CORRUPT_RECORD, hex(key),
                        "edges of " + Keys.SIZE + "-byte hash parts", "an edge " + hex(key) + " -> " + hex(value)));
                    continue;
                }
                byte[] from = referrersSide ? value : key;
                byte[] to = referrersSide ? key : value;
                if (!referrersSide) {
                    if (info.get(txn, lmdbKey(from)) == null) {
                        audit.problem(new DatabaseAudit.Problem(DatabaseAudit.Kind.DANGLING_REFERENCE, Keys.hashPart(from),
                            "references only of valid paths", "hash part " + Keys.hashPart(from)
                                + " is not valid but has the reference " + describe(txn, to)));
                    } else if (info.get(txn, lmdbKey(to)) == null) {
                        audit.problem(new DatabaseAudit.Problem(DatabaseAudit.Kind.DANGLING_REFERENCE, describe(txn, from),
                            "every reference valid", "reference hash part " + Keys.hashPart(to) + " is not valid"));
                    }
                }
                if (!other.get(lmdbKey(referrersSide ? from : to), lmdbVal(referrersSide ? to : from), SeekOp.MDB_GET_BOTH)) {
                    if (referrersSide) {
                        audit.problem(new DatabaseAudit.Problem(DatabaseAudit.Kind.STRAY_REFERRER, describe(txn, to),
                            "each referrer to be a reference in reverse", "referrer " + describe(txn, from)
                                + " does not have it among its references"));
                    } else {
                        audit.problem(new DatabaseAudit.Problem(DatabaseAudit.Kind.MISSING_REFERRER, describe(txn, from),
                            "each reference mirrored among the referrers", "reference " + describe(txn, to)
                                + " does not list it among its referrers"));
                    }
                }
            }
        }
    }

    /** Whether a path is valid, where a record that cannot be read counts as not valid. */
    private boolean auditValid(Txn<DirectBuffer> txn, byte[] key, String name) {
        try {
            return isValid(txn, key, name);
        } catch (CorruptRecordException e) {
            return false;
        }
    }

    /** The full path of a valid key, or its hash part and why not. */
    private String describe(Txn<DirectBuffer> txn, byte[] key) {
        DirectBuffer record = info.get(txn, lmdbKey(key));
        if (record == null) {
            return "hash part " + Keys.hashPart(key) + " (not valid)";
        }
        try {
            return storeDir + "/" + Keys.hashPart(key) + "-" + InfoRecord.name(key, record);
        } catch (CorruptRecordException e) {
            return "hash part " + Keys.hashPart(key) + " (corrupt record)";
        }
    }

    private static String hex(byte[] bytes) {
        StringBuilder text = new StringBuilder(bytes.length * 2);
        for (byte b : bytes) {
            text.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
        }
        return text.toString();
    }

    // ---- reading ----

    private boolean isValid(Txn<DirectBuffer> txn, byte[] key, String name) {
        DirectBuffer record = info.get(txn, lmdbKey(key));
        return record != null && InfoRecord.hasName(key, record, name);
    }

    private boolean isValid(Txn<DirectBuffer> txn, byte[] keys, int offset, String name) {
        return isValid(txn, Arrays.copyOfRange(keys, offset, offset + Keys.SIZE), name);
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

    /** Receives one 20-byte value in place: at {@code offset} of {@code page}, valid during the call. */
    private interface ValueInPlace {
        void accept(DirectBuffer page, int offset);
    }

    /**
     * Visits the 20-byte values under the key at {@code keyOffset} of {@code keys} in place, a page at a
     * time (MDB_GET_MULTIPLE), without copying them.
     */
    private static void forEachValue(Cursor<DirectBuffer> cursor, byte[] keys, int keyOffset, ValueInPlace action) {
        if (!cursor.get(Scratch.get().key(keys, keyOffset, Keys.SIZE), GetOp.MDB_SET)) {
            return;
        }
        for (boolean more = cursor.seek(SeekOp.MDB_GET_MULTIPLE); more;
                more = cursor.seek(SeekOp.MDB_NEXT_MULTIPLE)) {
            DirectBuffer page = cursor.val();
            if (page.capacity() % Keys.SIZE != 0) {
                checkRun(Arrays.copyOfRange(keys, keyOffset, keyOffset + Keys.SIZE), page.capacity());
            }
            for (int offset = 0; offset < page.capacity(); offset += Keys.SIZE) {
                action.accept(page, offset);
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
                } catch (LmdbNativeException e) {
                    // The disk under the map failed: ENOSPC, or EIO, which LMDB reports for a short write on a
                    // full disk. The transaction is aborted and the last commit stays the database's state.
                    throw new UncheckedIOException(new IOException("database " + directory + ": the write"
                        + " transaction could not be committed and nothing of it was written: " + e.getMessage(), e));
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
            long before = env.info().mapSize;
            env.setMapSize(factor == 0 ? 0 : before * factor);
            Log.LOG.debug("database map grown from {} to {} bytes{}", before, env.info().mapSize,
                factor == 0 ? " by another process" : "");
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

    /** The keys of paths of this store dir, in their order. */
    private List<byte[]> keys(Collection<StorePath> paths) {
        List<byte[]> keys = new ArrayList<>(paths.size());
        for (StorePath path : paths) {
            keys.add(key(path));
        }
        return keys;
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
        int n = items.size();
        byte[] state = new byte[n]; // 0 not seen, 1 on the current walk, 2 left
        int[] walk = new int[n];
        int[] next = new int[n];
        for (int root = 0; root < n; root++) {
            if (state[root] != 0) {
                continue;
            }
            int depth = 0;
            walk[0] = root;
            next[0] = 0;
            state[root] = 1;
            while (depth >= 0) {
                int current = walk[depth];
                int[] references = items.get(current).refIndex;
                if (next[depth] == references.length) {
                    state[current] = 2;
                    depth--;
                    continue;
                }
                int reference = references[next[depth]++];
                if (reference < 0 || reference == current || state[reference] == 2) {
                    continue;
                }
                if (state[reference] == 1) {
                    throw new StoreException("cannot register the batch: " + items.get(current).info.path()
                        + " refers to " + items.get(reference).info.path() + ", which refers back to it (a reference cycle)");
                }
                state[reference] = 1;
                depth++;
                walk[depth] = reference;
                next[depth] = 0;
            }
        }
    }

    /**
     * A batch checked and encoded before its transaction starts: the items sorted by key, and their keys in
     * that order (item {@code i} has key {@code i}); keys of references outside the batch are added after
     * them while the referrers are recorded (adding one again finds it, so a retried transaction is fine).
     */
    private static final class Batch {
        final List<Registration> items;
        final KeySet keys;

        Batch(List<Registration> items, KeySet keys) {
            this.items = items;
            this.keys = keys;
        }
    }

    /** One path of a batch, checked and encoded before the transaction starts. */
    private static final class Registration {
        final PathInfo info;
        final byte[] key;
        final byte[] record;
        /** {@code info.references()}, in order. */
        final StorePath[] references;
        /** The keys of the references, in that order, end to end. */
        final byte[] refKeys;
        /** For each reference, the index of the batch's item that is it, or -1 if the batch has none. */
        final int[] refIndex;
        final Map<String, StorePath> outputs;

        private Registration(PathInfo info, byte[] key, Map<String, StorePath> outputs) {
            this.info = info;
            this.key = key;
            this.record = InfoRecord.encode(info);
            this.references = info.references().toArray(new StorePath[0]);
            this.refKeys = new byte[references.length * Keys.SIZE];
            this.refIndex = new int[references.length];
            for (int i = 0; i < references.length; i++) {
                System.arraycopy(Keys.of(references[i]), 0, refKeys, i * Keys.SIZE, Keys.SIZE);
            }
            this.outputs = outputs;
        }

        /** The batch's items, sorted by key, each reference numbered by its item in the batch. */
        static Batch prepare(StoreDatabase db, Collection<PathInfo> batch,
                Map<StorePath, Map<String, StorePath>> derivationOutputs) {
            Map<StorePath, Map<String, StorePath>> outputs = new HashMap<>(derivationOutputs);
            List<Registration> items = new ArrayList<>(batch.size());
            for (PathInfo info : batch) {
                byte[] key = db.key(info.path());
                Map<String, StorePath> drvOutputs = outputs.isEmpty() ? null : outputs.remove(info.path());
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
            items.sort((a, b) -> Keys.compare(a.key, b.key));
            KeySet keys = new KeySet();
            for (Registration item : items) {
                if (!keys.add(item.key)) {
                    throw new IllegalArgumentException("the batch holds hash part " + item.info.path().hashPart()
                        + " twice (" + item.info.path() + ")");
                }
            }
            String[] names = new String[items.size()]; // read in order here, not by hopping through the items
            for (int i = 0; i < names.length; i++) {
                names[i] = items.get(i).info.path().name();
            }
            for (Registration item : items) {
                for (int k = 0; k < item.references.length; k++) {
                    int at = keys.indexOf(item.refKeys, k * Keys.SIZE);
                    item.refIndex[k] = at >= 0 && names[at].equals(item.references[k].name()) ? at : -1;
                }
            }
            checkAcyclic(items);
            return new Batch(items, keys);
        }
    }
}
