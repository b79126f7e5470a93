/**
 * Garbage collection of a Granary store, as {@code guix gc} does it: roots, liveness, the collector and
 * {@code .links} deduplication.
 */
package org.granary.gc;
