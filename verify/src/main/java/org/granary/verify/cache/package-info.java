/**
 * Binary caches, as Nix ({@code nix copy --to file://…}) and Guix ({@code guix publish}) write them
 * (store-facts.md §10): reading one as a {@link org.granary.verify.Substituter} ({@link BinaryCache},
 * over {@code file://} and {@code http(s)://}), writing one ({@link CacheWriter}), and what both need:
 * the narinfo format ({@link NarInfo}), NAR compressions ({@link Compression}: none, gzip, bzip2, xz,
 * zstd and lzip, the last built here on xz-java's LZMA coder), Nix's Ed25519 keys and signatures
 * ({@link SigningKey}, {@link VerifyingKey}) and Guix's ({@link TrustedKeys} takes both kinds of key).
 *
 * <p>Nothing here trusts a cache's word alone: a narinfo must be signed by a trusted key unless the
 * caller allows unsigned ones, every fetched file is checked against the narinfo while it is read,
 * and repair still compares the NAR hash with the local database.
 */
package org.granary.verify.cache;
