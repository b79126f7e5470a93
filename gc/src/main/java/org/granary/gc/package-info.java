/**
 * Garbage collection of a Granary store, as {@code guix gc} does it: roots, liveness, the collector and
 * {@code .links} deduplication. It builds on {@code org.granary.store} and knows nothing of verification
 * or the command line.
 *
 * <h2>Public API</h2>
 *
 * <ul>
 *   <li>{@link org.granary.gc.GarbageCollector}: listings without side effects (dead, live), collection
 *       (all garbage or up to an amount), deletion of given paths (refused for a live one with
 *       {@link org.granary.gc.PathAliveException}, naming the root that keeps it), with
 *       {@link org.granary.gc.GarbageCollector.Options} (keep-derivations, keep-outputs, extra roots).
 *   <li>{@link org.granary.gc.Roots}: the roots of a store ({@link org.granary.gc.GcRoot}: direct and
 *       indirect links under {@code gcroots/}, {@code auto/}) and the stale ones
 *       ({@link org.granary.gc.StaleRoot}, reported, never acted on).
 *   <li>{@link org.granary.gc.Optimiser}: deduplication through {@code .links}.
 *   <li>Results and progress: {@link org.granary.gc.GcListing}, {@link org.granary.gc.GcResult},
 *       {@link org.granary.gc.GcProgress}.
 * </ul>
 *
 * <p>Liveness walks the whole reference graph read once, in one read transaction
 * ({@code StoreDatabase.graph()}), never one query per path. A collection holds {@code gc.lock}
 * exclusively and invalidates dead items (referrers first) before it deletes their files, so a crash never
 * leaves a valid item with missing files.
 */
package org.granary.gc;
