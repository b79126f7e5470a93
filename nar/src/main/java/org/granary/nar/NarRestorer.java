package org.granary.nar;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Restores a NAR into a new file-system object: a directory tree, a regular file or a symlink.
 *
 * <p>Guarantees: the NAR is checked as strictly as {@link NarReader} checks it, each name before
 * anything is created for it; everything is created under a temporary sibling of the target
 * ({@code .<name>.granary-tmp-<random>}, the name cut to its first 32 characters to stay within
 * NAME_MAX) and renamed to the target at the end, so on any error the temporary tree is deleted
 * (without following symlinks) and nothing is at the target; nothing is ever created outside it, and no symlink it created is ever followed (every entry is created new, in a
 * directory it created itself, with no link followed). Regular files get mode 0644, executables 0755 and
 * directories 0755, whatever the umask. Names and symlink targets are created as their exact bytes;
 * one the JVM cannot represent exactly is refused with {@link NarRestoreException} (see the package
 * documentation). A symlink target with repeated or trailing slashes, which the JDK cannot pass to
 * symlink(2) unaltered, is created by running {@code ln -s} (GNU coreutils) and read back to check it.
 * Files are not synced to disk; a caller that needs durability syncs them.
 *
 * <p>Thread-safe: it keeps no state between calls.
 */
public final class NarRestorer {
    private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-r--r--");
    private static final Set<PosixFilePermission> EXECUTABLE_MODE = PosixFilePermissions.fromString("rwxr-xr-x");
    private static final FileAttribute<Set<PosixFilePermission>> FILE_ATTRIBUTE =
            PosixFilePermissions.asFileAttribute(FILE_MODE);
    private static final FileAttribute<Set<PosixFilePermission>> EXECUTABLE_ATTRIBUTE =
            PosixFilePermissions.asFileAttribute(EXECUTABLE_MODE);
    private static final Set<PosixFilePermission> READ_ONLY_MODE = PosixFilePermissions.fromString("r--r--r--");
    private static final Set<PosixFilePermission> READ_EXECUTE_MODE = PosixFilePermissions.fromString("r-xr-xr-x");
    private static final FileAttribute<Set<PosixFilePermission>> READ_ONLY_ATTRIBUTE =
            PosixFilePermissions.asFileAttribute(READ_ONLY_MODE);
    private static final FileAttribute<Set<PosixFilePermission>> READ_EXECUTE_ATTRIBUTE =
            PosixFilePermissions.asFileAttribute(READ_EXECUTE_MODE);
    private static final Set<OpenOption> NEW_FILE =
            Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, NOFOLLOW_LINKS);
    /** Keeps the temporary name within NAME_MAX whatever the target's name. */
    private static final int TEMP_NAME_CODE_POINTS = 32;

    private NarRestorer() {}

    /**
     * Reads one NAR from {@code nar} (exactly its bytes, as {@link NarReader#read} does) and creates it at
     * {@code target}, which must not exist and whose parent directory must. Returns the NAR's size.
     *
     * @param nar the stream holding the NAR, read exactly up to its end
     * @param target where to create the tree
     * @return the NAR's size in bytes
     * @throws NarFormatException if the NAR is malformed; nothing is left at the target
     * @throws NarRestoreException if the target exists, a name cannot be represented, or the file system
     *     fails; nothing is left at the target
     * @throws IOException if reading {@code nar} fails; nothing is left at the target
     */
    public static long restore(InputStream nar, Path target) throws IOException {
        return restore(nar, target, null);
    }

    /**
     * As {@link #restore(InputStream, Path)}, but leaves every entry as a store keeps it, set while the
     * entry is created rather than by a second walk: regular files {@code 0444}, executables and
     * directories {@code 0555} (a directory once its entries are in), and the modification time
     * {@code mtime} on every entry, symlinks included (the access time is left alone).
     *
     * @param nar the NAR, read exactly to its end
     * @param target where to create it; must not exist, its parent must
     * @param mtime the modification time of every entry
     * @return the NAR's size
     * @throws NarFormatException if the NAR is malformed; nothing is left at the target
     * @throws NarRestoreException if the target exists, a name cannot be represented, or the file system
     *     fails; nothing is left at the target
     * @throws IOException if reading {@code nar} fails; nothing is left at the target
     */
    public static long restoreReadOnly(InputStream nar, Path target, FileTime mtime) throws IOException {
        return restore(nar, target, Objects.requireNonNull(mtime, "mtime"));
    }

    /**
     * Copies the tree at {@code source} (a directory, regular file or symlink; symlinks never followed)
     * to {@code target} as {@link #restoreReadOnly} would restore its NAR, and hashes that NAR with
     * {@code digest} in the same pass: each file is read once, into a direct buffer that this thread
     * writes to the copy and a second thread then hashes (with the NAR's framing, in order), and no NAR is
     * written or parsed. The copy and the hash thus take about as long as the slower of the two rather
     * than their sum, and the hash is always that of the bytes copied. The tree is refused as
     * {@link NarDumper} refuses it (with the same {@link NarDumpException}s). The digest is reset first
     * and again on return.
     *
     * @param source the tree to copy
     * @param target where to create the copy; must not exist, its parent must
     * @param mtime the modification time of every entry of the copy
     * @param digest the NAR's hash function
     * @return the NAR's hash and size
     * @throws NarDumpException if the source cannot be archived exactly; nothing is left at the target
     * @throws NarRestoreException if the target exists, a name cannot be represented, or the file system
     *     fails; nothing is left at the target
     * @throws IOException if reading the source fails; nothing is left at the target
     */
    public static NarDigest copyReadOnly(Path source, Path target, FileTime mtime, MessageDigest digest)
            throws IOException {
        return copyReadOnly(source, target, mtime, digest, null);
    }

    /**
     * As {@link #copyReadOnly(Path, Path, FileTime, MessageDigest)}, telling {@code written} of each
     * regular file once its contents are written and closed (under its temporary name): a caller that
     * will sync the tree can start each file's write-back early.
     *
     * @param source the tree to copy
     * @param target where to create the copy; must not exist, its parent must
     * @param mtime the modification time of every entry of the copy
     * @param digest the NAR's hash function
     * @param written told of each regular file written, or null
     * @return the NAR's hash and size
     * @throws NarDumpException if the source cannot be archived exactly; nothing is left at the target
     * @throws NarRestoreException if the target exists, a name cannot be represented, or the file system
     *     fails; nothing is left at the target
     * @throws IOException if reading the source or {@code written} fails; nothing is left at the target
     */
    public static NarDigest copyReadOnly(Path source, Path target, FileTime mtime, MessageDigest digest,
            FileWritten written) throws IOException {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(digest, "digest");
        NarDigest[] result = new NarDigest[1];
        create(target, Objects.requireNonNull(mtime, "mtime"), written, restorer -> {
            result[0] = new NarDumper().mirror(source, digest, restorer);
            return result[0].narSize();
        });
        return result[0];
    }

    /** Restores with the usual writable modes ({@code mtime} null) or read-only ones and that mtime. */
    private static long restore(InputStream nar, Path target, FileTime mtime) throws IOException {
        Objects.requireNonNull(nar, "nar");
        return create(target, mtime, null, restorer -> NarReader.read(nar, restorer));
    }

    /** Told of each regular file a copy has written; see {@link #copyReadOnly(Path, Path, FileTime, MessageDigest, FileWritten)}. */
    @FunctionalInterface
    public interface FileWritten {
        /**
         * A regular file of the copy has been written and closed.
         *
         * @param file its path under the copy's temporary name
         * @param size its size in bytes
         * @throws IOException to stop the copy, which then leaves nothing at the target
         */
        void written(Path file, long size) throws IOException;
    }

    /** What feeds a {@link Restorer} the events of a tree, and returns the size of the tree's NAR. */
    @FunctionalInterface
    private interface Source {
        long feed(Restorer restorer) throws IOException;
    }

    /** Creates the tree {@code source} describes under a temporary name, then renames it to {@code target}. */
    private static long create(Path target, FileTime mtime, FileWritten written, Source source)
            throws IOException {
        Path absolute = target.toAbsolutePath();
        Path parent = absolute.getParent();
        if (parent == null) {
            throw new NarRestoreException(target, "cannot restore onto the root directory");
        }
        if (Files.exists(absolute, NOFOLLOW_LINKS)) {
            throw new NarRestoreException(target, "the restore target already exists");
        }
        if (!Files.isDirectory(parent)) { // the caller's own path: a symlink to a directory is fine here
            throw new NarRestoreException(target, "the parent directory of the restore target does not exist");
        }
        Path temp = parent.resolve(temporaryName(absolute.getFileName().toString()));
        Restorer restorer = new Restorer(temp, target, mtime, written);
        try {
            long size = source.feed(restorer);
            try {
                // Without REPLACE_EXISTING the move refuses a target that appeared meanwhile.
                Files.move(temp, absolute);
            } catch (FileAlreadyExistsException e) {
                throw new NarRestoreException(target, "the restore target appeared during the restore", e);
            }
            return size;
        } catch (IOException | RuntimeException | Error e) {
            restorer.deleteTemporary(e);
            throw e;
        }
    }

    /**
     * Creates a symlink whose target {@link Path#of} would alter: it drops repeated and trailing slashes
     * ({@code a//b}, {@code dir/}), and the JDK has no other way to call symlink(2). GNU {@code ln} makes
     * it instead, and reading the link back checks that it holds exactly {@code bytes}.
     */
    private static void symlinkWithLn(Path link, String target, byte[] bytes) throws IOException {
        String linkText = link.toString();
        if (!Path.of(linkText).equals(link)) {
            throw new IOException("its path cannot be passed exactly to ln");
        }
        // -T: never take an existing directory at the link's path as the place to create the link in.
        Process ln = new ProcessBuilder("ln", "-s", "-T", "--", target, linkText).redirectErrorStream(true).start();
        ln.getOutputStream().close();
        String output;
        try (InputStream messages = ln.getInputStream()) {
            output = new String(messages.readAllBytes(), Charset.defaultCharset()).strip();
        }
        try {
            if (ln.waitFor() != 0) {
                throw new IOException("ln -s failed: " + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for ln -s");
        }
        byte[] made = FileNames.targetBytes(Files.readSymbolicLink(link));
        if (!Arrays.equals(made, bytes)) {
            throw new IOException("ln -s made a symlink to " + (made == null ? "another target" : NarGrammar.quote(made)));
        }
    }

    private static String temporaryName(String name) {
        int kept = Math.min(TEMP_NAME_CODE_POINTS, name.codePointCount(0, name.length()));
        String prefix = name.substring(0, name.offsetByCodePoints(0, kept));
        return "." + prefix + ".granary-tmp-" + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
    }

    /** Creates the NAR's objects as the reader reports them. */
    private static final class Restorer implements NarDumper.Mirror {
        private final Path temp;
        private final Path target;
        private final CharsetDecoder decoder = FileNames.strictDecoder();
        /** The directories being filled, innermost first. */
        private final ArrayDeque<Path> directories = new ArrayDeque<>();
        private final byte[] buffer = new byte[64 * 1024];
        /** Where the next node goes: the temporary root first, then the path of each entry. */
        private Path next;
        private boolean modeChecked;
        /** Whether the umask strips bits from the modes asked for, which must then be set explicitly. */
        private boolean setModes;
        /** The mtime of every entry, read-only modes; or null for writable modes and the times as they come. */
        private final FileTime mtime;

        /** Told of each regular file written, or null. */
        private final FileWritten written;

        Restorer(Path temp, Path target, FileTime mtime, FileWritten written) {
            this.temp = temp;
            this.target = target;
            this.next = temp;
            this.mtime = mtime;
            this.written = written;
        }

        @Override
        public void regular(boolean executable, long size, InputStream contents) throws IOException {
            Path path = takeNext();
            try (FileChannel file = newFile(path, executable)) {
                int n;
                while ((n = contents.read(buffer)) != -1) {
                    write(file, ByteBuffer.wrap(buffer, 0, n), path);
                }
            }
            finishFile(path, executable, size);
        }

        @Override
        public void regular(boolean executable, long size, NarDumper.Chunks contents) throws IOException {
            Path path = takeNext();
            try (FileChannel file = newFile(path, executable)) {
                for (ByteBuffer chunk = contents.next(); chunk != null; chunk = contents.next()) {
                    write(file, chunk, path);
                }
            }
            finishFile(path, executable, size);
        }

        /** Creates a regular file, read-only if this restore makes store modes (its descriptor writes all the same). */
        private FileChannel newFile(Path path, boolean executable) throws IOException {
            FileAttribute<Set<PosixFilePermission>> created;
            if (mtime == null) {
                created = executable ? EXECUTABLE_ATTRIBUTE : FILE_ATTRIBUTE;
            } else {
                created = executable ? READ_EXECUTE_ATTRIBUTE : READ_ONLY_ATTRIBUTE;
            }
            try {
                return FileChannel.open(path, NEW_FILE, created);
            } catch (IOException e) {
                throw failed(path, "cannot create the file", e);
            }
        }

        private void write(FileChannel file, ByteBuffer bytes, Path path) throws IOException {
            try {
                while (bytes.hasRemaining()) {
                    file.write(bytes);
                }
            } catch (IOException e) {
                throw failed(path, "cannot write the file", e);
            }
        }

        /** Gives a regular file, written and closed, its mode and time, and tells {@code written} of it. */
        private void finishFile(Path path, boolean executable, long size) throws IOException {
            Set<PosixFilePermission> mode;
            if (mtime == null) {
                mode = executable ? EXECUTABLE_MODE : FILE_MODE;
            } else {
                mode = executable ? READ_EXECUTE_MODE : READ_ONLY_MODE;
            }
            applyMode(path, mode);
            applyTime(path);
            if (written != null) {
                written.written(path, size);
            }
        }

        @Override
        public void symlink(byte[] target) throws IOException {
            Path path = takeNext();
            String text = FileNames.decode(target, decoder);
            if (text == null) {
                throw new NarRestoreException(shown(path), "symlink target " + NarGrammar.quote(target) + " "
                        + FileNames.advice());
            }
            Path link = Path.of(text);
            try {
                if (link.toString().equals(text)) {
                    Files.createSymbolicLink(path, link);
                } else {
                    symlinkWithLn(path, text, target);
                }
            } catch (IOException e) {
                throw failed(path, "cannot create the symlink to " + NarGrammar.quote(target), e);
            }
            applyTime(path);
        }

        @Override
        public void directoryStart() throws IOException {
            Path path = takeNext();
            try {
                Files.createDirectory(path, EXECUTABLE_ATTRIBUTE);
            } catch (IOException e) {
                throw failed(path, "cannot create the directory", e);
            }
            applyMode(path, EXECUTABLE_MODE);
            directories.push(path);
        }

        @Override
        public void entry(byte[] name) throws IOException {
            Path directory = directories.element();
            String text = FileNames.decode(name, decoder);
            if (text == null) {
                throw new NarRestoreException(shown(directory), "entry name " + NarGrammar.quote(name) + " "
                        + FileNames.advice());
            }
            // The reader admits only names of 1-255 bytes without "/" or NUL, other than "." and "..", and
            // text encodes back to exactly those bytes: one new element inside this directory.
            next = directory.resolve(text);
        }

        @Override
        public void directoryEnd() throws IOException {
            Path directory = directories.pop();
            if (mtime != null) {
                // Only now: the entries needed a writable directory, and each one changed its mtime.
                try {
                    Files.getFileAttributeView(directory, PosixFileAttributeView.class, NOFOLLOW_LINKS)
                            .setPermissions(READ_EXECUTE_MODE);
                } catch (IOException e) {
                    throw failed(directory, "cannot set the mode", e);
                }
                applyTime(directory);
            }
        }

        private Path takeNext() {
            Path path = next;
            next = null;
            return path;
        }

        /**
         * Creation modes pass through the umask. The root is created first, and a directory's 0755 holds
         * every bit of 0644, so checking the root tells whether any mode needs setting explicitly.
         */
        private void applyMode(Path path, Set<PosixFilePermission> mode) throws IOException {
            try {
                PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class, NOFOLLOW_LINKS);
                if (!modeChecked) {
                    modeChecked = true;
                    setModes = !view.readAttributes().permissions().equals(mode);
                }
                if (setModes) {
                    view.setPermissions(mode);
                }
            } catch (IOException e) {
                throw failed(path, "cannot set the mode", e);
            }
        }

        /** Sets the entry's mtime (never following a symlink), if this restore sets times. */
        private void applyTime(Path path) throws IOException {
            if (mtime != null) {
                try {
                    Files.getFileAttributeView(path, BasicFileAttributeView.class, NOFOLLOW_LINKS)
                            .setTimes(mtime, null, null);
                } catch (IOException e) {
                    throw failed(path, "cannot set the modification time", e);
                }
            }
        }

        /** A path under the temporary root, shown as where it would be under the target. */
        private Path shown(Path path) {
            return target.resolve(temp.relativize(path));
        }

        private NarRestoreException failed(Path path, String what, IOException cause) {
            return new NarRestoreException(shown(path), what + " (" + cause + ")", cause);
        }

        /** Deletes whatever was created, never following a symlink; failures are added to {@code error}. */
        void deleteTemporary(Throwable error) {
            FileTrees.deleteTree(temp, error);
        }
    }
}
