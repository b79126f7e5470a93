/**
 * The NAR (Nix ARchive) format, as Guix and Nix write it, and nothing else: no store paths, no database.
 *
 * <ul>
 *   <li>{@link org.granary.nar.NarWriter} writes the grammar node by node and lets only valid NARs out;
 *   <li>{@link org.granary.nar.NarDumper} serialises a file tree through it, and hashes the NAR in the same
 *       pass ({@link org.granary.nar.NarDigest});
 *   <li>{@link org.granary.nar.NarReader} parses a NAR strictly into {@link org.granary.nar.NarVisitor}
 *       events;
 *   <li>{@link org.granary.nar.NarRestorer} creates the file tree of a NAR on disk, all or nothing;
 *   <li>{@link org.granary.nar.FileTrees} deletes a tree (such as a read-only store item) without following
 *       symlinks.
 * </ul>
 *
 * <p>Errors: {@link org.granary.nar.NarFormatException} (a malformed NAR, with its byte offset),
 * {@link org.granary.nar.NarDumpException} (a tree no NAR can hold exactly) and
 * {@link org.granary.nar.NarRestoreException} (a NAR that cannot be created on disk), all
 * {@link java.io.IOException}s naming the path or offset. That list is the module's whole public API.
 *
 * <p>Limits, stated once for the reader and the writer: an entry name is 1 to 255 bytes (NAME_MAX), not
 * {@code .} or {@code ..}, without {@code /} or NUL; a symlink target is 1 to 4095 bytes (PATH_MAX - 1)
 * without NUL; entries sort in strictly increasing unsigned byte order. Nesting depth and file sizes
 * (below 2^63) are not limited; nothing here recurses or holds a file in memory.
 *
 * <h2>File names</h2>
 *
 * A NAR holds names and symlink targets as bytes; the JDK turns file name bytes into Strings with the
 * charset of the system property {@code sun.jnu.encoding}, set from the locale when the JVM starts. Names
 * travel between disk and NAR as their exact bytes or not at all: a name or target the JVM cannot
 * represent exactly (for example a byte sequence that is not UTF-8 under a UTF-8 locale, or any non-ASCII
 * byte under the C locale) is refused with {@link org.granary.nar.NarDumpException} or
 * {@link org.granary.nar.NarRestoreException}, never altered. Run the JVM with a UTF-8 locale
 * ({@code LC_ALL=C.UTF-8}) so that every UTF-8 name is representable. One more gap, on restore: the
 * JDK drops repeated and trailing slashes from a symlink target it is given ({@code a//b}, {@code dir/}),
 * so {@link org.granary.nar.NarRestorer} has GNU {@code ln -s} create such a link, and checks it.
 */
package org.granary.nar;
