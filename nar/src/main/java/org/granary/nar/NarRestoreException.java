package org.granary.nar;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A restore refused or failed for a reason other than the NAR's format (which is a
 * {@link NarFormatException}): the target exists, a name or symlink target cannot be represented exactly
 * on this JVM, or the file system failed; the message is {@code PATH: problem}. Immutable, so safe to
 * share between threads.
 */
public class NarRestoreException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path path;

    /** {@code problem} completes the message {@code path + ": " + problem}. */
    public NarRestoreException(Path path, String problem) {
        this(path, problem, null);
    }

    /** As {@link #NarRestoreException(Path, String)}, with the I/O failure that caused it. */
    public NarRestoreException(Path path, String problem, Throwable cause) {
        super(path + ": " + problem, cause);
        this.path = path;
    }

    /** The path the restore could not create or write (or the target itself). */
    public Path path() {
        return path;
    }
}
