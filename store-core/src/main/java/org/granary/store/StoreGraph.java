package org.granary.store;

import java.util.Arrays;
import java.util.Collections;
import java.util.SortedSet;
import java.util.TreeSet;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.lmdbjava.Cursor;
import org.lmdbjava.Dbi;
import org.lmdbjava.GetOp;
import org.lmdbjava.SeekOp;
import org.lmdbjava.Txn;

/**
 * The whole reference graph of a store at one moment: every valid path, numbered {@code 0..size()-1} in
 * the order of their hash parts, with its NAR size, its deriver, its references and, for derivations, its
 * valid outputs, as arrays of ints. It is what a garbage collector walks: read from the database in one
 * read transaction ({@link StoreDatabase#graph()}), so that liveness costs one pass over LMDB's pages
 * rather than one query per path, and a consistent snapshot even while other processes register paths.
 *
 * <p>Memory: about 60 bytes per path plus 4 per reference, and one {@code String} per name.
 *
 * <p>Immutable; safe to share between threads.
 */
public final class StoreGraph {
    private static final int[] NONE = new int[0];
    private static final SortedSet<StorePath> NO_REFERENCES = Collections.unmodifiableSortedSet(new TreeSet<>());

    private final String storeDir;
    /** The 20-byte hash parts end to end, ascending (LMDB's order): index {@code i} at {@code 20 i}. */
    private final byte[] keys;
    private final String[] names;
    private final long[] narSizes;
    private final int[] derivers;
    /** References of {@code i}: {@code references[referenceStart[i] .. referenceStart[i+1])}. */
    private final int[] referenceStart;
    private final int[] references;
    /** Valid recorded outputs of derivation {@code i}, in the same layout. */
    private final int[] outputStart;
    private final int[] outputs;

    private StoreGraph(String storeDir, byte[] keys, String[] names, long[] narSizes, int[] derivers,
            int[] referenceStart, int[] references, int[] outputStart, int[] outputs) {
        this.storeDir = storeDir;
        this.keys = keys;
        this.names = names;
        this.narSizes = narSizes;
        this.derivers = derivers;
        this.referenceStart = referenceStart;
        this.references = references;
        this.outputStart = outputStart;
        this.outputs = outputs;
    }

    /**
     * Reads the graph inside a read transaction of the database: {@code info} first (which numbers the
     * paths), then the references and outputs of each path.
     */
    static StoreGraph read(String storeDir, Txn<DirectBuffer> txn, Dbi<DirectBuffer> info, Dbi<DirectBuffer> refs,
            Dbi<DirectBuffer> drvOutputs) {
        int count = Math.toIntExact(info.stat(txn).entries);
        byte[] keys = new byte[count * Keys.SIZE];
        String[] names = new String[count];
        long[] narSizes = new long[count];
        StorePath[] deriverPaths = new StorePath[count];
        int n = 0;
        try (Cursor<DirectBuffer> cursor = info.openCursor(txn)) {
            for (boolean more = cursor.first(); more && n < count; more = cursor.next()) {
                byte[] key = Scratch.bytes(cursor.key());
                PathInfo decoded = InfoRecord.decode(storeDir, key, Scratch.bytes(cursor.val()), NO_REFERENCES);
                System.arraycopy(key, 0, keys, n * Keys.SIZE, Keys.SIZE);
                names[n] = decoded.path().name();
                narSizes[n] = decoded.narSize();
                deriverPaths[n] = decoded.deriver();
                n++;
            }
        }
        StoreGraph partial = new StoreGraph(storeDir, keys, names, narSizes, null, null, null, null, null);
        int[] derivers = new int[count];
        for (int i = 0; i < count; i++) {
            derivers[i] = deriverPaths[i] == null ? -1 : partial.indexOf(deriverPaths[i]);
        }
        int[] referenceStart = new int[count + 1];
        IntList edges = new IntList();
        byte[] from = new byte[Keys.SIZE];
        try (Cursor<DirectBuffer> cursor = refs.openCursor(txn)) {
            for (int i = 0; i < count; i++) {
                referenceStart[i] = edges.size;
                System.arraycopy(keys, i * Keys.SIZE, from, 0, Keys.SIZE);
                if (!cursor.get(Scratch.get().key(from), GetOp.MDB_SET)) {
                    continue;
                }
                for (boolean more = cursor.seek(SeekOp.MDB_GET_MULTIPLE); more;
                        more = cursor.seek(SeekOp.MDB_NEXT_MULTIPLE)) {
                    DirectBuffer page = cursor.val();
                    if (page.capacity() % Keys.SIZE != 0) {
                        throw new CorruptRecordException("references of hash part " + Keys.hashPart(from)
                            + " come in a run of " + page.capacity() + " bytes, not a multiple of " + Keys.SIZE);
                    }
                    for (int offset = 0; offset < page.capacity(); offset += Keys.SIZE) {
                        int target = partial.search(page, offset);
                        if (target < 0) {
                            throw new CorruptRecordException("the database links hash part " + Keys.hashPart(from)
                                + " to a hash part that is not valid (closure invariant broken)");
                        }
                        edges.add(target);
                    }
                }
            }
            referenceStart[count] = edges.size;
        }
        int[] outputStart = new int[count + 1];
        IntList outs = new IntList();
        int[][] byDerivation = new int[count][];
        try (Cursor<DirectBuffer> cursor = drvOutputs.openCursor(txn)) {
            byte[] drvKey = new byte[Keys.SIZE];
            int drv = -1;
            IntList current = new IntList();
            for (boolean more = cursor.first(); more; more = cursor.next()) {
                byte[] key = Scratch.bytes(cursor.key());
                if (drv < 0 || !Arrays.equals(key, drvKey)) {
                    if (drv >= 0) {
                        byDerivation[drv] = current.toArray();
                    }
                    drvKey = key;
                    drv = partial.search(key);
                    current = new IntList();
                }
                if (drv < 0) {
                    continue; // outputs of a derivation that is no longer valid
                }
                IntList into = current;
                OutputRecord.decode(storeDir, key, Scratch.bytes(cursor.val()), (id, output) -> {
                    int index = partial.indexOf(output);
                    if (index >= 0) {
                        into.add(index);
                    }
                });
            }
            if (drv >= 0) {
                byDerivation[drv] = current.toArray();
            }
        }
        for (int i = 0; i < count; i++) {
            outputStart[i] = outs.size;
            if (byDerivation[i] != null) {
                for (int output : byDerivation[i]) {
                    outs.add(output);
                }
            }
        }
        outputStart[count] = outs.size;
        return new StoreGraph(storeDir, keys, names, narSizes, derivers, referenceStart, edges.toArray(),
            outputStart, outs.toArray());
    }

    /**
     * Returns the logical store dir of the paths.
     *
     * @return such as {@code /gnu/store}
     */
    public String storeDir() {
        return storeDir;
    }

    /**
     * Returns how many paths were valid.
     *
     * @return the number of paths
     */
    public int size() {
        return names.length;
    }

    /**
     * Returns path number {@code i}.
     *
     * @param i a number in {@code 0..size()-1}
     * @return the store path
     */
    public StorePath path(int i) {
        return new StorePath(storeDir, Keys.hashPart(Arrays.copyOfRange(keys, i * Keys.SIZE, (i + 1) * Keys.SIZE)),
            names[i]);
    }

    /**
     * Returns the number of a path, if it was valid.
     *
     * @param path a store path
     * @return its number, or -1 if it was not valid (of another store dir, or its hash part valid under
     *     another name)
     */
    public int indexOf(StorePath path) {
        if (!path.storeDir().equals(storeDir)) {
            return -1;
        }
        int i = search(Keys.of(path));
        return i >= 0 && names[i].equals(path.name()) ? i : -1;
    }

    /**
     * Returns the NAR size of path {@code i}.
     *
     * @param i a path's number
     * @return its NAR size in bytes
     */
    public long narSize(int i) {
        return narSizes[i];
    }

    /**
     * Returns the deriver of path {@code i}, if it is recorded and was valid.
     *
     * @param i a path's number
     * @return the deriver's number, or -1
     */
    public int deriver(int i) {
        return derivers[i];
    }

    /**
     * Returns the references of path {@code i} (itself among them if it refers to itself).
     *
     * @param i a path's number
     * @return the numbers of its references, ascending; a fresh array
     */
    public int[] references(int i) {
        return slice(referenceStart, references, i);
    }

    /**
     * Returns the recorded outputs of derivation {@code i} that were valid.
     *
     * @param i a path's number
     * @return the numbers of its valid outputs; empty if it is not a derivation with recorded outputs
     */
    public int[] outputs(int i) {
        return slice(outputStart, outputs, i);
    }

    /**
     * Returns how many references all paths have together.
     *
     * @return the number of edges
     */
    public int referenceCount() {
        return references.length;
    }

    private static int[] slice(int[] start, int[] values, int i) {
        int from = start[i];
        int to = start[i + 1];
        return from == to ? NONE : Arrays.copyOfRange(values, from, to);
    }

    /** Binary search of a key among the sorted keys: its number, or -1. */
    private int search(byte[] key) {
        return search(new UnsafeBuffer(key), 0);
    }

    /** Binary search of the key LMDB shows at {@code offset} of {@code page}, read in place. */
    private int search(DirectBuffer page, int offset) {
        int low = 0;
        int high = names.length - 1;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            int c = 0;
            int base = mid * Keys.SIZE;
            for (int b = 0; b < Keys.SIZE && c == 0; b++) {
                c = Integer.compare(keys[base + b] & 0xff, page.getByte(offset + b) & 0xff);
            }
            if (c < 0) {
                low = mid + 1;
            } else if (c > 0) {
                high = mid - 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    /** A growable array of ints. */
    private static final class IntList {
        int[] values = new int[64];
        int size;

        void add(int value) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = value;
        }

        int[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }
}
