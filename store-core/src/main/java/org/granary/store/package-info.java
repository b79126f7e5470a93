/**
 * The names of things in a Guix store and the store itself: hashes and store paths byte-compatible with
 * the Guix daemon, the reference database, and {@link org.granary.store.LocalStore}, the store as a
 * library. Nothing here knows of garbage collection or verification, which build on it.
 *
 * <h2>Public API</h2>
 *
 * <ul>
 *   <li>Values (immutable, thread-safe): {@link org.granary.store.Hash} with
 *       {@link org.granary.store.HashAlgorithm} and {@link org.granary.store.HashFormat}, and
 *       {@link org.granary.store.HashingOutputStream} to hash and count bytes as they are written;
 *       {@link org.granary.store.NixBase32}; {@link org.granary.store.StoreDir},
 *       {@link org.granary.store.StorePath}; {@link org.granary.store.PathInfo};
 *       {@link org.granary.store.ExportedItem}; {@link org.granary.store.StoreConfig}.
 *   <li>Store path computation: {@link org.granary.store.StorePaths} (text, source, fixed-output and
 *       derivation-output paths, as {@code makeStorePath}).
 *   <li>The store: {@link org.granary.store.LocalStore} (open or create the layout; add, import, export,
 *       query, register, invalidate), over {@link org.granary.store.StoreDatabase} (the LMDB reference
 *       database) with its locks {@link org.granary.store.PathLocks}, {@link org.granary.store.GcLock},
 *       {@link org.granary.store.TempRoots}, and {@link org.granary.store.ReservedSpace}.
 *   <li>Formats: {@link org.granary.store.ExportWriter} and {@link org.granary.store.ExportReader}
 *       ({@code nix-store --export}); {@link org.granary.store.RegistrationReader} and
 *       {@link org.granary.store.RegistrationWriter} ({@code --register-validity}, {@code --load-db});
 *       {@link org.granary.store.SqliteImport} (a Guix or Nix {@code db.sqlite}).
 *   <li>File-system work on items: {@link org.granary.store.Canonicaliser} (canonical metadata, fsync),
 *       {@link org.granary.store.ReferenceScanner} (which store paths a byte stream mentions).
 *   <li>Errors: malformed input is an {@link java.io.IOException} subclass with its position
 *       ({@link org.granary.store.ExportFormatException}, {@link org.granary.store.RegistrationFormatException},
 *       {@link org.granary.store.UnsupportedFileTypeException}); invalid text is an
 *       {@link IllegalArgumentException} subclass ({@link org.granary.store.InvalidHashException},
 *       {@link org.granary.store.InvalidStorePathException}); a store refusing an operation is a
 *       {@link org.granary.store.StoreException} ({@link org.granary.store.PathNotValidException},
 *       {@link org.granary.store.MissingReferenceException},
 *       {@link org.granary.store.StillReferencedException},
 *       {@link org.granary.store.NarHashMismatchException},
 *       {@link org.granary.store.SqliteImportException},
 *       {@link org.granary.store.CorruptRecordException},
 *       {@link org.granary.store.IncompatibleDatabaseException}).
 * </ul>
 *
 * <p>Logging goes through the SLF4J API (the embedding application picks the binding, or none): debug
 * when the database map grows, info when stale temporary roots or additions of dead processes are
 * removed. Nothing here prints.
 */
package org.granary.store;
