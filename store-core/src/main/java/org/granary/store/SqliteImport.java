package org.granary.store;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteOpenMode;

/**
 * Reads the reference database of a Guix ({@code /var/guix/db/db.sqlite}, schema 7) or Nix
 * ({@code /nix/var/nix/db/db.sqlite}, schema 10) store, to register its valid paths in a
 * {@link StoreDatabase} (store-facts.md §5).
 *
 * <p><b>What is read.</b> {@code ValidPaths} (path, hash, registrationTime, deriver, narSize, and Nix's
 * {@code sigs} and {@code ca} when the columns exist), {@code Refs} and {@code DerivationOutputs}. The hash
 * is {@code sha256:<base16>} as both daemons write it; {@code sha256:<nix-base32>} and a bare base16 or
 * nix-base32 SHA-256 are accepted too. A NULL or empty deriver or content address means none; a NULL
 * {@code narSize} means 0 (unknown). Other tables ({@code FailedPaths}, Nix's {@code Realisations}) are
 * not read.
 *
 * <p><b>All or nothing.</b> Every row is checked before anything is registered: a path of another store
 * dir, a malformed path, deriver or hash, a negative size or time, or a {@code Refs} or
 * {@code DerivationOutputs} row naming a {@code ValidPaths} id that does not exist throws
 * {@link SqliteImportException} naming the row and its path. The paths are then registered in one
 * {@link StoreDatabase#register(java.util.Collection, Map)} transaction: all of them or none.
 *
 * <p><b>Memory.</b> The rows are streamed from SQLite, but the whole database becomes one batch: memory is
 * proportional to the number of paths plus the number of references.
 *
 * <p><b>Read-only.</b> The source is opened with SQLite's read-only flag and never written. A database in
 * WAL mode makes a read-only SQLite connection create {@code db.sqlite-wal} and {@code db.sqlite-shm} next
 * to it and leave them behind (it may not checkpoint). To avoid that, when no non-empty {@code -wal} file
 * exists the source is opened {@code immutable=1}: no lock, no file created. When a non-empty {@code -wal}
 * file exists (a daemon has the database open, or did not close it cleanly) its committed transactions
 * must be read, so the source is opened {@code mode=ro} and SQLite may create or use the {@code -shm}
 * file. Stop the daemon that owns the database before importing: an immutable source written meanwhile
 * may be read inconsistently.
 *
 * <p>Stateless; the methods are safe to call from several threads.
 */
public final class SqliteImport {
    private static final String VALID_PATHS = "ValidPaths";
    private static final String REFS = "Refs";
    private static final String DERIVATION_OUTPUTS = "DerivationOutputs";

    private SqliteImport() {
    }

    /**
     * What a {@code db.sqlite} holds, checked and ready to register.
     *
     * @param paths the valid paths with their information, in {@code ValidPaths.id} order
     * @param derivationOutputs for each derivation with recorded outputs: output id to output path
     * @param referenceCount the number of references ({@code Refs} rows), self-references included
     */
    public record Contents(List<PathInfo> paths, Map<StorePath, Map<String, StorePath>> derivationOutputs,
            long referenceCount) {
        /**
         * Copies the collections into unmodifiable ones.
         *
         * @param paths the valid paths with their information, in {@code ValidPaths.id} order
         * @param derivationOutputs for each derivation with recorded outputs: output id to output path
         * @param referenceCount the number of references ({@code Refs} rows), self-references included
         */
        public Contents {
            paths = List.copyOf(paths);
            Map<StorePath, Map<String, StorePath>> outputs = new TreeMap<>();
            derivationOutputs.forEach((drv, byId) -> outputs.put(drv, Collections.unmodifiableMap(new TreeMap<>(byId))));
            derivationOutputs = Collections.unmodifiableMap(outputs);
        }
    }

    /**
     * Reads a database and registers all of its valid paths, references and derivation outputs in one
     * transaction of {@code database}.
     *
     * @param source the {@code db.sqlite} file, opened read-only
     * @param database the database to register into; its store dir must be the source's
     * @return what was registered
     * @throws IOException if the file does not exist or SQLite cannot read it
     * @throws SqliteImportException naming the row, if the source is not a Guix or Nix database or a row is
     *     malformed or of another store dir; nothing registered
     * @throws StoreException if the registration is refused (such as a hash part valid under another
     *     name); nothing registered
     */
    public static Contents importInto(Path source, StoreDatabase database) throws IOException {
        Contents contents = read(source, database.storeDir());
        database.register(contents.paths(), contents.derivationOutputs());
        return contents;
    }

    /**
     * Reads and checks every valid path, reference and derivation output of a database, registering
     * nothing.
     *
     * @param source the {@code db.sqlite} file, opened read-only
     * @param storeDir the logical store dir every path must be in, such as {@code /gnu/store}
     * @return the contents
     * @throws IOException if the file does not exist or SQLite cannot read it
     * @throws SqliteImportException naming the row, if the source is not a Guix or Nix database or a row is
     *     malformed or of another store dir
     */
    public static Contents read(Path source, String storeDir) throws IOException {
        StoreDir.checkLogical(storeDir);
        if (!Files.isRegularFile(source)) {
            throw new NoSuchFileException(source.toString(), null, "no such database file");
        }
        try (Connection connection = open(source)) {
            Set<String> columns = columns(connection, source);
            Map<Long, Row> rows = readValidPaths(connection, source, storeDir, columns);
            long referenceCount = readRefs(connection, source, rows);
            Map<StorePath, Map<String, StorePath>> outputs = readDerivationOutputs(connection, source, storeDir, rows);
            List<PathInfo> infos = new ArrayList<>(rows.size());
            for (Map.Entry<Long, Row> entry : rows.entrySet()) {
                infos.add(entry.getValue().info(source, entry.getKey()));
            }
            return new Contents(infos, outputs, referenceCount);
        } catch (SQLException e) {
            throw new IOException(source + ": cannot read the SQLite database: " + e.getMessage(), e);
        }
    }

    /** The columns of ValidPaths, lower-case; refuses a file without the three tables. */
    private static Set<String> columns(Connection connection, Path source) throws SQLException {
        Set<String> tables = new HashSet<>();
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("select name from sqlite_master where type = 'table'")) {
            while (rs.next()) {
                tables.add(rs.getString(1));
            }
        }
        for (String table : List.of(VALID_PATHS, REFS, DERIVATION_OUTPUTS)) {
            if (!tables.contains(table)) {
                throw new SqliteImportException(source + ": not a Guix or Nix store database (no table " + table + ")",
                    null, -1, null, null);
            }
        }
        Set<String> columns = new HashSet<>();
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("pragma table_info(" + VALID_PATHS + ")")) {
            while (rs.next()) {
                columns.add(rs.getString("name").toLowerCase(java.util.Locale.ROOT));
            }
        }
        return columns;
    }

    private static Map<Long, Row> readValidPaths(Connection connection, Path source, String storeDir,
            Set<String> columns) throws SQLException {
        boolean sigs = columns.contains("sigs");
        boolean ca = columns.contains("ca");
        String query = "select id, path, hash, registrationTime, deriver, narSize"
            + (sigs ? ", sigs" : ", null") + (ca ? ", ca" : ", null") + " from " + VALID_PATHS + " order by id";
        Map<Long, Row> rows = new LinkedHashMap<>();
        try (Statement statement = connection.createStatement(); ResultSet rs = statement.executeQuery(query)) {
            while (rs.next()) {
                long id = rs.getLong(1);
                String text = rs.getString(2);
                StorePath path = storePath(source, VALID_PATHS, id, text, text, storeDir, "path");
                String hashText = rs.getString(3);
                Hash hash;
                try {
                    hash = Hash.parse(hashText == null ? "" : hashText, HashAlgorithm.SHA256);
                } catch (InvalidHashException e) {
                    throw rowError(source, VALID_PATHS, id, text, "corrupt hash `" + hashText + "'", e);
                }
                long time = rs.getLong(4);
                String deriverText = rs.getString(5);
                StorePath deriver = deriverText == null || deriverText.isEmpty() ? null
                    : storePath(source, VALID_PATHS, id, text, deriverText, storeDir, "deriver");
                long narSize = rs.getLong(6);
                String sigText = rs.getString(7);
                String caText = rs.getString(8);
                List<String> signatures = sigText == null || sigText.isBlank() ? List.of()
                    : List.of(sigText.strip().split("\\s+"));
                rows.put(id, new Row(path, hash, narSize, deriver, time, signatures,
                    caText == null || caText.isEmpty() ? null : caText));
            }
        }
        Set<StorePath> seen = new HashSet<>();
        for (Map.Entry<Long, Row> entry : rows.entrySet()) {
            if (!seen.add(entry.getValue().path)) {
                throw rowError(source, VALID_PATHS, entry.getKey(), entry.getValue().path.toString(),
                    "the path appears twice", null);
            }
        }
        return rows;
    }

    private static long readRefs(Connection connection, Path source, Map<Long, Row> rows) throws SQLException {
        long count = 0;
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("select referrer, reference from " + REFS)) {
            while (rs.next()) {
                long referrer = rs.getLong(1);
                long reference = rs.getLong(2);
                Row from = rows.get(referrer);
                if (from == null) {
                    throw rowError(source, REFS, referrer, null,
                        "referrer id " + referrer + " is not a ValidPaths row", null);
                }
                Row to = rows.get(reference);
                if (to == null) {
                    throw rowError(source, REFS, referrer, from.path.toString(),
                        "reference id " + reference + " is not a ValidPaths row (dangling reference)", null);
                }
                if (from.references.add(to.path)) {
                    count++;
                }
            }
        }
        return count;
    }

    private static Map<StorePath, Map<String, StorePath>> readDerivationOutputs(Connection connection, Path source,
            String storeDir, Map<Long, Row> rows) throws SQLException {
        Map<StorePath, Map<String, StorePath>> outputs = new HashMap<>();
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("select drv, id, path from " + DERIVATION_OUTPUTS)) {
            while (rs.next()) {
                long drv = rs.getLong(1);
                String outputId = rs.getString(2);
                String outputText = rs.getString(3);
                Row row = rows.get(drv);
                if (row == null) {
                    throw rowError(source, DERIVATION_OUTPUTS, drv, outputText,
                        "derivation id " + drv + " is not a ValidPaths row", null);
                }
                if (outputId == null || outputId.isEmpty()) {
                    throw rowError(source, DERIVATION_OUTPUTS, drv, row.path.toString(), "empty output id", null);
                }
                StorePath output = storePath(source, DERIVATION_OUTPUTS, drv, row.path.toString(), outputText,
                    storeDir, "output " + outputId);
                outputs.computeIfAbsent(row.path, k -> new TreeMap<>()).put(outputId, output);
            }
        }
        return outputs;
    }

    private static StorePath storePath(Path source, String table, long id, String rowPath, String text,
            String storeDir, String what) {
        if (text == null) {
            throw rowError(source, table, id, rowPath, what + " is NULL", null);
        }
        try {
            return StorePath.parse(text, storeDir);
        } catch (InvalidStorePathException e) {
            throw rowError(source, table, id, rowPath, "bad " + what + ": " + e.getMessage(), e);
        }
    }

    private static SqliteImportException rowError(Path source, String table, long id, String path, String problem,
            Throwable cause) {
        return new SqliteImportException(source + ": " + table + " row " + id
            + (path == null ? "" : " (" + path + ")") + ": " + problem, table, id, path, cause);
    }

    /** Opens the source read-only; see the class comment for the choice between immutable and mode=ro. */
    private static Connection open(Path source) throws SQLException, IOException {
        Path absolute = source.toAbsolutePath();
        Path wal = absolute.resolveSibling(absolute.getFileName() + "-wal");
        boolean walInUse = Files.isRegularFile(wal) && Files.size(wal) > 0;
        String uriPath;
        try {
            uriPath = new URI("file", null, absolute.toString(), null).getRawPath();
        } catch (URISyntaxException e) {
            throw new IOException(source + ": cannot make a SQLite URI of the path", e);
        }
        SQLiteConfig config = new SQLiteConfig();
        config.setReadOnly(true);
        config.setOpenMode(SQLiteOpenMode.OPEN_URI);
        return config.createConnection("jdbc:sqlite:file:" + uriPath + (walInUse ? "?mode=ro" : "?mode=ro&immutable=1"));
    }

    /** One ValidPaths row and the references read for it. */
    private static final class Row {
        final StorePath path;
        final Hash hash;
        final long narSize;
        final StorePath deriver;
        final long registrationTime;
        final List<String> signatures;
        final String contentAddress;
        final Set<StorePath> references = new TreeSet<>();

        Row(StorePath path, Hash hash, long narSize, StorePath deriver, long registrationTime,
                List<String> signatures, String contentAddress) {
            this.path = path;
            this.hash = hash;
            this.narSize = narSize;
            this.deriver = deriver;
            this.registrationTime = registrationTime;
            this.signatures = signatures;
            this.contentAddress = contentAddress;
        }

        PathInfo info(Path source, long id) {
            try {
                return new PathInfo(path, hash, narSize, new TreeSet<>(references), deriver, registrationTime,
                    new TreeSet<>(signatures), contentAddress);
            } catch (IllegalArgumentException e) {
                throw rowError(source, VALID_PATHS, id, path.toString(), e.getMessage(), e);
            }
        }
    }
}
