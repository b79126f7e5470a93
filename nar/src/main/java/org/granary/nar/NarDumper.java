package org.granary.nar;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Objects;
import java.util.Set;

/**
 * Serialises a file tree (a directory, a regular file or a symlink at the top) as a NAR, streaming: file
 * contents pass through one reused buffer (128 KiB) on their way to the output and the digest, so memory
 * does not grow with file sizes, and the tree is walked with an explicit stack, so any depth works.
 *
 * <p>The NAR is the one Nix and Guix write: directory entries in unsigned byte order of their names, a
 * regular file executable iff its owner-execute bit is set, symlinks never followed (their targets
 * recorded as is), names and targets as their exact bytes. Refused with {@link NarDumpException} naming
 * the file: sockets, FIFOs and devices; a name or target the JVM cannot represent exactly (see the
 * package documentation); a regular file whose size changes while it is read; an error while reading a
 * file's contents (such as EIO), with the JDK's exception as the cause. Other I/O failures (opening a
 * file, listing a directory) propagate as they are; the JDK's exceptions for those name the file. After any exception the output holds a
 * prefix of a NAR only.
 *
 * <p>Not thread-safe (it holds the buffer); cheap to create, so use one per thread.
 */
public final class NarDumper {
    /**
     * Measured on a 1 GB tree: 128 KiB hashes as fast as 256 KiB once the JIT is warm and about 2% faster
     * in a fresh JVM (the buffer and the JDK's temporary direct buffer stay in L2); 1 MiB is 5% slower.
     */
    private static final int BUFFER_SIZE = 128 * 1024;
    private static final Set<OpenOption> READ_NO_FOLLOW = Set.of(StandardOpenOption.READ, NOFOLLOW_LINKS);

    private final byte[] buffer;
    /** Hashes on a second thread for NARs larger than the buffer; kept for its buffers. */
    private final DigestPipeline pipeline = new DigestPipeline();
    /** Hashes a {@link #mirror}'s NAR on a second thread, from direct buffers; created at its first use. */
    private DigestPipeline copyPipeline;
    /** During {@link #mirror}: what receives the tree's events as they are dumped; otherwise null. */
    private Mirror mirror;
    /** File contents on their way to the digest in {@link #digestInline}; allocated at its first use. */
    private ByteBuffer direct;

    /** A dumper with its own 128 KiB buffer. */
    public NarDumper() {
        this(BUFFER_SIZE);
    }

    /** With a smaller buffer, tests reach the buffer boundaries with small files. */
    NarDumper(int bufferSize) {
        this.buffer = new byte[bufferSize];
    }

    /**
     * Writes the NAR of {@code root} to {@code out} (not flushed, not closed) and returns its size.
     *
     * @param root the tree, file or symlink to archive (a symlink is not followed)
     * @param out where the NAR goes
     * @return the NAR's size in bytes
     * @throws NarDumpException if the tree cannot be archived exactly
     * @throws IOException if reading the tree or writing {@code out} fails
     */
    public long dump(Path root, OutputStream out) throws IOException {
        return write(root, new NarSink(buffer, Objects.requireNonNull(out, "out"), null));
    }

    /**
     * Writes the NAR of {@code root} to {@code out} (not closed) and returns its size. File contents go
     * from file to channel in the kernel where it can ({@link FileChannel#transferTo}: to a file, a pipe
     * or a socket), without passing through this JVM.
     *
     * @param root the tree, file or symlink to archive (a symlink is not followed)
     * @param out where the NAR goes
     * @return the NAR's size in bytes
     * @throws NarDumpException if the tree cannot be archived exactly
     * @throws IOException if reading the tree or writing {@code out} fails
     */
    public long dump(Path root, WritableByteChannel out) throws IOException {
        return write(root, new NarSink(buffer, null, Objects.requireNonNull(out, "out"), null, null));
    }

    /**
     * Writes the NAR of {@code root} to {@code out} (which may be {@link OutputStream#nullOutputStream()};
     * not flushed, not closed) and hashes it with {@code digest} in the same pass. The digest is reset
     * first and is reset again when this returns.
     *
     * @param root the tree, file or symlink to archive (a symlink is not followed)
     * @param out where the NAR goes
     * @param digest the hash to compute, for example SHA-256
     * @return the NAR's hash and size
     * @throws NarDumpException if the tree cannot be archived exactly
     * @throws IOException if reading the tree or writing {@code out} fails
     */
    public NarDigest dump(Path root, OutputStream out, MessageDigest digest) throws IOException {
        return digest(root, Objects.requireNonNull(out, "out"), digest);
    }

    /**
     * The NAR hash and size of {@code root}, without writing the NAR anywhere: the fastest path, each
     * byte of file contents is copied once, from the file into the buffer the digest reads, and a NAR
     * larger than that buffer is hashed on a second thread while this one reads on. The digest is reset
     * first and is reset again when this returns.
     *
     * @param root the tree, file or symlink to hash (a symlink is not followed)
     * @param digest the hash to compute, for example SHA-256
     * @return the NAR's hash and size
     * @throws NarDumpException if the tree cannot be archived exactly
     * @throws IOException if reading the tree fails
     */
    public NarDigest digest(Path root, MessageDigest digest) throws IOException {
        return digest(root, null, digest);
    }

    /**
     * Hashes the NAR of {@code root} and, in the same pass, gives {@code visitor} the events a
     * {@link NarReader} would give for that NAR, with each regular file's contents read from the file
     * once, into a direct buffer that the visitor writes out and a second thread then hashes. Used to copy
     * a tree while hashing it, without writing the NAR anywhere: the walk, the reads and the copy's writes
     * on this thread, SHA-256 on the other.
     */
    NarDigest mirror(Path root, MessageDigest digest, Mirror visitor) throws IOException {
        mirror = Objects.requireNonNull(visitor, "visitor");
        if (copyPipeline == null) {
            copyPipeline = new DigestPipeline(true, DigestPipeline.COPY_BUFFERS);
        }
        try {
            return hash(root, NarSink.copying(buffer, digest, copyPipeline), digest);
        } finally {
            mirror = null;
        }
    }

    /** What {@link #mirror} gives a tree's events to: a {@link NarVisitor} that takes file contents as buffers. */
    interface Mirror extends NarVisitor {
        /**
         * A regular file of {@code size} bytes, given this way instead of as a stream
         * ({@link NarVisitor#regular(boolean, long, java.io.InputStream)}): the visitor must take every
         * buffer {@code contents} gives, until null.
         *
         * @param executable whether the file is executable
         * @param size its size
         * @param contents its bytes, in order
         * @throws IOException to stop the walk
         */
        void regular(boolean executable, long size, Chunks contents) throws IOException;
    }

    /** A file's contents, one buffer after another. */
    interface Chunks {
        /**
         * The next bytes of the file, as a read-only buffer that stays valid until the next call, or null
         * after the last.
         *
         * @return the bytes, or null at the end
         * @throws NarDumpException if the file changed or could not be read
         * @throws IOException if reading fails otherwise
         */
        ByteBuffer next() throws IOException;
    }

    /**
     * The NAR hash and size of {@code root}, all on the calling thread: for callers that hash many trees
     * at once, one dumper per core, where {@link #digest}'s second thread would only add hand-overs. File
     * contents are read into a direct buffer (128 KiB, kept) and hashed from there with
     * {@link MessageDigest#update(ByteBuffer)}: a digest that reads native memory (Granary's OpenSSL
     * digests do) gets them with no copy but the kernel's, where a {@code byte[]} costs a second one (the
     * JDK reads into a temporary direct buffer and copies from it). The digest is reset first and is reset
     * again when this returns.
     *
     * @param root the file, directory or symlink to hash as a NAR
     * @param digest the algorithm to hash with
     * @return the NAR's hash and size
     * @throws NarDumpException if the tree cannot be archived exactly
     * @throws IOException if reading the tree fails
     */
    public NarDigest digestInline(Path root, MessageDigest digest) throws IOException {
        if (direct == null) {
            direct = ByteBuffer.allocateDirect(BUFFER_SIZE);
        }
        return hash(root, new NarSink(buffer, digest, direct), digest);
    }

    private NarDigest digest(Path root, OutputStream out, MessageDigest digest) throws IOException {
        return hash(root, new NarSink(buffer, out, null, digest, pipeline), digest);
    }

    /** Writes the NAR of {@code root} to {@code sink}, which feeds {@code digest}, and returns the result. */
    private NarDigest hash(Path root, NarSink sink, MessageDigest digest) throws IOException {
        digest.reset();
        long size;
        try {
            size = write(root, sink);
            sink.finish();
        } catch (IOException | RuntimeException | Error e) {
            sink.abort();
            digest.reset();
            throw e;
        }
        return new NarDigest(digest.getAlgorithm(), digest.digest(), size);
    }

    private long write(Path root, NarSink sink) throws IOException {
        ArrayDeque<Frame> open = new ArrayDeque<>();
        node(root, NarWriter.begin(sink), open);
        while (!open.isEmpty()) {
            Frame frame = open.peek();
            if (frame.next == frame.entries.length) {
                frame.directory.close();
                open.pop();
                if (mirror != null) {
                    mirror.directoryEnd();
                }
            } else {
                Entry entry = frame.entries[frame.next];
                frame.entries[frame.next++] = null; // done with it: a wide directory's paths can go
                NarWriter.Node node = frame.directory.entry(entry.name);
                if (mirror != null) {
                    mirror.entry(entry.name.clone());
                }
                node(entry.path, node, open);
            }
        }
        return sink.size();
    }

    /** Writes a file or symlink completely; for a directory, pushes it for the loop in {@link #write}. */
    private void node(Path path, NarWriter.Node node, ArrayDeque<Frame> open) throws IOException {
        PosixFileAttributes attributes = Files.readAttributes(path, PosixFileAttributes.class, NOFOLLOW_LINKS);
        if (attributes.isRegularFile()) {
            regular(path, attributes, node);
        } else if (attributes.isDirectory()) {
            open.push(new Frame(node.directory(), entries(path)));
            if (mirror != null) {
                mirror.directoryStart();
            }
        } else if (attributes.isSymbolicLink()) {
            byte[] target = target(path);
            node.symlink(target);
            if (mirror != null) {
                mirror.symlink(target.clone());
            }
        } else {
            throw new NarDumpException(path, "cannot archive " + kind(path));
        }
    }

    private void regular(Path path, PosixFileAttributes attributes, NarWriter.Node node) throws IOException {
        long size = attributes.size();
        boolean executable = attributes.permissions().contains(PosixFilePermission.OWNER_EXECUTE);
        NarWriter.Contents contents = node.contents(executable, size);
        if (mirror != null) {
            mirrorRegular(path, executable, size, contents);
        } else if (size > 0) {
            try (FileChannel channel = FileChannel.open(path, READ_NO_FOLLOW)) {
                if (contents.canTransfer()) {
                    for (long position = 0; contents.remaining() > 0; ) {
                        long n = contents.transferFrom(channel, position);
                        if (n == 0) {
                            throw changed(path, size, channel.size());
                        }
                        position += n;
                    }
                }
                NamingChannel source = new NamingChannel(channel, path);
                while (contents.remaining() > 0) {
                    if (contents.readFrom(source) < 0) {
                        throw changed(path, size, size - contents.remaining());
                    }
                }
                // A file that grew would put a NAR with a wrong hash or stale contents on record.
                long now = channel.size();
                if (now != size) {
                    throw changed(path, size, now);
                }
            }
        }
        contents.close();
    }

    /**
     * Gives the mirror the file's contents in the buffers they are read into, on their way to the NAR's
     * {@code contents} too; the mirror must take them all.
     */
    private void mirrorRegular(Path path, boolean executable, long size, NarWriter.Contents contents)
            throws IOException {
        try (FileChannel channel = FileChannel.open(path, READ_NO_FOLLOW)) {
            NamingChannel source = new NamingChannel(channel, path);
            // Not a lambda: see Entry.
            mirror.regular(executable, size, new Chunks() {
                @Override
                public ByteBuffer next() throws IOException {
                    if (contents.remaining() == 0) {
                        return null;
                    }
                    ByteBuffer read = contents.readChunk(source);
                    if (read == null) {
                        throw changed(path, size, size - contents.remaining());
                    }
                    return read;
                }
            });
            if (contents.remaining() > 0) {
                throw new IllegalStateException("the mirror of " + path + " left " + contents.remaining()
                        + " bytes of its contents unread");
            }
            long now = channel.size();
            if (now != size) {
                throw changed(path, size, now);
            }
        }
    }

    private static NarDumpException changed(Path path, long size, long now) {
        return new NarDumpException(path, "file changed while archiving: it had " + size + " bytes, then " + now);
    }

    /** The entries of {@code dir}, sorted in unsigned byte order of their names. */
    private static Entry[] entries(Path dir) throws IOException {
        ArrayList<Entry> entries = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            for (Path path : stream) {
                byte[] name = FileNames.entryName(dir, path);
                if (name == null) {
                    throw new NarDumpException(path, "file name " + FileNames.advice() + FileNames.rawBytes(path));
                }
                String rule = NarGrammar.nameRule(name, 0, name.length);
                if (rule != null) {
                    throw new NarDumpException(path, "cannot archive the name: expected " + rule);
                }
                entries.add(new Entry(name, path));
            }
        } catch (DirectoryIteratorException e) {
            throw e.getCause();
        }
        Entry[] sorted = entries.toArray(new Entry[0]);
        Arrays.sort(sorted);
        return sorted;
    }

    private static byte[] target(Path link) throws IOException {
        byte[] target = FileNames.targetBytes(Files.readSymbolicLink(link));
        if (target == null) {
            throw new NarDumpException(link, "symlink target " + FileNames.advice()
                + FileNames.rawBytes(Files.readSymbolicLink(link)));
        }
        String rule = NarGrammar.targetRule(target, 0, target.length);
        if (rule != null) {
            throw new NarDumpException(link, "cannot archive the symlink target: expected " + rule);
        }
        return target;
    }

    /** What a file that is neither regular, directory nor symlink is, for the error message. */
    private static String kind(Path path) throws IOException {
        int mode = (Integer) Files.getAttribute(path, "unix:mode", NOFOLLOW_LINKS);
        switch (mode & 0170000) {
            case 0140000:
                return "a socket";
            case 0010000:
                return "a FIFO";
            case 0020000:
                return "a character device";
            case 0060000:
                return "a block device";
            default:
                return String.format("a file of type 0%o", mode & 0170000);
        }
    }

    /**
     * A directory entry, ordered by the unsigned bytes of its name. (Not a lambda comparator: the first
     * lambda of a JVM costs milliseconds of start-up, which a one-shot hash pays in full.)
     */
    private record Entry(byte[] name, Path path) implements Comparable<Entry> {
        @Override
        public int compareTo(Entry other) {
            return Arrays.compareUnsigned(name, other.name);
        }
    }

    /**
     * A file's channel whose read errors name the file: the JDK's (EIO from a failing disk, for one) say
     * only "Input/output error", and a verifier carrying on past them must say where they happened.
     */
    private static final class NamingChannel implements ReadableByteChannel {
        private final FileChannel channel;
        private final Path path;

        NamingChannel(FileChannel channel, Path path) {
            this.channel = channel;
            this.path = path;
        }

        @Override
        public int read(ByteBuffer target) throws IOException {
            try {
                return channel.read(target);
            } catch (InterruptedIOException | java.nio.channels.ClosedChannelException e) {
                throw e;
            } catch (IOException e) {
                throw new NarDumpException(path, "cannot read: " + e.getMessage(), e);
            }
        }

        @Override
        public boolean isOpen() {
            return channel.isOpen();
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /** A directory being written: its sorted entries and the next one to write. */
    private static final class Frame {
        final NarWriter.Directory directory;
        final Entry[] entries;
        int next;

        Frame(NarWriter.Directory directory, Entry[] entries) {
            this.directory = directory;
            this.entries = entries;
        }
    }
}
