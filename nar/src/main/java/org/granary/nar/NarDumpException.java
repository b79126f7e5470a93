package org.granary.nar;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file tree that cannot be turned into a NAR, naming the file: a socket, FIFO or device, a name or
 * symlink target the JVM cannot represent exactly, a file that changed while it was being archived.
 * The message is {@code PATH: problem}. Immutable, so safe to share between threads.
 */
public class NarDumpException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path path;

    /**
     * {@code problem} completes the message {@code path + ": " + problem}.
     *
     * @param path the file that cannot be archived
     * @param problem what is wrong with it
     */
    public NarDumpException(Path path, String problem) {
        super(path + ": " + problem);
        this.path = path;
    }

    /**
     * Creates the exception.
     *
     * @param path the file that could not be archived
     * @param problem completes the message {@code path + ": " + problem}
     * @param cause the failure beneath
     */
    public NarDumpException(Path path, String problem, Throwable cause) {
        super(path + ": " + problem, cause);
        this.path = path;
    }

    /** {@return the file that could not be archived} */
    public Path path() {
        return path;
    }
}
