package org.granary.store;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.granary.nar.FileTrees;
import org.granary.nar.NarDigest;
import org.granary.nar.NarDumper;
import org.granary.nar.NarFormatException;
import org.granary.nar.NarRestorer;
import org.granary.nar.NarWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Guix store on this machine: its files under the physical store dir and its reference database under
 * the state dir, with the operations of the daemon's local store: queries, adding text and files, adding
 * and importing NARs, exporting, registering and invalidating.
 *
 * <p><b>Adding.</b> Every item is added by the same protocol (DESIGN.md, "Adding an item"): a temporary
 * GC root and the per-path lock ({@code <path>.lock}) are taken; a path already valid is never written
 * again; an invalid leftover at the target is deleted without following symlinks; the item is written
 * under a temporary name in the store dir ({@code .granary-add-…}) with its NAR hashed in the same pass,
 * made canonical, its files fsynced, renamed into place, the store dir fsynced, and only then registered
 * in one LMDB transaction. When an item's store path depends on its contents (a source, a fixed-output
 * item, an imported item) the temporary copy is written first and the lock taken once the path is known.
 *
 * <p><b>Durability.</b> When an adding method returns, the item's files and its name in the store dir are
 * on stable storage and its registration is committed: a crash afterwards keeps it valid and intact. A
 * crash before leaves at most an unregistered temporary or leftover entry in the store dir, which is not
 * valid and is replaced by the next addition of that path.
 *
 * <p><b>Errors.</b> A failed addition leaves nothing at the target and nothing in the database: on a
 * missing reference ({@link MissingReferenceException}), a NAR that is not the one announced
 * ({@link NarHashMismatchException}), malformed input ({@link org.granary.nar.NarFormatException},
 * {@link ExportFormatException}) or a file-system error.
 *
 * <p><b>Concurrency.</b> Thread-safe: share one instance between threads. Additions of the same path by
 * several threads, or by this and other processes (Guix daemons included, through the same POSIX locks),
 * write it once. At most one {@code LocalStore} per state dir may be open in a JVM at a time (the
 * database refuses a second). Close it once no operation is running.
 */
public final class LocalStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalStore.class);
    private static final String TEMP_PREFIX = ".granary-add-";
    private static final int PIPE_SIZE = 1 << 17;
    private static final int COPY_BUFFER = 1 << 16;

    private final StoreConfig config;
    private final StoreDir storeDir;
    private final Path physicalStoreDir;
    private final StorePaths paths;
    private final StoreDatabase database;
    private final PathLocks locks;
    private final TempRoots tempRoots;
    private final Canonicaliser canonicaliser;
    private final AtomicBoolean closed = new AtomicBoolean();

    private LocalStore(StoreConfig config, StoreDatabase database, PathLocks locks, TempRoots tempRoots,
            Canonicaliser canonicaliser) {
        this.config = config;
        this.storeDir = config.storeDir();
        this.physicalStoreDir = config.physicalStoreDir();
        this.paths = new StorePaths(storeDir);
        this.database = database;
        this.locks = locks;
        this.tempRoots = tempRoots;
        this.canonicaliser = canonicaliser;
    }

    /**
     * Opens the store described by {@code config}, creating what is missing of its layout: the store dir,
     * the state dir with {@code db/}, {@code temproots/}, {@code gcroots/auto} and {@code db/reserved}
     * ({@link ReservedSpace#ensure()}), and the database in {@code db/lmdb}. Deletes the temporary
     * entries that additions by processes no longer running left in the store dir. Opens this process's
     * temporary-roots file, kept until {@link #close()}.
     *
     * @param config where the store is
     * @return the open store; close it
     * @throws IncompatibleDatabaseException if the database belongs to another store dir or schema
     * @throws IllegalStateException if this process already has the store's database open
     * @throws IOException if the layout cannot be created or the reserved space written
     */
    public static LocalStore open(StoreConfig config) throws IOException {
        Objects.requireNonNull(config, "config");
        Path state = config.physicalStateDir();
        Files.createDirectories(config.physicalStoreDir());
        Files.createDirectories(state.resolve("db"));
        Files.createDirectories(state.resolve("temproots"));
        Files.createDirectories(state.resolve("gcroots").resolve("auto"));
        new ReservedSpace(state, config.reservedSpace()).ensure();
        removeStaleTemporaries(config.physicalStoreDir());
        Canonicaliser canonicaliser = Canonicaliser.forThisProcess();
        PathLocks locks = new PathLocks(config.storeDir());
        StoreDatabase database = StoreDatabase.open(config.databaseDir(), config.storeDir().logical());
        try {
            return new LocalStore(config, database, locks, TempRoots.open(state), canonicaliser);
        } catch (IOException | RuntimeException | Error e) {
            database.close();
            throw e;
        }
    }

    /**
     * Deletes the temporary entries of additions by processes that are no longer running (a crash or a
     * kill between writing and renaming): {@code .granary-add-<pid>-…} in the store dir, and the
     * restorer's own temporaries of those ({@code ..granary-add-<pid>-….granary-tmp-…}). Entries of live
     * processes, this one included, are left alone. Processes are those of this PID namespace: stores
     * shared between PID namespaces must not be written from both.
     */
    private static void removeStaleTemporaries(Path storeDir) throws IOException {
        long self = ProcessHandle.current().pid();
        List<Path> stale = new ArrayList<>();
        try (var entries = Files.newDirectoryStream(storeDir, "." + "*")) {
            for (Path entry : entries) {
                long pid = temporaryOwner(entry.getFileName().toString());
                if (pid > 0 && pid != self && ProcessHandle.of(pid).isEmpty()) {
                    stale.add(entry);
                }
            }
        }
        for (Path entry : stale) {
            FileTrees.deleteTree(entry);
            LOG.info("removed {}, left by an addition of a process that is no longer running", entry);
        }
    }

    /**
     * Says whether an entry of the store dir is the temporary of an addition by a running process (this
     * one included): such an entry is not garbage, although no valid path has its name.
     *
     * @param name the entry's file name
     * @return whether it is a live addition's temporary
     */
    public static boolean isActiveTemporary(String name) {
        long pid = temporaryOwner(name);
        return pid > 0 && (pid == ProcessHandle.current().pid() || ProcessHandle.of(pid).isPresent());
    }

    /** The pid in the name of an addition's temporary entry, or -1 if the name is not one. */
    static long temporaryOwner(String name) {
        String rest;
        if (name.startsWith(TEMP_PREFIX)) {
            rest = name.substring(TEMP_PREFIX.length());
        } else if (name.startsWith("." + TEMP_PREFIX)) {
            rest = name.substring(TEMP_PREFIX.length() + 1);
        } else {
            return -1;
        }
        int dash = rest.indexOf('-');
        if (dash <= 0 || dash > 18) {
            return -1;
        }
        for (int i = 0; i < dash; i++) {
            if (rest.charAt(i) < '0' || rest.charAt(i) > '9') {
                return -1;
            }
        }
        return Long.parseLong(rest.substring(0, dash));
    }

    /**
     * Returns the configuration the store was opened with.
     *
     * @return the configuration
     */
    public StoreConfig config() {
        return config;
    }

    // ---------------------------------------------------------------- queries

    /**
     * Says whether a path is valid (registered, with its name).
     *
     * @param path a path of this store
     * @return whether it is valid
     * @throws IllegalArgumentException naming the path and both store dirs, if it is of another store dir
     */
    public boolean isValidPath(StorePath path) {
        return database.isValid(own(path));
    }

    /**
     * Returns what the database knows of a path.
     *
     * @param path a path of this store
     * @return its information with its references, or empty if it is not valid
     * @throws IllegalArgumentException if it is of another store dir
     */
    public Optional<PathInfo> queryPathInfo(StorePath path) {
        return database.pathInfo(own(path));
    }

    /**
     * Returns the references of a valid path.
     *
     * @param path a valid path
     * @return its references, sorted
     * @throws PathNotValidException if it is not valid
     * @throws IllegalArgumentException if it is of another store dir
     */
    public SortedSet<StorePath> queryReferences(StorePath path) {
        return database.references(own(path));
    }

    /**
     * Returns the valid paths that refer to a valid path.
     *
     * @param path a valid path
     * @return its referrers, sorted
     * @throws PathNotValidException if it is not valid
     * @throws IllegalArgumentException if it is of another store dir
     */
    public SortedSet<StorePath> queryReferrers(StorePath path) {
        return database.referrers(own(path));
    }

    /**
     * Returns the closure of valid paths under references, the paths themselves included ({@code guix gc
     * --requisites}), read in one consistent snapshot.
     *
     * @param roots valid paths
     * @return the closure, sorted
     * @throws PathNotValidException if a root is not valid
     * @throws IllegalArgumentException if a root is of another store dir
     */
    public SortedSet<StorePath> queryRequisites(Collection<StorePath> roots) {
        roots.forEach(this::own);
        return database.closure(roots, false);
    }

    /**
     * Returns the closure of valid paths under referrers, the paths themselves included.
     *
     * @param roots valid paths
     * @return every valid path that reaches one of them, sorted
     * @throws PathNotValidException if a root is not valid
     * @throws IllegalArgumentException if a root is of another store dir
     */
    public SortedSet<StorePath> queryReferrersClosure(Collection<StorePath> roots) {
        roots.forEach(this::own);
        return database.closure(roots, true);
    }

    /**
     * Returns the closure of valid paths under references ({@code referrers} false) or referrers, in the
     * order {@code nix-store -q --requisites} and {@code --referrers-closure} print it: every path after the
     * paths of the closure it refers to, otherwise sorted; read in one consistent snapshot.
     *
     * @param roots valid paths
     * @param referrers false for the closure under references, true for the closure under referrers
     * @return the closure, references first
     * @throws PathNotValidException if a root is not valid
     * @throws IllegalArgumentException if a root is of another store dir
     */
    public List<StorePath> queryClosureReferencesFirst(Collection<StorePath> roots, boolean referrers) {
        roots.forEach(this::own);
        return database.closureReferencesFirst(roots, referrers);
    }

    /**
     * Orders valid paths as {@code nix-store -q} prints a set of paths: every path after the paths of the
     * set it refers to, otherwise sorted.
     *
     * @param paths valid paths
     * @return the same paths (each once), references first
     * @throws PathNotValidException if a path is not valid
     * @throws IllegalArgumentException if a path is of another store dir
     */
    public List<StorePath> sortReferencesFirst(Collection<StorePath> paths) {
        paths.forEach(this::own);
        return database.referencesFirst(paths);
    }

    /**
     * Finds the valid path with a hash part.
     *
     * @param hashPart 32 nix-base32 characters
     * @return the valid path, or empty
     * @throws InvalidStorePathException if {@code hashPart} is not 32 nix-base32 characters
     */
    public Optional<StorePath> queryPathFromHashPart(String hashPart) {
        return database.pathFromHashPart(hashPart);
    }

    // ---------------------------------------------------------------- adding

    /**
     * Adds a text file, as Guix's {@code add-text-to-store}: a regular, non-executable file holding the
     * UTF-8 bytes of {@code text}, at {@link StorePaths#text} of their SHA-256. Durable on return.
     *
     * @param name the item's name
     * @param text its contents
     * @param references the valid paths it refers to
     * @return the item's path, valid; an item already valid is not written again
     * @throws MissingReferenceException if a reference is not valid; nothing is written
     * @throws InvalidStorePathException if {@code name} breaks Guix's rules
     * @throws IllegalArgumentException if a reference is of another store dir
     * @throws IOException if the item cannot be written
     */
    public StorePath addTextToStore(String name, String text, Collection<StorePath> references) throws IOException {
        checkOpen();
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        Hash contents = Hash.of(HashAlgorithm.SHA256, HashAlgorithm.SHA256.newDigest().digest(bytes));
        StorePath path = paths.text(name, contents, references);
        return addKnown(path, references, temp -> writeFlat(temp, new ByteArrayInputStream(bytes),
            bytes.length, null)).path();
    }

    /**
     * Adds a file or tree, as Guix's {@code add-to-store}. With {@code recursive} and SHA-256 the item is
     * a source: the tree at {@code source} (a directory, regular file or symlink, copied exactly as its
     * NAR) at {@link StorePaths#source} of its NAR hash, with {@code references}. Otherwise it is a
     * fixed-output item at {@link StorePaths#fixedOutput}: the NAR of the tree hashed with
     * {@code algorithm} ({@code recursive}), or the contents of the regular file {@code source} (flat,
     * stored as a non-executable file); it may have no references. The source is read once: copied
     * under a temporary name while its NAR is hashed. Durable on return.
     *
     * @param name the item's name
     * @param source the file or tree to add; symlinks in it are copied as symlinks, never followed
     * @param recursive whether to add the whole tree (NAR) rather than a flat file
     * @param algorithm the hash that names the item
     * @param references the valid paths it refers to; empty unless recursive SHA-256
     * @return the item's path, valid; an item already valid is not written again
     * @throws IllegalArgumentException if a fixed-output item is given references, a flat source is not a
     *     regular file, or a reference is of another store dir
     * @throws MissingReferenceException if a reference is not valid; nothing is left
     * @throws InvalidStorePathException if {@code name} breaks Guix's rules
     * @throws org.granary.nar.NarDumpException if the tree holds a file that no NAR can hold
     * @throws IOException if the source cannot be read or the item written
     */
    public StorePath addToStore(String name, Path source, boolean recursive, HashAlgorithm algorithm,
            Collection<StorePath> references) throws IOException {
        checkOpen();
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(algorithm, "algorithm");
        boolean isSource = recursive && algorithm == HashAlgorithm.SHA256;
        if (!isSource && !references.isEmpty()) {
            throw new IllegalArgumentException("a fixed-output item (" + (recursive ? "recursive " : "flat ")
                + algorithm + ") cannot have references, but " + name + " was given " + references);
        }
        if (!recursive && !Files.isRegularFile(source, NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException("cannot add " + source + " flat: it is not a regular file");
        }
        String nameProblem = StorePath.nameProblem(name);
        if (nameProblem != null) {
            throw new InvalidStorePathException("invalid store path name \"" + name + "\": " + nameProblem);
        }
        references.forEach(this::own);
        Path temp = newTempName();
        try {
            Staged staged;
            Hash named;
            if (recursive) {
                staged = copyTree(source, temp, algorithm);
                named = staged.other;
            } else {
                try (InputStream in = Files.newInputStream(source, NOFOLLOW_LINKS)) {
                    staged = writeFlat(temp, in, Files.size(source), algorithm);
                }
                named = staged.other;
            }
            StorePath path = isSource ? paths.source(name, staged.narHash, references, false)
                : paths.fixedOutput(name, recursive, named);
            return commitStaged(PathInfo.of(path, staged.narHash, staged.narSize, references, now()), temp,
                staged.canonical).path();
        } finally {
            FileTrees.deleteTree(temp);
        }
    }

    /**
     * Adds an item from its NAR, as the daemon adds a substitute: the NAR is restored under a temporary
     * name while it is hashed, and its SHA-256 and size (unless {@code expected.narSize()} is 0) are
     * checked against {@code expected} before the item is renamed into place and registered with the
     * rest of {@code expected} and the current time. Durable on return. If the path is already valid the
     * stream is not read.
     *
     * @param nar the NAR, read exactly to its end and not closed; pass a buffered stream
     * @param expected the item's path, NAR hash and size, references, deriver, signatures and content address
     * @return the registered information (the existing one if the path was already valid)
     * @throws NarHashMismatchException naming the path, the expected and the received hash and size;
     *     nothing is left
     * @throws MissingReferenceException if a reference is not valid; nothing is left
     * @throws org.granary.nar.NarFormatException if the NAR is malformed; nothing is left
     * @throws IllegalArgumentException if the path is of another store dir
     * @throws IOException if the stream fails or the item cannot be written; nothing is left
     */
    public PathInfo addFromNar(InputStream nar, PathInfo expected) throws IOException {
        checkOpen();
        Objects.requireNonNull(nar, "nar");
        StorePath path = own(expected.path());
        PathInfo info = new PathInfo(path, expected.narHash(), expected.narSize(), expected.references(),
            expected.deriver(), now(), expected.signatures(), expected.contentAddress());
        return addKnown(path, expected.references(), temp -> {
            Staged staged = restoreHashing(nar, temp, null);
            if (!staged.narHash.equals(expected.narHash())
                    || (expected.narSize() != 0 && staged.narSize != expected.narSize())) {
                throw new NarHashMismatchException(path, expected.narHash(), expected.narSize(), staged.narHash,
                    staged.narSize);
            }
            return staged;
        }, info);
    }

    /**
     * Imports an export stream ({@code nix-store --export}, {@code guix archive --export}), as
     * {@code nix-store --import}: each item is restored under a temporary name while it is hashed, then
     * added by the adding protocol and registered in its own transaction, in the order of the stream, so
     * each item's references must be valid already or come earlier in the stream (exports list
     * references first). On an error the items before it stay valid and the failing one leaves nothing.
     * Items already valid are read and discarded. Signatures in the stream are not registered.
     *
     * @param in the export, read exactly to its end marker and not closed; pass a buffered stream
     * @return the paths of the export's items, in the stream's order
     * @throws ExportFormatException if the stream is malformed (with its offset)
     * @throws org.granary.nar.NarFormatException if an item's NAR is malformed (with its offset)
     * @throws MissingReferenceException if an item refers to a path neither valid nor imported before it
     * @throws IOException if reading or writing fails
     */
    public List<StorePath> importPaths(InputStream in) throws IOException {
        checkOpen();
        ExportReader reader = new ExportReader(in, storeDir);
        List<StorePath> imported = new ArrayList<>();
        while (true) {
            Path temp = newTempName();
            try {
                Optional<ExportedItem> next = reader.restoreNext(temp);
                if (next.isEmpty()) {
                    return imported;
                }
                ExportedItem item = next.get();
                PathInfo info = new PathInfo(item.path(), item.narHash(), item.narSize(),
                    new TreeSet<>(item.references()), item.deriver().orElse(null), now(),
                    Collections.emptySortedSet(), null);
                commitStaged(info, temp, false);
                imported.add(item.path());
            } finally {
                FileTrees.deleteTree(temp);
            }
        }
    }

    /**
     * Writes an export stream of valid paths, as {@code nix-store --export}: the given paths (not their
     * closure), references before their referrers and otherwise in sorted order, each with its references
     * and deriver from the database. Each item's NAR, dumped from its files, is checked against the
     * registered hash as it is written: on a mismatch the stream ends inside that item, so no reader
     * accepts it. The stream is flushed, not closed.
     *
     * @param exported valid paths of this store
     * @param out where to write the export
     * @throws PathNotValidException if a path is not valid; nothing is written
     * @throws NarHashMismatchException if an item's files no longer match its registered NAR hash
     * @throws IllegalArgumentException if a path is of another store dir
     * @throws IOException if reading the files or writing fails
     */
    public void exportPaths(Collection<StorePath> exported, OutputStream out) throws IOException {
        checkOpen();
        Map<StorePath, PathInfo> infos = new TreeMap<>();
        for (StorePath path : exported) {
            infos.put(path, database.pathInfo(own(path)).orElseThrow(() -> new PathNotValidException(path)));
        }
        for (StorePath path : infos.keySet()) {
            tempRoots.add(path);
        }
        ExportWriter writer = new ExportWriter(out);
        for (PathInfo info : referencesFirst(infos)) {
            ExportedItem written = writer.write(info.path(), storeDir.physicalPath(info.path()), info.references(),
                Optional.ofNullable(info.deriver()));
            if (!written.narHash().equals(info.narHash())
                    || (info.narSize() != 0 && written.narSize() != info.narSize())) {
                throw new NarHashMismatchException(info.path(), info.narHash(), info.narSize(), written.narHash(),
                    written.narSize());
            }
        }
        writer.finish();
    }

    // ---------------------------------------------------------------- registration

    /**
     * Registers paths whose files the caller has put in place, in one transaction; see
     * {@link StoreDatabase#register(Collection)}. The files are not checked. Committed (durable) on return.
     *
     * @param infos the paths and their information
     * @throws MissingReferenceException if a reference is neither valid nor in the batch; nothing registered
     * @throws IllegalArgumentException if a path is of another store dir or appears twice
     */
    public void registerValidPaths(Collection<PathInfo> infos) {
        checkOpen();
        infos.forEach(info -> own(info.path()));
        database.register(infos);
    }

    /**
     * Registers paths whose files the caller has put in place, and the outputs of derivations among them,
     * in one transaction; see {@link StoreDatabase#register(Collection, Map)}. The files are not checked.
     * Committed (durable) on return.
     *
     * @param infos the paths and their information
     * @param derivationOutputs for derivations among {@code infos}: output id to output path
     * @throws MissingReferenceException if a reference is neither valid nor in the batch; nothing registered
     * @throws IllegalArgumentException if a path is of another store dir or appears twice, or a derivation
     *     of {@code derivationOutputs} is not among {@code infos}
     */
    public void registerValidPaths(Collection<PathInfo> infos, Map<StorePath, Map<String, StorePath>> derivationOutputs) {
        checkOpen();
        infos.forEach(info -> own(info.path()));
        database.register(infos, derivationOutputs);
    }

    /**
     * Makes paths invalid in one transaction, without touching their files; see
     * {@link StoreDatabase#invalidate}. Committed (durable) on return.
     *
     * @param invalidated the paths
     * @return how many were valid
     * @throws StillReferencedException if a valid path outside the set refers to one of it; nothing changes
     * @throws IllegalArgumentException if a path is of another store dir
     */
    public int invalidatePaths(Collection<StorePath> invalidated) {
        checkOpen();
        invalidated.forEach(this::own);
        return database.invalidate(invalidated);
    }

    /**
     * Makes {@code path} a temporary GC root of this process until this store is closed, as the daemon's
     * {@code addTempRoot}: no collector (Granary's or the Guix daemon's) deletes it meanwhile, valid or
     * not. To read a valid item safely, add the root first and check validity after, as a collection that
     * ran between the two would otherwise go unnoticed.
     *
     * @param path a path of this store
     * @throws IllegalArgumentException if the path is of another store dir
     * @throws IOException if the temporary-roots file cannot be written
     */
    public void addTempRoot(StorePath path) throws IOException {
        checkOpen();
        tempRoots.add(own(path));
    }

    /**
     * Returns the store's reference database, for the operations on the database as a whole (such as
     * {@link StoreDatabase#graph()} for a garbage collector). It is closed with this store.
     *
     * @return the database
     */
    public StoreDatabase database() {
        checkOpen();
        return database;
    }

    /**
     * Closes the database and this store's temporary roots (which stop protecting anything). Closing
     * twice does nothing.
     *
     * @throws IOException if the temporary-roots file cannot be removed
     */
    @Override
    public void close() throws IOException {
        if (closed.compareAndSet(false, true)) {
            try {
                tempRoots.close();
            } finally {
                database.close();
            }
        }
    }

    @Override
    public String toString() {
        return "LocalStore(" + storeDir.logical() + " at " + physicalStoreDir + ", state "
            + config.physicalStateDir() + ")";
    }

    // ---------------------------------------------------------------- the protocol

    /** Writes an item under a temporary name and reports its NAR hash and size. */
    @FunctionalInterface
    private interface Writer {
        Staged write(Path temp) throws IOException;
    }

    /**
     * What a write produced: the NAR's SHA-256 and size, the hash naming the item if another, and whether
     * the write left modes and mtimes canonical already (owners aside).
     */
    private record Staged(Hash narHash, long narSize, Hash other, boolean canonical) {
    }

    /** The protocol for a path known in advance; {@code info} null means "registered as written". */
    private PathInfo addKnown(StorePath path, Collection<StorePath> references, Writer writer) throws IOException {
        return addKnown(path, references, writer, null);
    }

    private PathInfo addKnown(StorePath path, Collection<StorePath> references, Writer writer, PathInfo info)
            throws IOException {
        tempRoots.add(path);
        Optional<PathInfo> valid = database.pathInfo(path);
        if (valid.isPresent()) {
            return valid.get();
        }
        checkReferences(path, references);
        try (PathLocks.Held held = locks.lock(List.of(path))) {
            valid = database.pathInfo(path);
            if (valid.isPresent()) {
                held.deleteLockFilesOnClose();
                return valid.get();
            }
            Path temp = newTempName();
            try {
                Staged staged = writer.write(temp);
                PathInfo registered = info != null ? info
                    : PathInfo.of(path, staged.narHash, staged.narSize, references, now());
                install(registered, temp, staged.canonical);
                held.deleteLockFilesOnClose();
                return registered;
            } finally {
                FileTrees.deleteTree(temp);
            }
        }
    }

    /** The protocol for an item already written at {@code temp}, whose path its contents decided. */
    private PathInfo commitStaged(PathInfo info, Path temp, boolean canonical) throws IOException {
        StorePath path = own(info.path());
        tempRoots.add(path);
        Optional<PathInfo> valid = database.pathInfo(path);
        if (valid.isPresent()) {
            return valid.get();
        }
        checkReferences(path, info.references());
        try (PathLocks.Held held = locks.lock(List.of(path))) {
            valid = database.pathInfo(path);
            if (valid.isEmpty()) {
                install(info, temp, canonical);
            }
            held.deleteLockFilesOnClose();
            return valid.orElse(info);
        }
    }

    /**
     * Under the path's lock, with the path invalid: replaces any leftover at the target by the item at
     * {@code temp} (canonical, synced, renamed, store dir synced), then registers it; if the registration
     * fails the item is deleted again. {@code canonical}: the write already left canonical modes and
     * mtimes, so only owners may need the canonicaliser's walk.
     */
    private void install(PathInfo info, Path temp, boolean canonical) throws IOException {
        Path target = storeDir.physicalPath(info.path());
        FileTrees.deleteTree(target);
        if (!canonical || !canonicaliser.topOwnerCanonical(temp)) {
            canonicaliser.canonicalise(temp);
        }
        Canonicaliser.syncTree(temp);
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        Canonicaliser.syncDirectory(physicalStoreDir);
        try {
            database.register(List.of(info));
        } catch (RuntimeException | Error e) {
            // A disk failing under the database is an I/O error of this add, as the adding methods declare it.
            Throwable thrown = e instanceof UncheckedIOException io ? io.getCause() : e;
            try {
                FileTrees.deleteTree(target);
                Canonicaliser.syncDirectory(physicalStoreDir);
            } catch (IOException cleanup) {
                thrown.addSuppressed(cleanup);
            }
            if (thrown instanceof IOException io) {
                throw io;
            }
            throw e;
        }
    }

    private void checkReferences(StorePath path, Collection<StorePath> references) {
        for (StorePath reference : references) {
            if (!reference.equals(path) && !database.isValid(own(reference))) {
                throw new MissingReferenceException(path, reference);
            }
        }
    }

    // ---------------------------------------------------------------- writing and hashing

    /**
     * Writes {@code size} bytes of {@code in} as a non-executable file at {@code temp}, hashing its NAR
     * (SHA-256) and, if {@code algorithm} is given, its contents, in the same pass.
     */
    private static Staged writeFlat(Path temp, InputStream in, long size, HashAlgorithm algorithm) throws IOException {
        MessageDigest contents = algorithm == null ? null : algorithm.newDigest();
        HashingOutputStream nar = new HashingOutputStream(OutputStream.nullOutputStream(), HashAlgorithm.SHA256);
        byte[] buffer = new byte[COPY_BUFFER];
        long copied = 0;
        try (OutputStream file = Files.newOutputStream(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                OutputStream narContents = NarWriter.begin(nar).regular(false, size)) {
            int n;
            while (copied < size && (n = in.read(buffer, 0, (int) Math.min(buffer.length, size - copied))) > 0) {
                file.write(buffer, 0, n);
                narContents.write(buffer, 0, n);
                if (contents != null) {
                    contents.update(buffer, 0, n);
                }
                copied += n;
            }
            if (copied != size || in.read() >= 0) {
                throw new IOException("the size of " + temp + "'s source changed while it was copied (expected "
                    + size + " bytes)");
            }
        }
        Hash other = contents == null ? null : Hash.of(algorithm, contents.digest());
        return new Staged(nar.hash(), nar.count(), other, false);
    }

    /**
     * Copies the tree at {@code source} to {@code temp} with canonical modes and mtimes while hashing its
     * NAR with SHA-256 and {@code algorithm}: in one pass when SHA-256 is all it takes (this thread copies,
     * a second one hashes), otherwise through the NAR, which a second thread dumps into a pipe and this
     * one restores.
     */
    private static Staged copyTree(Path source, Path temp, HashAlgorithm algorithm) throws IOException {
        if (algorithm == null || algorithm == HashAlgorithm.SHA256) {
            // The NAR's SHA-256 is all that is needed: one pass copies and hashes, with no NAR in between, and
            // the disk writes the copy while it is made, so that the sync before the rename finds little left.
            NarDigest copied;
            try (EarlyWriteback writeback = FileSystemSync.available() ? new EarlyWriteback(temp.getParent()) : null) {
                copied = NarRestorer.copyReadOnly(source, temp, Canonicaliser.CANONICAL_MTIME,
                    HashAlgorithm.SHA256.newDigest(), writeback);
            }
            Hash narHash = Hash.of(HashAlgorithm.SHA256, copied.digest());
            return new Staged(narHash, copied.narSize(), algorithm == null ? null : narHash, true);
        }
        PipedInputStream pipe = new PipedInputStream(PIPE_SIZE);
        PipedOutputStream sink = new PipedOutputStream(pipe);
        Throwable[] dumpError = new Throwable[1];
        Thread dumper = new Thread(() -> {
            try (sink) {
                new NarDumper().dump(source, sink);
            } catch (IOException | RuntimeException | Error e) {
                dumpError[0] = e;
            }
        }, "granary-add " + source);
        dumper.start();
        Staged staged;
        try (pipe) {
            staged = restoreHashing(pipe, temp, algorithm);
        } catch (IOException | RuntimeException | Error e) {
            joinQuietly(dumper, e);
            if (dumpError[0] != null && e instanceof NarFormatException) {
                // The dump's failure (an unsupported file, an unreadable one) is the cause; the restorer only saw the end.
                dumpError[0].addSuppressed(e);
                throwUnchecked(dumpError[0]);
            }
            if (dumpError[0] != null) {
                // The restorer's failure (a full disk, a permission) is the cause; the dump only saw the pipe close.
                e.addSuppressed(dumpError[0]);
            }
            throw e;
        }
        try {
            dumper.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while adding " + source);
        }
        if (dumpError[0] != null) {
            throwUnchecked(dumpError[0]);
        }
        return staged;
    }

    /**
     * Restores the NAR read from {@code nar} at {@code temp} with canonical modes and mtimes, hashing it
     * with SHA-256 and {@code algorithm}.
     */
    private static Staged restoreHashing(InputStream nar, Path temp, HashAlgorithm algorithm) throws IOException {
        HashingInput in = new HashingInput(nar, algorithm);
        NarRestorer.restoreReadOnly(in, temp, Canonicaliser.CANONICAL_MTIME);
        Hash other = algorithm == null ? null : Hash.of(algorithm, in.other.digest());
        return new Staged(Hash.of(HashAlgorithm.SHA256, in.sha256.digest()), in.count, other, true);
    }

    private static void joinQuietly(Thread thread, Throwable failure) {
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure.addSuppressed(e);
        }
    }

    private static void throwUnchecked(Throwable t) throws IOException {
        if (t instanceof IOException e) {
            throw e;
        }
        if (t instanceof RuntimeException e) {
            throw e;
        }
        throw (Error) t;
    }

    /** An input stream that hashes with SHA-256 (and optionally another algorithm) and counts what is read. */
    private static final class HashingInput extends FilterInputStream {
        private final MessageDigest sha256 = HashAlgorithm.SHA256.newDigest();
        private final MessageDigest other;
        private long count;

        HashingInput(InputStream in, HashAlgorithm algorithm) {
            super(in);
            this.other = algorithm == null ? null : algorithm.newDigest();
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                sha256.update((byte) b);
                if (other != null) {
                    other.update((byte) b);
                }
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                sha256.update(b, off, n);
                if (other != null) {
                    other.update(b, off, n);
                }
                count += n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            // Skipped bytes would escape the hash: read them instead.
            byte[] buffer = new byte[(int) Math.min(n, 8192)];
            int read = read(buffer, 0, buffer.length);
            return Math.max(read, 0);
        }

        @Override
        public boolean markSupported() {
            return false;
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Checks that a path belongs to this store's store dir. */
    private StorePath own(StorePath path) {
        Objects.requireNonNull(path, "path");
        if (!path.storeDir().equals(storeDir.logical())) {
            throw new IllegalArgumentException("path " + path + " is not in this store's store dir "
                + storeDir.logical() + " (it is of " + path.storeDir() + ")");
        }
        return path;
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException("store " + physicalStoreDir + " is closed");
        }
    }

    private Path newTempName() {
        return physicalStoreDir.resolve(TEMP_PREFIX + ProcessHandle.current().pid() + "-"
            + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36));
    }

    private static long now() {
        return Instant.now().getEpochSecond();
    }

    /** The infos in an order where every reference inside the set comes before its referrers, else sorted. */
    private static List<PathInfo> referencesFirst(Map<StorePath, PathInfo> infos) {
        List<StorePath> paths = new ArrayList<>(infos.keySet());
        Map<StorePath, Integer> numbers = new HashMap<>();
        for (StorePath path : paths) {
            numbers.put(path, numbers.size());
        }
        ReferenceOrder order = new ReferenceOrder();
        for (StorePath path : paths) {
            for (StorePath reference : infos.get(path).references()) {
                Integer number = numbers.get(reference);
                if (number != null) {
                    order.refersTo(numbers.get(path), number);
                }
            }
        }
        List<PathInfo> ordered = new ArrayList<>(paths.size());
        for (StorePath path : order.order(paths)) {
            ordered.add(infos.get(path));
        }
        return ordered;
    }
}
