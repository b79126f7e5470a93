/**
 * Verification and repair of a Granary store, the equivalent of {@code guix gc --verify=contents,repair}.
 * It builds on {@code org.granary.store} and knows nothing of the command line.
 *
 * <h2>Public API</h2>
 *
 * <ul>
 *   <li>{@link org.granary.verify.StoreVerifier}: the checks (existence, database invariants, contents,
 *       canonical metadata, leftovers) and, when asked, the repair, under the GC lock; configured by
 *       {@link org.granary.verify.VerifyOptions}, reporting through {@link org.granary.verify.Progress}.
 *   <li>The result: {@link org.granary.verify.Report}, a list of {@link org.granary.verify.Finding}s
 *       (kind, path, file, expected, actual, action) and a summary.
 *   <li>Repair sources: {@link org.granary.verify.Substituter} and {@link org.granary.verify.Substitute},
 *       refusals as {@link org.granary.verify.SubstituteException}; binary caches (reading, signatures,
 *       writing) are in {@code org.granary.verify.cache}.
 * </ul>
 *
 * <p>Without repair nothing is changed, not a file, not a database row. With repair, a substitute is
 * accepted only when the NAR it restores hashes to the NAR hash of the local database, and it is swapped in
 * atomically.
 */
package org.granary.verify;
