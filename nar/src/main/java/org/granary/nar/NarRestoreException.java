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

    /**
     * {@code problem} completes the message {@code path + ": " + problem}.
     *
     * @param path the path that cannot be created or written
     * @param problem what went wrong
     */
    public NarRestoreException(Path path, String problem) {
        this(path, problem, null);
    }

    /**
     * As {@link #NarRestoreException(Path, String)}, with the I/O failure that caused it.
     *
     * @param path the path that cannot be created or written
     * @param problem what went wrong
     * @param cause the I/O failure
     */
    public NarRestoreException(Path path, String problem, Throwable cause) {
        super(path + ": " + problem, cause);
        this.path = path;
    }

    /** {@return the path the restore could not create or write (or the target itself)} */
    public Path path() {
        return path;
    }
}
