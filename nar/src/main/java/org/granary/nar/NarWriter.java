package org.granary.nar;

import static org.granary.nar.NarGrammar.END;
import static org.granary.nar.NarGrammar.ZEROS;
import static org.granary.nar.NarGrammar.padding;
import static org.granary.nar.NarGrammar.quote;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.util.Objects;

/**
 * Writes a NAR node by node, so that only valid NARs come out. {@link #begin} returns the root
 * {@link Node}; each node is used exactly once, as a regular file, a symlink or a directory; a
 * {@link Directory} hands out one node per entry, in strictly increasing unsigned byte order of the
 * names, each only after the previous entry's node is complete. Misuse throws
 * {@link IllegalStateException} (a handle used out of turn) or {@link IllegalArgumentException} (an
 * invalid name, target or order) before anything is written.
 *
 * <pre>{@code
 * NarWriter.Directory dir = NarWriter.begin(out).directory();
 * try (OutputStream file = dir.entry(name).regular(false, size)) { file.write(bytes); }
 * dir.entry(otherName).symlink(target);
 * dir.close();
 * }</pre>
 *
 * <p>Output is buffered; all of it has been written to {@code out} once the root node is complete.
 * {@code out} is never flushed or closed. After an exception from {@code out} the NAR is incomplete and
 * the writer should be abandoned. Not thread-safe: one thread writes one NAR.
 */
public final class NarWriter {
    private static final int BUFFER_SIZE = 8192;

    private final NarSink sink;

    private NarWriter(NarSink sink) {
        this.sink = sink;
    }

    /**
     * Starts a NAR on {@code out} (the magic, buffered like everything after it) and returns the root
     * node, which must then be used once.
     *
     * @param out the stream the NAR is written to (not closed)
     * @return the root node
     * @throws IOException if {@code out} fails
     */
    public static Node begin(OutputStream out) throws IOException {
        return begin(new NarSink(new byte[BUFFER_SIZE], Objects.requireNonNull(out, "out"), null));
    }

    /** As {@link #begin(OutputStream)}, into a sink the caller set up (the dumper's shared buffer). */
    static Node begin(NarSink sink) throws IOException {
        sink.write(NarGrammar.BEGIN_NODE);
        return new NarWriter(sink).new Node(true);
    }

    private void writeString(byte[] s) throws IOException {
        sink.writeLong(s.length);
        sink.write(s);
        sink.write(ZEROS, 0, padding(s.length));
    }

    /**
     * A place in the NAR for one file-system object: use it exactly once, by calling one of its methods.
     * Not thread-safe.
     */
    public final class Node {
        /** The root, rather than the node of a directory entry. */
        private final boolean root;
        private boolean used;
        private boolean complete;

        private Node(boolean root) {
            this.root = root;
        }

        /**
         * Makes this node a regular file of {@code size} bytes and returns the stream for its contents: it
         * must receive exactly {@code size} bytes, and its {@code close()} completes the node.
         *
         * @param executable whether the file is executable
         * @param size the file's length in bytes
         * @return the stream of the file's contents
         * @throws IllegalArgumentException if {@code size} is negative
         * @throws IllegalStateException if the node was already used
         * @throws IOException if the underlying stream fails
         */
        public OutputStream regular(boolean executable, long size) throws IOException {
            return contents(executable, size);
        }

        /** {@link #regular}, typed for the dumper, which fills the contents from a channel. */
        Contents contents(boolean executable, long size) throws IOException {
            if (size < 0) {
                throw new IllegalArgumentException("negative file size " + size);
            }
            use();
            sink.write(executable ? NarGrammar.EXECUTABLE_CONTENTS : NarGrammar.REGULAR_CONTENTS);
            sink.writeLong(size);
            return new Contents(this, size);
        }

        /**
         * Makes this node a symlink to {@code target} (1 to 4095 bytes, no NUL; written as is) and
         * completes it.
         *
         * @param target the link's target
         * @throws IllegalArgumentException if the target is invalid
         * @throws IllegalStateException if the node was already used
         * @throws IOException if the underlying stream fails
         */
        public void symlink(byte[] target) throws IOException {
            String rule = NarGrammar.targetRule(target, 0, target.length);
            if (rule != null) {
                throw new IllegalArgumentException("invalid symlink target " + quote(target) + ": expected " + rule);
            }
            use();
            sink.write(NarGrammar.SYMLINK_TARGET);
            writeString(target);
            complete();
        }

        /**
         * Makes this node a directory and returns it; the node is complete when the directory is closed.
         *
         * @return the directory
         * @throws IllegalStateException if the node was already used
         * @throws IOException if the underlying stream fails
         */
        public Directory directory() throws IOException {
            use();
            sink.write(NarGrammar.DIRECTORY_BODY);
            return new Directory(this);
        }

        private void use() {
            if (used) {
                throw new IllegalStateException("NAR node already used");
            }
            used = true;
        }

        private void complete() throws IOException {
            sink.write(END);
            complete = true;
            if (root) {
                sink.drain();
            } else {
                sink.write(END); // closes the entry that holds this node
            }
        }
    }

    /**
     * A directory node being written: entries in strictly increasing unsigned byte order of their names,
     * then {@link #close()}. Not thread-safe.
     */
    public final class Directory {
        private final Node node;
        private byte[] lastName = new byte[0];
        private Node lastEntry;
        private boolean closed;

        private Directory(Node node) {
            this.node = node;
        }

        /**
         * Starts an entry and returns its node, which must be used (and completed) before the next entry
         * or the end of the directory.
         *
         * @param name 1 to 255 bytes, not {@code .} or {@code ..}, without {@code /} or NUL, sorting
         *     strictly after the previous entry's name (unsigned bytes); written as is
         * @return the entry's node
         * @throws IllegalArgumentException if the name is invalid or out of order
         * @throws IllegalStateException if the directory is closed or the previous entry is incomplete
         * @throws IOException if the underlying stream fails
         */
        public Node entry(byte[] name) throws IOException {
            checkWritable();
            String rule = NarGrammar.nameRule(name, 0, name.length);
            if (rule != null) {
                throw new IllegalArgumentException("invalid entry name " + quote(name) + ": expected " + rule);
            }
            if (NarGrammar.compare(lastName, lastName.length, name, name.length) >= 0) {
                throw new IllegalArgumentException("entry " + quote(name) + " does not sort after the previous entry "
                        + quote(lastName) + " (unsigned byte order, no duplicates)");
            }
            lastName = name.clone();
            sink.write(NarGrammar.ENTRY_NAME);
            writeString(name);
            sink.write(NarGrammar.NODE_TYPE);
            lastEntry = new Node(false);
            return lastEntry;
        }

        /**
         * Ends the directory, which completes its node.
         *
         * @throws IllegalStateException if already closed or the last entry is incomplete
         * @throws IOException if the underlying stream fails
         */
        public void close() throws IOException {
            checkWritable();
            closed = true;
            node.complete();
        }

        private void checkWritable() {
            if (closed) {
                throw new IllegalStateException("NAR directory already closed");
            }
            if (lastEntry != null && !lastEntry.complete) {
                throw new IllegalStateException("the NAR entry " + quote(lastName) + " is not complete");
            }
        }
    }

    /** The contents of a regular file: counts the bytes and completes the node on close. */
    final class Contents extends OutputStream {
        private final Node node;
        private final long size;
        private long remaining;
        private boolean closed;

        private Contents(Node node, long size) {
            this.node = node;
            this.size = size;
            this.remaining = size;
        }

        @Override
        public void write(int b) throws IOException {
            reserve(1);
            sink.write(b);
            remaining--;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            reserve(len);
            sink.write(b, off, len);
            remaining -= len;
        }

        /**
         * Reads contents from {@code channel} straight into the writer's buffer: at most the bytes still
         * due, and returns how many were read or -1 at the end of the channel.
         */
        int readFrom(ReadableByteChannel channel) throws IOException {
            reserve(0);
            int n = sink.readFrom(channel, remaining);
            if (n > 0) {
                remaining -= n;
            }
            return n;
        }

        /**
         * Reads contents from {@code channel} into the buffer of a sink that {@linkplain NarSink#copying
         * copies}, at most the bytes still due, and returns those read as a read-only view valid until the
         * next write to this writer; or null at the end of the channel.
         */
        ByteBuffer readChunk(ReadableByteChannel channel) throws IOException {
            reserve(0);
            ByteBuffer read = sink.readContents(channel, remaining);
            if (read != null) {
                remaining -= read.remaining();
            }
            return read;
        }

        /**
         * Whether {@link #transferFrom} may be used: the NAR goes to a channel and through no digest.
         */
        boolean canTransfer() {
            return sink.canTransfer();
        }

        /**
         * Sends contents from {@code file}, starting at {@code position}, to the output channel in the
         * kernel: at most the bytes still due; returns how many were sent (0 at the end of the file).
         * Only when {@link #canTransfer()}.
         */
        long transferFrom(FileChannel file, long position) throws IOException {
            reserve(0);
            long n = sink.transferFrom(file, position, remaining);
            remaining -= n;
            return n;
        }

        /** The number of bytes still due. */
        long remaining() {
            return remaining;
        }

        /**
         * Writes the padding and completes the node; closing again has no effect.
         *
         * @throws IllegalStateException if fewer bytes than the declared size were written
         */
        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            if (remaining != 0) {
                throw new IllegalStateException("regular file declared as " + size + " bytes but only "
                        + (size - remaining) + " were written");
            }
            closed = true;
            sink.write(ZEROS, 0, padding(size));
            node.complete();
        }

        private void reserve(long len) {
            if (closed) {
                throw new IllegalStateException("contents stream already closed");
            }
            if (len > remaining) {
                throw new IllegalStateException("regular file declared as " + size + " bytes but "
                        + (size - remaining + len) + " were written");
            }
        }
    }
}
