/**
 * Binary caches in the format Nix and Guix share ({@code nix copy --to file://DIR}, {@code guix publish}):
 * narinfos, compressed NARs and Ed25519 signatures.
 *
 * <h2>Public API</h2>
 *
 * <ul>
 *   <li>{@link org.granary.verify.cache.BinaryCache}: a cache read as a
 *       {@link org.granary.verify.Substituter}, every file checked against its narinfo;
 *       {@link org.granary.verify.cache.CacheWriter}: a cache written in a directory, signed.
 *   <li>{@link org.granary.verify.cache.NarInfo} (parse one; {@code toString()} writes it) and
 *       {@link org.granary.verify.cache.Compression} (none, gzip, bzip2, xz, zstd, lzip).
 *   <li>Keys: {@link org.granary.verify.cache.SigningKey}, {@link org.granary.verify.cache.VerifyingKey},
 *       {@link org.granary.verify.cache.TrustedKeys}.
 *   <li>Errors, each naming what is at fault: {@link org.granary.verify.cache.NarInfoFormatException},
 *       {@link org.granary.verify.cache.ContentMismatchException},
 *       {@link org.granary.verify.cache.KeyFormatException},
 *       {@link org.granary.verify.cache.LzipFormatException}.
 * </ul>
 */
package org.granary.verify.cache;
