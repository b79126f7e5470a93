package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link SqliteImport} of databases made with the exact schemas of the Guix daemon (schema 7) and of Nix
 * (schema 10), in both journal modes the daemons use (WAL, their default, and a rollback journal), filled
 * with references (a self-reference among them), derivers, derivation outputs (one output not valid) and,
 * for Nix, signatures and a content address. The source must come out byte for byte as it went in, with
 * no file created next to it.
 */
class SqliteImportSchemaTest {
    /** What follows ValidPaths in both daemons' {@code schema.sql}, to the end of DerivationOutputs. */
    static final String REFS_AND_OUTPUTS = """
        create table if not exists Refs (
            referrer  integer not null,
            reference integer not null,
            primary key (referrer, reference),
            foreign key (referrer) references ValidPaths(id) on delete cascade,
            foreign key (reference) references ValidPaths(id) on delete restrict
        );
        create index if not exists IndexReferrer on Refs(referrer);
        create index if not exists IndexReference on Refs(reference);
        create trigger if not exists DeleteSelfRefs before delete on ValidPaths
          begin
            delete from Refs where referrer = old.id and reference = old.id;
          end;
        create table if not exists DerivationOutputs (
            drv  integer not null,
            id   text not null, -- symbolic output id, usually "out"
            path text not null,
            primary key (drv, id),
            foreign key (drv) references ValidPaths(id) on delete cascade
        );
        create index if not exists IndexDerivationOutputs on DerivationOutputs(path);
        """;

    /** Guix's {@code schema.sql} (schema 7, store-facts.md §5), statement by statement as the daemon runs it. */
    static final String GUIX_SCHEMA = """
        create table if not exists ValidPaths (
            id               integer primary key autoincrement not null,
            path             text unique not null,
            hash             text not null,
            registrationTime integer not null,
            deriver          text,
            narSize          integer
        );
        """ + REFS_AND_OUTPUTS + """
        create table if not exists FailedPaths (
            path text primary key not null,
            time integer not null
        );
        """;

    /** Nix's {@code schema.sql} (schema 10, Nix 2.8): Guix's without FailedPaths, plus ultimate, sigs, ca. */
    static final String NIX_SCHEMA = """
        create table if not exists ValidPaths (
            id               integer primary key autoincrement not null,
            path             text unique not null,
            hash             text not null,
            registrationTime integer not null,
            deriver          text,
            narSize          integer,
            ultimate         integer, -- null implies "false"
            sigs             text, -- space-separated
            ca               text -- if not null, an assertion that the path is content-addressed; see ValidPathInfo
        );
        """ + REFS_AND_OUTPUTS;

    static final String STORE = "/gnu/store";
    static final StorePath LEAF = path("leaf-1.0");
    static final StorePath LIB = path("lib-2.0");
    static final StorePath DRV = path("app-3.0.drv");
    static final StorePath APP = path("app-3.0");
    static final StorePath DOC = path("app-3.0-doc"); // an output of DRV that is not valid
    static final String SIGS = "cache.example.org-1:c2lnbmF0dXJl other.example.org-1:b3RoZXI=";
    static final String CA = "fixed:r:sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s";

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0} schema, journal_mode={1}")
    @CsvSource({"guix, wal", "guix, truncate", "nix, wal", "nix, truncate"})
    void aFilledDatabaseImportsWholeAndTheSourceIsLeftUntouched(String schema, String journalMode)
            throws Exception {
        boolean nix = schema.equals("nix");
        Path dir = Files.createDirectory(tmp.resolve("db"));
        Path source = dir.resolve("db.sqlite");
        fill(source, nix ? NIX_SCHEMA : GUIX_SCHEMA, journalMode, nix);
        byte[] bytes = Files.readAllBytes(source);
        FileTime mtime = Files.getLastModifiedTime(source);
        List<String> before = listing(dir);
        // A daemon stopped cleanly leaves no -wal or -shm; in truncate mode an empty -journal stays.
        assertEquals(journalMode.equals("wal") ? List.of("db.sqlite") : List.of("db.sqlite", "db.sqlite-journal"),
            before);

        try (StoreDatabase db = StoreDatabase.open(tmp.resolve("lmdb"), STORE)) {
            SqliteImport.Contents contents = SqliteImport.importInto(source, db);
            assertEquals(4, contents.paths().size());
            assertEquals(6, contents.referenceCount());

            assertEquals(Set.of(LEAF, LIB, DRV, APP), db.validPaths());
            assertEquals(Set.of(), db.references(LEAF));
            assertEquals(Set.of(LEAF, LIB), db.references(LIB)); // the self-reference kept
            assertEquals(Set.of(LIB), db.references(DRV));
            assertEquals(Set.of(LEAF, LIB, APP), db.references(APP));
            assertEquals(Set.of(LIB, APP), db.referrers(LEAF));
            assertEquals(Set.of(LEAF, LIB, DRV, APP), db.closure(List.of(APP, DRV), false));

            PathInfo app = db.pathInfo(APP).orElseThrow();
            assertEquals(DRV, app.deriver());
            assertEquals(hash(APP), app.narHash());
            assertEquals(4000, app.narSize());
            assertEquals(1_700_000_003L, app.registrationTime());
            assertNull(db.pathInfo(LEAF).orElseThrow().deriver());

            assertEquals(Map.of("out", APP, "doc", DOC), db.derivationOutputs(DRV));
            assertEquals(Set.of(DRV), db.validDerivers(APP));
            assertEquals(Set.of(DRV), db.validDerivers(DOC));
            assertEquals(Map.of(), db.derivationOutputs(LIB));

            PathInfo leaf = db.pathInfo(LEAF).orElseThrow();
            if (nix) {
                assertEquals(Set.of(SIGS.split(" ")), leaf.signatures());
                assertEquals(CA, leaf.contentAddress());
            } else {
                assertEquals(Set.of(), leaf.signatures());
                assertNull(leaf.contentAddress());
            }
        }

        // Strictly read-only: the same bytes and time, and no -wal, -shm or -journal created beside it.
        assertArrayEquals(bytes, Files.readAllBytes(source));
        assertEquals(mtime, Files.getLastModifiedTime(source));
        assertEquals(before, listing(dir));
        if (before.contains("db.sqlite-journal")) {
            assertEquals(0, Files.size(dir.resolve("db.sqlite-journal")));
        }
    }

    /** Creates the database as the daemon would, fills it, and closes it as a daemon that stops cleanly. */
    private static void fill(Path file, String schema, String journalMode, boolean nix) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file)) {
            try (Statement s = c.createStatement()) {
                s.execute("pragma foreign_keys = 1");
                s.execute("pragma main.journal_mode = " + journalMode);
                for (String statement : statements(schema)) {
                    s.execute(statement);
                }
            }
            c.setAutoCommit(false);
            long[] ids = new long[4];
            StorePath[] paths = {LEAF, LIB, DRV, APP};
            try (PreparedStatement insert = c.prepareStatement(nix
                    ? "insert into ValidPaths (path, hash, registrationTime, deriver, narSize, ultimate, sigs, ca)"
                        + " values (?, ?, ?, ?, ?, ?, ?, ?)"
                    : "insert into ValidPaths (path, hash, registrationTime, deriver, narSize) values (?, ?, ?, ?, ?)",
                    Statement.RETURN_GENERATED_KEYS)) {
                for (int i = 0; i < paths.length; i++) {
                    insert.setString(1, paths[i].toString());
                    insert.setString(2, "sha256:" + hash(paths[i]).format(HashFormat.BASE16));
                    insert.setLong(3, 1_700_000_000L + i);
                    insert.setString(4, paths[i] == APP ? DRV.toString() : null);
                    insert.setLong(5, 1000L * (i + 1));
                    if (nix) {
                        insert.setNull(6, java.sql.Types.INTEGER);
                        insert.setString(7, paths[i] == LEAF ? SIGS : null);
                        insert.setString(8, paths[i] == LEAF ? CA : null);
                    }
                    insert.executeUpdate();
                    try (var keys = insert.getGeneratedKeys()) {
                        keys.next();
                        ids[i] = keys.getLong(1);
                    }
                }
            }
            long[][] refs = {{ids[1], ids[0]}, {ids[1], ids[1]}, {ids[2], ids[1]}, {ids[3], ids[0]}, {ids[3], ids[1]},
                {ids[3], ids[3]}};
            try (PreparedStatement insert = c.prepareStatement("insert into Refs (referrer, reference) values (?, ?)")) {
                for (long[] ref : refs) {
                    insert.setLong(1, ref[0]);
                    insert.setLong(2, ref[1]);
                    insert.executeUpdate();
                }
            }
            try (PreparedStatement insert = c.prepareStatement(
                    "insert into DerivationOutputs (drv, id, path) values (?, ?, ?)")) {
                for (Object[] output : new Object[][] {{"out", APP}, {"doc", DOC}}) {
                    insert.setLong(1, ids[2]);
                    insert.setString(2, (String) output[0]);
                    insert.setString(3, output[1].toString());
                    insert.executeUpdate();
                }
            }
            if (!nix) {
                try (Statement s = c.createStatement()) {
                    s.execute("insert into FailedPaths (path, time) values ('" + path("broken") + "', 1700000000)");
                }
            }
            c.commit();
        }
    }

    /** The schema's statements, split where the daemon's sqlite3_exec would run them one after another. */
    private static List<String> statements(String schema) {
        return Arrays.stream(schema.split(";\n(?!\\s*end;)"))
            .map(String::strip).filter(s -> !s.isEmpty()).map(s -> s.endsWith("end") ? s + ";" : s).toList();
    }

    private static StorePath path(String name) {
        return new StorePath(STORE, NixBase32.encode(Arrays.copyOf(sha256(name), 20)), name);
    }

    /** A NAR hash of its own for each path. */
    private static Hash hash(StorePath path) {
        return Hash.of(HashAlgorithm.SHA256, sha256("nar of " + path));
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(e -> e.getFileName().toString()).sorted().toList();
        }
    }
}
