package org.granary.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The reserved-space file {@code db/reserved} in the state dir: disk space held back so that the
 * collector can still run (and the database still be written) on a full disk. It is filled with zeros
 * written for real, not {@code fallocate}d or left sparse, so that the blocks are truly allocated; the
 * collector removes it to gain that space before it starts.
 *
 * <p>Immutable; safe to share between threads. Two threads or processes ensuring the file at once both
 * end with a file of the right size.
 */
public final class ReservedSpace {
    /** The default size, as the daemon's {@code gc-reserved-space}: 8 MiB. */
    public static final long DEFAULT_SIZE = 8L * 1024 * 1024;

    private static final int CHUNK = 64 * 1024;

    private final Path file;
    private final long size;

    /**
     * Describes the reserved file of a state dir.
     *
     * @param stateDir the state dir, such as {@code /var/guix}
     * @param size the size to reserve in bytes, at least 0
     * @throws IllegalArgumentException if {@code size} is negative
     */
    public ReservedSpace(Path stateDir, long size) {
        if (size < 0) {
            throw new IllegalArgumentException("reserved size " + size + " is negative");
        }
        this.file = stateDir.resolve("db").resolve("reserved");
        this.size = size;
    }

    /**
     * The reserved file.
     *
     * @return {@code <stateDir>/db/reserved}
     */
    public Path file() {
        return file;
    }

    /**
     * Creates the file (and {@code db/}) if missing or shorter than the size, writing zeros and syncing
     * them; a larger file is left as it is.
     *
     * @throws IOException if the file cannot be written, for example because the disk is full (the
     *     part written stays)
     */
    public void ensure() throws IOException {
        Files.createDirectories(file.getParent());
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            long position = channel.size();
            if (position >= size) {
                return;
            }
            ByteBuffer zeros = ByteBuffer.allocate(CHUNK);
            while (position < size) {
                zeros.clear().limit((int) Math.min(CHUNK, size - position));
                while (zeros.hasRemaining()) {
                    position += channel.write(zeros, position);
                }
            }
            channel.force(true);
        }
    }

    /**
     * Removes the file, freeing its space.
     *
     * @return whether there was a file to remove
     * @throws IOException if it cannot be removed
     */
    public boolean release() throws IOException {
        return Files.deleteIfExists(file);
    }
}
