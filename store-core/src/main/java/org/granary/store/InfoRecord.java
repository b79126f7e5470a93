package org.granary.store;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import org.agrona.DirectBuffer;

/**
 * The value of the {@code info} sub-database: a {@link PathInfo} without its path's hash part (the key)
 * and without its references (the {@code refs} sub-database). Version 1, big-endian:
 *
 * <pre>
 * u8  version (1)
 * u8  flags: bit 0 deriver present, bit 1 content address present, others zero
 * u8  name length (1..222), name (ASCII)
 * 32  NAR hash (SHA-256)
 * u64 NAR size (not negative)
 * u64 registration time (not negative)
 * [deriver: 20-byte hash part, u8 name length, name]
 * [content address: u16 length, ASCII]
 * u16 signature count, each: u16 length, ASCII; strictly ascending
 * </pre>
 *
 * <p>The name comes first so that a lookup can check it without decoding the rest. The decoder is strict:
 * every field is bounds-checked before it is read, no length read from the record allocates more than
 * the record holds, trailing bytes are refused, and the result is validated as a {@link PathInfo}. Any
 * failure is a {@link CorruptRecordException} naming the item and the byte offset.
 *
 * <p>Stateless; safe to call from any thread.
 */
final class InfoRecord {
    static final int VERSION = 1;
    private static final int FLAG_DERIVER = 1;
    private static final int FLAG_CONTENT_ADDRESS = 2;
    private static final int MAX_U16 = 0xffff;
    /** Where the name starts: after the version, the flags and the name's length. */
    private static final int NAME_OFFSET = 3;

    private InfoRecord() {
    }

    /** Encodes everything of {@code info} but its hash part and references. */
    static byte[] encode(PathInfo info) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(96 + info.path().name().length());
        out.write(VERSION);
        out.write((info.deriver() != null ? FLAG_DERIVER : 0)
            | (info.contentAddress() != null ? FLAG_CONTENT_ADDRESS : 0));
        writeName(out, info.path().name());
        out.writeBytes(info.narHash().bytes());
        writeLong(out, info.narSize());
        writeLong(out, info.registrationTime());
        if (info.deriver() != null) {
            out.writeBytes(Keys.of(info.deriver()));
            writeName(out, info.deriver().name());
        }
        if (info.contentAddress() != null) {
            writeText(out, info.contentAddress(), info, "content address");
        }
        if (info.signatures().size() > MAX_U16) {
            throw new IllegalArgumentException(info.path() + " has " + info.signatures().size()
                + " signatures, more than a record holds (" + MAX_U16 + ")");
        }
        writeU16(out, info.signatures().size());
        for (String signature : info.signatures()) {
            writeText(out, signature, info, "signature");
        }
        return out.toByteArray();
    }

    /**
     * Decodes a record.
     *
     * @param storeDir the database's logical store dir
     * @param key the item's 20-byte hash part
     * @param record the record
     * @param references the item's references, from {@code refs}
     */
    static PathInfo decode(String storeDir, byte[] key, byte[] record, SortedSet<StorePath> references) {
        Reader in = new Reader(key, record);
        in.header();
        String name = in.name("name");
        in.name = name;
        Hash narHash = Hash.of(HashAlgorithm.SHA256, in.bytes(32, "NAR hash"));
        long narSize = in.nonNegativeLong("NAR size");
        long time = in.nonNegativeLong("registration time");
        StorePath deriver = null;
        if ((in.flags & FLAG_DERIVER) != 0) {
            byte[] deriverKey = in.bytes(Keys.SIZE, "deriver hash part");
            deriver = in.path(storeDir, deriverKey, in.name("deriver name"), "deriver");
        }
        String contentAddress = (in.flags & FLAG_CONTENT_ADDRESS) != 0 ? in.text("content address") : null;
        int count = in.u16("signature count");
        List<String> signatures = new ArrayList<>(Math.min(count, record.length));
        for (int i = 0; i < count; i++) {
            String signature = in.text("signature " + i);
            if (i > 0 && signature.compareTo(signatures.get(i - 1)) <= 0) {
                throw in.corrupt("signature " + i + " is not after signature " + (i - 1) + " (they must be"
                    + " strictly ascending)");
            }
            signatures.add(signature);
        }
        in.end();
        StorePath path = in.path(storeDir, key, name, "name");
        try {
            return new PathInfo(path, narHash, narSize, references, deriver, time, new TreeSet<>(signatures),
                contentAddress);
        } catch (IllegalArgumentException e) {
            throw in.corrupt(e.getMessage(), e);
        }
    }

    /** Reads only the name, for a lookup that checks it. */
    static String name(byte[] key, byte[] record) {
        Reader in = new Reader(key, record);
        in.header();
        return in.name("name");
    }

    /**
     * Reads only the name of a record LMDB shows in place, copying only the name's bytes. A record whose
     * header does not check out is copied whole and read by {@link #name(byte[], byte[])}, which throws
     * the usual error.
     */
    static String name(byte[] key, DirectBuffer record) {
        int length = nameLength(record);
        if (length < 0) {
            return name(key, Scratch.bytes(record));
        }
        byte[] name = new byte[length];
        record.getBytes(NAME_OFFSET, name);
        return new String(name, StandardCharsets.ISO_8859_1);
    }

    /** Says whether a record LMDB shows in place has the name {@code name}, without decoding it. */
    static boolean hasName(byte[] key, DirectBuffer record, String name) {
        int length = nameLength(record);
        if (length < 0) {
            return name(key, Scratch.bytes(record)).equals(name);
        }
        if (length != name.length()) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if ((record.getByte(NAME_OFFSET + i) & 0xff) != name.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** The name's length if the header and the name are sound, else -1. */
    private static int nameLength(DirectBuffer record) {
        int capacity = record.capacity();
        if (capacity < NAME_OFFSET || record.getByte(0) != VERSION
                || (record.getByte(1) & ~(FLAG_DERIVER | FLAG_CONTENT_ADDRESS)) != 0) {
            return -1;
        }
        int length = record.getByte(NAME_OFFSET - 1) & 0xff;
        return length == 0 || capacity - NAME_OFFSET < length ? -1 : length;
    }

    private static void writeName(ByteArrayOutputStream out, String name) {
        // StorePath holds names of 1..222 ASCII characters, so one byte holds the length.
        out.write(name.length());
        out.writeBytes(name.getBytes(StandardCharsets.US_ASCII));
    }

    private static void writeText(ByteArrayOutputStream out, String text, PathInfo info, String what) {
        if (text.length() > MAX_U16) {
            throw new IllegalArgumentException(info.path() + " has a " + what + " of " + text.length()
                + " characters, more than a record holds (" + MAX_U16 + ")");
        }
        writeU16(out, text.length());
        out.writeBytes(text.getBytes(StandardCharsets.US_ASCII));
    }

    private static void writeU16(ByteArrayOutputStream out, int value) {
        out.write(value >>> 8);
        out.write(value);
    }

    private static void writeLong(ByteArrayOutputStream out, long value) {
        for (int shift = 56; shift >= 0; shift -= 8) {
            out.write((int) (value >>> shift));
        }
    }

    /** A bounds-checked cursor over one record that names the item in every error. */
    private static final class Reader {
        private final byte[] key;
        private final byte[] record;
        private int offset;
        private int flags;
        private String name;

        Reader(byte[] key, byte[] record) {
            this.key = key;
            this.record = record;
        }

        void header() {
            int version = u8("version");
            if (version != VERSION) {
                offset = 0;
                throw corrupt("unknown record version " + version + " (this Granary reads " + VERSION + ")");
            }
            flags = u8("flags");
            if ((flags & ~(FLAG_DERIVER | FLAG_CONTENT_ADDRESS)) != 0) {
                offset = 1;
                throw corrupt("unknown flags 0x" + Integer.toHexString(flags));
            }
        }

        String name(String what) {
            int start = offset;
            int length = u8(what + " length");
            if (length == 0) {
                offset = start;
                throw corrupt("empty " + what);
            }
            return new String(bytes(length, what), StandardCharsets.ISO_8859_1);
        }

        String text(String what) {
            int length = u16(what + " length");
            String text = new String(bytes(length, what), StandardCharsets.ISO_8859_1);
            for (int i = 0; i < text.length(); i++) {
                if (text.charAt(i) <= ' ' || text.charAt(i) > '~') {
                    offset -= length - i;
                    throw corrupt(what + " holds byte 0x" + Integer.toHexString(text.charAt(i))
                        + " (printable ASCII without spaces expected)");
                }
            }
            return text;
        }

        StorePath path(String storeDir, byte[] hashKey, String pathName, String what) {
            try {
                return new StorePath(storeDir, Keys.hashPart(hashKey), pathName);
            } catch (InvalidStorePathException e) {
                throw corrupt("bad " + what + ": " + e.getMessage(), e);
            }
        }

        long nonNegativeLong(String what) {
            byte[] b = bytes(8, what);
            long value = 0;
            for (byte x : b) {
                value = value << 8 | (x & 0xff);
            }
            if (value < 0) {
                offset -= 8;
                throw corrupt("negative " + what + " " + value);
            }
            return value;
        }

        int u8(String what) {
            return bytes(1, what)[0] & 0xff;
        }

        int u16(String what) {
            byte[] b = bytes(2, what);
            return (b[0] & 0xff) << 8 | b[1] & 0xff;
        }

        byte[] bytes(int count, String what) {
            if (record.length - offset < count) {
                throw corrupt("truncated: " + what + " needs " + count + " bytes, " + (record.length - offset)
                    + " left");
            }
            byte[] b = new byte[count];
            System.arraycopy(record, offset, b, 0, count);
            offset += count;
            return b;
        }

        void end() {
            if (offset != record.length) {
                throw corrupt((record.length - offset) + " trailing bytes");
            }
        }

        CorruptRecordException corrupt(String problem) {
            return corrupt(problem, null);
        }

        CorruptRecordException corrupt(String problem, Throwable cause) {
            String item = "hash part " + Keys.hashPart(key) + (name != null ? " (name \"" + name + "\")" : "");
            return new CorruptRecordException("corrupt info record of " + item + " at byte " + offset + " of "
                + record.length + ": " + problem, cause);
        }
    }
}
