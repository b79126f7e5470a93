package org.granary.store;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.DirectBufferProxy;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.Txn;

/**
 * Damages a closed store database behind {@link StoreDatabase}'s back, as a bug, a crash of another
 * implementation or a person could: edges without their mirror, edges to paths that are not valid,
 * records that do not decode. For the tests of the audit and of the verifier; public so that the verify
 * module's tests can use it from this test-jar. The database must not be open in this process.
 */
public final class DatabaseDamage {
    private DatabaseDamage() {
    }

    /** Removes {@code referrer} from the referrers of {@code referenced}, leaving the reference in refs. */
    public static void dropReferrer(Path dbDir, StorePath referenced, StorePath referrer) {
        change(dbDir, "referrers", true, (dbi, txn) -> dbi.delete(txn, buffer(Keys.of(referenced)), buffer(Keys.of(referrer))));
    }

    /** Adds the edge {@code from -> to} to refs only, whether or not the paths are valid. */
    public static void addReference(Path dbDir, StorePath from, StorePath to) {
        change(dbDir, "refs", true, (dbi, txn) -> dbi.put(txn, buffer(Keys.of(from)), buffer(Keys.of(to))));
    }

    /** Adds {@code referrer} to the referrers of {@code referenced} only, whether or not the paths are valid. */
    public static void addReferrer(Path dbDir, StorePath referenced, StorePath referrer) {
        change(dbDir, "referrers", true, (dbi, txn) -> dbi.put(txn, buffer(Keys.of(referenced)), buffer(Keys.of(referrer))));
    }

    /** Replaces the info record of {@code path} by bytes that do not decode. */
    public static void corruptRecord(Path dbDir, StorePath path) {
        change(dbDir, "info", false, (dbi, txn) -> dbi.put(txn, buffer(Keys.of(path)), buffer(new byte[] {99, 0, 0})));
    }

    private interface Change {
        void apply(Dbi<DirectBuffer> dbi, Txn<DirectBuffer> txn);
    }

    private static void change(Path dbDir, String name, boolean dupsort, Change change) {
        try (Env<DirectBuffer> env = Env.create(DirectBufferProxy.PROXY_DB).setMaxDbs(8)
                .open(dbDir.toFile(), EnvFlags.MDB_NOTLS)) {
            Dbi<DirectBuffer> dbi = dupsort
                ? env.openDbi(name, DbiFlags.MDB_DUPSORT, DbiFlags.MDB_DUPFIXED)
                : env.openDbi(name);
            try (Txn<DirectBuffer> txn = env.txnWrite()) {
                change.apply(dbi, txn);
                txn.commit();
            }
        }
    }

    private static DirectBuffer buffer(byte[] bytes) {
        ByteBuffer memory = ByteBuffer.allocateDirect(bytes.length);
        UnsafeBuffer buffer = new UnsafeBuffer(memory);
        buffer.putBytes(0, bytes);
        return buffer;
    }
}
