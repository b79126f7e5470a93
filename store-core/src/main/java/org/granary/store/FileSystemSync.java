package org.granary.store;

import java.io.IOException;
import java.nio.file.Path;

/**
 * {@code syncfs(2)} through a small JNI library built with Granary ({@code src/main/c/granary_fs.c}):
 * one call writes back every dirty file and directory of a file system and commits its journal. Making
 * a fresh tree of N entries durable by N {@code fsync}s costs N journal commits and cache flushes on
 * ext4 (even grouped, 32 at a time, they dominated adding a 53,588-entry tree); one {@code syncfs} pays
 * for one. Its cost is that it also flushes what other processes wrote to that file system.
 *
 * <p>Used only where it reports write-back errors: Linux 5.8 and later (before, {@code syncfs} returned 0
 * even when writing back failed, so a full or failing disk would go unnoticed). Optional like
 * {@link OpenSslDigest}: when the library was not built or cannot be loaded, on an older kernel, or with
 * the system property {@code granary.syncfs=false}, {@link #available()} is false and callers fsync file
 * by file. Stateless; safe to call from any thread.
 */
final class FileSystemSync {
    private static final boolean AVAILABLE = loadLibrary();

    private FileSystemSync() {
    }

    /** Whether {@link #syncFileSystemOf} can be used in this JVM. */
    static boolean available() {
        return AVAILABLE;
    }

    /**
     * Flushes the whole file system that holds {@code directory} to stable storage.
     *
     * @param directory a directory, not a symlink to one
     * @throws IOException naming the directory and the error, if it cannot be opened or the flush fails
     * @throws IllegalStateException if the library is not {@link #available()}
     */
    static void syncFileSystemOf(Path directory) throws IOException {
        if (!AVAILABLE) {
            throw new IllegalStateException("syncfs is not available in this JVM");
        }
        int errno = syncfs(NativeLibraries.pathBytes(directory));
        if (errno != 0) {
            throw new IOException("syncfs of the file system of " + directory + " failed: errno " + errno
                    + (errno == 5 ? " (EIO)" : errno == 28 ? " (ENOSPC)" : ""));
        }
    }

    /**
     * Starts writing the dirty pages of a regular file back to the disk and returns without waiting, so
     * that the disk works while the rest of a tree is copied and the {@link #syncFileSystemOf} at the end
     * has less left to write. Only a hint: durability still comes from that sync.
     *
     * @param file a regular file, not a symlink
     * @throws IOException naming the file and the error, if it cannot be opened or the call fails
     * @throws IllegalStateException if the library is not {@link #available()}
     */
    static void startWriteback(Path file) throws IOException {
        if (!AVAILABLE) {
            throw new IllegalStateException("syncfs is not available in this JVM");
        }
        int errno = startWriteback(NativeLibraries.pathBytes(file));
        if (errno != 0) {
            throw new IOException("sync_file_range of " + file + " failed: errno " + errno);
        }
    }

    private static boolean loadLibrary() {
        if ("false".equals(System.getProperty("granary.syncfs")) || !reportsWritebackErrors()) {
            return false;
        }
        return NativeLibraries.load(FileSystemSync.class, "native/libgranary-fs.so");
    }

    /** Linux 5.8 or later: syncfs returns the write-back errors of the file system since the fd was opened. */
    static boolean reportsWritebackErrors() {
        if (!"Linux".equals(System.getProperty("os.name"))) {
            return false;
        }
        String[] version = System.getProperty("os.version", "").split("[.-]");
        try {
            int major = Integer.parseInt(version[0]);
            int minor = version.length > 1 ? Integer.parseInt(version[1]) : 0;
            return major > 5 || major == 5 && minor >= 8;
        } catch (NumberFormatException e) {
            return false; // an unknown kernel: keep the per-file fsyncs
        }
    }

    private static native int syncfs(byte[] path);

    private static native int startWriteback(byte[] path);
}
