package org.granary.store;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A value of the {@code drv-outputs} sub-database: one output of a derivation, as
 * {@code u8 id length, id, 20-byte output hash part, output name} (ASCII). Ids follow the rules of
 * store names, so a value stays under LMDB's 511-byte limit for sorted duplicates.
 *
 * <p>Stateless; safe to call from any thread.
 */
final class OutputRecord {
    private OutputRecord() {
    }

    interface Sink {
        void accept(String id, StorePath output);
    }

    /** Refuses an output id that is not a valid store name. */
    static void check(StorePath derivation, String id) {
        String problem = StorePath.nameProblem(id);
        if (problem != null) {
            throw new IllegalArgumentException("bad output id of " + derivation + ": " + problem);
        }
    }

    static byte[] encode(String id, byte[] outputKey, StorePath output) {
        byte[] idBytes = id.getBytes(StandardCharsets.US_ASCII);
        byte[] name = output.name().getBytes(StandardCharsets.US_ASCII);
        byte[] value = new byte[1 + idBytes.length + Keys.SIZE + name.length];
        value[0] = (byte) idBytes.length;
        System.arraycopy(idBytes, 0, value, 1, idBytes.length);
        System.arraycopy(outputKey, 0, value, 1 + idBytes.length, Keys.SIZE);
        System.arraycopy(name, 0, value, 1 + idBytes.length + Keys.SIZE, name.length);
        return value;
    }

    static void decode(String storeDir, byte[] drvKey, byte[] value, Sink sink) {
        int idLength = idLength(drvKey, value);
        String id = new String(value, 1, idLength, StandardCharsets.ISO_8859_1);
        byte[] outputKey = Arrays.copyOfRange(value, 1 + idLength, 1 + idLength + Keys.SIZE);
        String name = new String(value, 1 + idLength + Keys.SIZE, value.length - 1 - idLength - Keys.SIZE,
            StandardCharsets.ISO_8859_1);
        try {
            StorePath output = new StorePath(storeDir, Keys.hashPart(outputKey), name);
            if (StorePath.nameProblem(id) != null) {
                throw new InvalidStorePathException(StorePath.nameProblem(id));
            }
            sink.accept(id, output);
        } catch (InvalidStorePathException e) {
            throw corrupt(drvKey, "bad output " + id + ": " + e.getMessage());
        }
    }

    static byte[] outputKey(byte[] drvKey, byte[] value) {
        int idLength = idLength(drvKey, value);
        return Arrays.copyOfRange(value, 1 + idLength, 1 + idLength + Keys.SIZE);
    }

    private static int idLength(byte[] drvKey, byte[] value) {
        int idLength = value.length == 0 ? 0 : value[0] & 0xff;
        if (idLength == 0 || value.length < 1 + idLength + Keys.SIZE + 1) {
            throw corrupt(drvKey, "output record of " + value.length + " bytes is too short for its id of "
                + idLength + " bytes, a hash part and a name");
        }
        return idLength;
    }

    private static CorruptRecordException corrupt(byte[] drvKey, String problem) {
        return new CorruptRecordException("corrupt drv-outputs record of hash part " + Keys.hashPart(drvKey)
            + ": " + problem);
    }
}
