package org.granary.store;

/**
 * A Guix or Nix {@code db.sqlite} could not be imported: it is not such a database, or a row of it is
 * malformed (a path of another store dir, a hash that does not parse, a reference to a row that does not
 * exist...). The message names the file, the table, the row and, when known, the path. Nothing was
 * registered.
 *
 * <p>Immutable once thrown; safe to pass between threads.
 */
public class SqliteImportException extends StoreException {
    private static final long serialVersionUID = 1L;

    /** The table of the malformed row. */

    private final String table;
    /** Its row id. */
    private final long row;
    /** The store path in the row, or null. */
    private final String path;

    /**
     * Creates the exception.
     *
     * @param message the file, the row and the rule it breaks
     * @param table the table of the row, or null if the problem is not one row's
     * @param row the row's id ({@code ValidPaths.id}, or the referrer or derivation id), or -1
     * @param path the store path of the row, or null if unknown
     * @param cause the underlying error, or null
     */
    public SqliteImportException(String message, String table, long row, String path, Throwable cause) {
        super(message, cause);
        this.table = table;
        this.row = row;
        this.path = path;
    }

    /**
     * Returns the table of the faulty row.
     *
     * @return such as {@code ValidPaths}, or null
     */
    public String table() {
        return table;
    }

    /**
     * Returns the id of the faulty row.
     *
     * @return the id, or -1
     */
    public long row() {
        return row;
    }

    /**
     * Returns the store path of the faulty row.
     *
     * @return the path as written in the database, or null
     */
    public String path() {
        return path;
    }
}
