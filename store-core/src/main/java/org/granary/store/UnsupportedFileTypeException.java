package org.granary.store;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A store item holds a file that is neither a regular file, a directory nor a symlink (a FIFO, a socket,
 * a device): the NAR format cannot represent it, so the item cannot become valid. The message is
 * Guix's: {@code file `P' has an unsupported type (fifo)}.
 *
 * <p>Immutable once thrown; safe to pass between threads.
 */
public class UnsupportedFileTypeException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path path;
    /** The kind of file found. */
    private final String type;

    /**
     * Creates the exception.
     *
     * @param path the file at fault
     * @param type what it is, such as {@code fifo}, {@code socket}, {@code character device}
     */
    public UnsupportedFileTypeException(Path path, String type) {
        super("file `" + path + "' has an unsupported type (" + type + ")");
        this.path = path;
        this.type = type;
    }

    /** {@return the file at fault} */
    public Path path() {
        return path;
    }

    /** {@return what the file is, such as {@code fifo}} */
    public String type() {
        return type;
    }
}
