package org.granary.store;

import java.nio.file.Path;

/**
 * Hashes the NARs of two store items at once on the calling thread, in native code
 * ({@code src/main/c/granary_narhash.c}): each of two lanes walks one item in NAR order, and their
 * SHA-256s run interleaved on the CPU's SHA extensions, which one stream leaves idle most of the time.
 * Measured on the benchmark's Xeon: 1.75 GB/s per core for two streams against 1.45 GB/s for OpenSSL's one.
 *
 * <p>Files of 256 KiB or more are hashed from a mapping of the file, 4 MiB at a time, rather than copied
 * into a buffer: SHA-256 reads the page cache itself. A page that cannot be read (EIO) ends the lane, and
 * so does a file that shrinks while it is hashed: the SIGBUS this raises is caught by the library, which
 * hands every other SIGBUS to the handler it replaced (the JVM's, for the JVM's own mapped buffers).
 *
 * <p>Only the common case is hashed here: an item of regular files, directories and symlinks that can be
 * read. For anything else (an I/O error, a missing item, a socket, a file that changes size, a symlink
 * target over PATH_MAX bytes) a lane ends with {@link Outcome#hashed()} false, and the caller hashes that
 * item with {@link org.granary.nar.NarDumper}, whose errors name the file. File names are hashed as their
 * bytes, whatever the JVM's charset could represent. A lane also says whether every
 * entry had canonical modes (0444, 0555) and mtime (1), so that only an item where something is off is
 * walked again for the finding.
 *
 * <p>Optional: {@link #available()} is false without the library (no C compiler at build time, another
 * platform), on a CPU without the SHA extensions, or with the system property
 * {@code granary.narhash=java}; callers then hash in Java ({@link Hash#ofNarInline} does so itself). An instance
 * is used by one thread; {@link #close()} frees its native memory (two 128 KiB buffers, and a
 * mapped window of up to 4 MiB per lane while a large file is hashed).
 */
public final class NativeNarHasher implements AutoCloseable {
    private static final boolean AVAILABLE = loadLibrary();
    private static final int LANES = 2;

    private final long[] lanes = new long[LANES];
    private final boolean[] busy = new boolean[LANES];

    /**
     * The result of one lane: the NAR's SHA-256 and size and whether all metadata was canonical, or the
     * reason the item was not hashed (an errno, or a negative code of the C side).
     *
     * @param digest the SHA-256 of the NAR, if hashed
     * @param narSize the NAR's size in bytes, if hashed
     * @param canonical whether every entry had a canonical mode (0444, 0555) and mtime (1 s)
     * @param reason 0 if hashed; otherwise an errno, or a negative code of the C side
     */
    public record Outcome(byte[] digest, long narSize, boolean canonical, int reason) {
        /**
         * Whether the item was hashed; otherwise only {@link #reason()} means anything.
         *
         * @return whether {@link #reason()} is 0
         */
        public boolean hashed() {
            return reason == 0;
        }
    }

    /**
     * Creates the two lanes.
     *
     * @throws IllegalStateException if the hasher is not {@link #available()}
     */
    public NativeNarHasher() {
        if (!AVAILABLE) {
            throw new IllegalStateException("the native NAR hasher is not available in this JVM");
        }
        for (int lane = 0; lane < LANES; lane++) {
            lanes[lane] = create();
            if (lanes[lane] == 0) {
                close();
                throw new OutOfMemoryError("no native memory for a NAR hasher");
            }
        }
    }

    /**
     * Whether the native hasher can be used in this JVM.
     *
     * @return whether its library is loaded and the CPU has the SHA extensions
     */
    public static boolean available() {
        return AVAILABLE;
    }

    /**
     * The number of lanes.
     *
     * @return 2
     */
    public static int lanes() {
        return LANES;
    }

    /**
     * Whether {@code lane} holds an item not yet finished.
     *
     * @param lane 0 or 1
     * @return whether it is busy
     */
    public boolean busy(int lane) {
        return busy[lane];
    }

    /**
     * Sets an idle {@code lane} on the tree at {@code item}.
     *
     * @param lane 0 or 1, idle
     * @param item the file, directory or symlink to hash as a NAR (a symlink is not followed)
     * @throws IllegalStateException if the lane is busy
     */
    public void start(int lane, Path item) {
        if (busy[lane]) {
            throw new IllegalStateException("lane " + lane + " is busy");
        }
        if (!start(lanes[lane], NativeLibraries.pathBytes(item))) {
            throw new OutOfMemoryError("no native memory to start hashing " + item);
        }
        busy[lane] = true;
    }

    /**
     * Whether any lane holds an item not yet finished.
     *
     * @return whether a lane is busy
     */
    public boolean anyBusy() {
        return busy[0] || busy[1];
    }

    /**
     * Walks and hashes the busy lanes until at least one is finished, or about {@code budget} bytes were
     * read (so that the caller can look in now and then during a large item).
     *
     * @param budget NAR bytes, at least; the call returns once it has read this many, rounded up to a buffer
     * @return a bit per finished lane ({@code 1 << lane}); 0 if none finished, or none was busy
     */
    public int run(long budget) {
        if (busy[0] && busy[1]) {
            return run(lanes[0], lanes[1], budget);
        }
        for (int lane = 0; lane < LANES; lane++) {
            if (busy[lane]) {
                return run(lanes[lane], 0, budget) == 0 ? 0 : 1 << lane;
            }
        }
        return 0;
    }

    /**
     * Stops a busy {@code lane} where it is, without an outcome; it becomes idle.
     *
     * @param lane 0 or 1
     */
    public void abandon(int lane) {
        abandon(lanes[lane]);
        busy[lane] = false;
    }

    /**
     * The outcome of a finished {@code lane}, which becomes idle.
     *
     * @param lane 0 or 1, finished by {@link #run}
     * @return its outcome
     */
    public Outcome result(int lane) {
        byte[] digest = new byte[32];
        long[] info = new long[2];
        int reason = result(lanes[lane], digest, info);
        busy[lane] = false;
        return new Outcome(digest, info[0], info[1] == 0, reason);
    }

    /** Frees the lanes' native memory; closing twice does nothing. */
    @Override
    public void close() {
        for (int lane = 0; lane < LANES; lane++) {
            if (lanes[lane] != 0) {
                destroy(lanes[lane]);
                lanes[lane] = 0;
            }
        }
    }

    /** Loads the JNI library ({@link NativeLibraries}); any failure means "not available". */
    private static boolean loadLibrary() {
        return !"java".equals(System.getProperty("granary.narhash"))
            && NativeLibraries.load(NativeNarHasher.class, "native/libgranary-narhash.so", NativeNarHasher::load);
    }

    private static native boolean load();

    private static native long create();

    private static native boolean start(long lane, byte[] path);

    private static native int run(long first, long second, long budget);

    private static native void abandon(long lane);

    private static native int result(long lane, byte[] digest, long[] info);

    private static native void destroy(long lane);
}
