package org.granary.store;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The framing of an export stream, shared by {@link ExportWriter} and {@link ExportReader}; the NAR of
 * each item is the {@code nar} module's business. Stateless.
 *
 * <pre>
 * export  = { int(1) item } int(0)
 * item    = nar int(0x4558494e) str(path) int(n) n*str(reference) str(deriver or "") signed
 * signed  = int(0) | int(1) str(signature)
 * </pre>
 *
 * with {@code int} and {@code str} as in a NAR (u64 little-endian; length, bytes, zero padding to 8).
 * Nix 2.8 ({@code Store::exportPath}, {@code Store::importPaths}) and the Guix daemon
 * ({@code LocalStore::exportPath}, {@code importPath}) write and read exactly this; Guix signs the SHA-256
 * of {@code nar} through {@code deriver} and requires the signature on import, Nix skips it.
 */
final class ExportWire {
    private ExportWire() {}

    /** Precedes every item. */
    static final long ITEM = 1;
    /** Ends the stream. */
    static final long END = 0;
    /** {@code "NIXE"} read as a little-endian number: separates an item's NAR from its trailer. */
    static final long MAGIC = 0x4558494eL;
    /** The trailer carries no signature. */
    static final long UNSIGNED = 0;
    /** A signature string follows. */
    static final long SIGNED = 1;
    /**
     * The longest signature accepted. Guix's are canonical s-expressions with the public key, about 400
     * bytes for its default Ed25519 keys and under 3 KiB for the RSA-4096 keys of old installations.
     */
    static final int MAX_SIGNATURE = 64 * 1024;

    /** The longest store path of {@code storeDir}: the dir, {@code /} and a file name of at most 255 bytes. */
    static int maxPathBytes(String storeDir) {
        return storeDir.getBytes(StandardCharsets.UTF_8).length + 1 + 255;
    }

    static int padding(long length) {
        return (int) (-length & 7);
    }

    static void putLong(ByteArrayOutputStream out, long value) {
        for (int i = 0; i < 8; i++) {
            out.write((int) (value >>> (8 * i)));
        }
    }

    static void putString(ByteArrayOutputStream out, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        putLong(out, bytes.length);
        out.write(bytes, 0, bytes.length);
        out.write(new byte[padding(bytes.length)], 0, padding(bytes.length));
    }

    static long getLong(byte[] b, int at) {
        long value = 0;
        for (int i = 7; i >= 0; i--) {
            value = (value << 8) | (b[at + i] & 0xff);
        }
        return value;
    }
}
