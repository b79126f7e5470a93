package org.granary.verify;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.granary.store.NativeLibraries;

/**
 * Puts a new copy of a store item in place of the old one so that the item's path always names a whole
 * item: Linux's {@code renameat2(RENAME_EXCHANGE)} through a small JNI library built with Granary
 * ({@code src/main/c/granary_exchange.c}) swaps the two names in one step; afterwards the old copy is at
 * the new copy's temporary name, for the caller to delete.
 *
 * <p>Without the library (not built, another platform, {@code granary.exchange=rename} set) or on a file
 * system that refuses the call, a non-directory item is still replaced atomically by {@code rename(2)}
 * (which replaces a file or symlink in one step), but a directory cannot be: it is then moved aside to
 * the temporary name and the new copy renamed into place, two renames with a window of microseconds
 * between them in which the path is absent (the Guix daemon's {@code replaceValidPath} has the same
 * window). A crash inside that window leaves the item missing with its old copy at the temporary name:
 * the next verify reports it missing (and repairs it again). {@link #available()} says which applies.
 *
 * <p>Stateless; safe to call from any thread.
 */
final class AtomicExchange {
    private static final boolean AVAILABLE = loadLibrary();

    private AtomicExchange() {
    }

    /**
     * Whether the native exchange can be used in this JVM.
     *
     * @return true when {@code renameat2(RENAME_EXCHANGE)} is reachable
     */
    static boolean available() {
        return AVAILABLE;
    }

    /**
     * Puts {@code replacement} at {@code target}'s name and the old {@code target} at {@code replacement}'s
     * name. Both must exist, in the same directory.
     *
     * @param target the entry to replace, such as a store item
     * @param replacement its new copy
     * @return true if the swap was one atomic step, false if the two-rename fallback ran (a directory
     *     without the native call)
     * @throws IOException if neither way worked; both entries are then as they were, unless the fallback's
     *     second rename failed, when the old copy is at {@code replacement} and nothing at {@code target}
     */
    static boolean exchange(Path target, Path replacement) throws IOException {
        if (AVAILABLE) {
            int error = exchange(NativeLibraries.pathBytes(target), NativeLibraries.pathBytes(replacement));
            if (error == 0) {
                return true;
            }
            // ENOSYS (old kernel), EINVAL (a file system without RENAME_EXCHANGE): fall back below.
            if (error != 38 && error != 22) {
                throw new FileSystemException(target.toString(), replacement.toString(),
                    "cannot exchange: " + describe(error));
            }
        }
        if (!Files.isDirectory(target, NOFOLLOW_LINKS) && !Files.isDirectory(replacement, NOFOLLOW_LINKS)) {
            // rename(2) replaces a non-directory in one step; the old copy is then simply gone, as after a swap and delete.
            Files.move(replacement, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return true;
        }
        Path aside = replacement.resolveSibling(replacement.getFileName() + "-old");
        Files.move(target, aside, StandardCopyOption.ATOMIC_MOVE);
        Files.move(replacement, target, StandardCopyOption.ATOMIC_MOVE);
        Files.move(aside, replacement, StandardCopyOption.ATOMIC_MOVE);
        return false;
    }

    /** Loads the JNI library ({@link NativeLibraries}); any failure means "not available". */
    private static boolean loadLibrary() {
        return !"rename".equals(System.getProperty("granary.exchange"))
            && NativeLibraries.load(AtomicExchange.class, "native/libgranary-exchange.so", AtomicExchange::load);
    }

    private static native boolean load();

    private static native int exchange(byte[] first, byte[] second);

    private static native String describe(int error);
}
