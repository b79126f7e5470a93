package org.granary.nar.testing;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * Mutations of valid inputs, for the hostile-input properties: one to five edits chosen from bit flips,
 * interesting bytes, 8-byte words overwritten with interesting lengths (0, 7, 8, 255, 4096, 2^31, 2^32,
 * 2^62, 2^63, -1, the input's own length…), deleted, duplicated and swapped ranges (aligned to 8 bytes
 * or not), truncations, appended bytes, and pieces of a dictionary of the format's own tokens inserted or
 * written over. Framed formats (NAR, exports) use the words; text formats the dictionary.
 *
 * <p>Each mutation is a function of the input and a {@code long} that jqwik generates, so a failing try is
 * reproduced from jqwik's seed. Immutable; safe to share between threads.
 */
public final class Mutator {
    private static final long[] INTERESTING_WORDS = {
        0, 1, 2, 7, 8, 9, 13, 255, 256, 4095, 4096, 4097, 65536, 0x7fff_ffffL, 0x8000_0000L, 0xffff_ffffL,
        1L << 32, 1L << 40, 1L << 62, Long.MAX_VALUE, Long.MIN_VALUE, -1, -8,
    };
    private static final byte[] INTERESTING_BYTES = {0, 1, '/', '.', '\n', '\r', 0x7f, (byte) 0x80, (byte) 0xc0,
        (byte) 0xff, '0', '9', ':', '-', '='};

    private final List<byte[]> dictionary;

    /**
     * Creates a mutator.
     *
     * @param dictionary the format's own tokens (encoded as they appear in it), inserted and written over
     */
    public Mutator(List<byte[]> dictionary) {
        this.dictionary = List.copyOf(dictionary);
    }

    /**
     * Returns the mutations of the seeds: each try a seed, mutated by one to five edits.
     *
     * @param seeds valid inputs
     * @return mutated inputs
     */
    public Arbitrary<byte[]> mutationsOf(Arbitrary<byte[]> seeds) {
        return Combinators.combine(seeds, Arbitraries.longs()).as((seed, n) -> mutate(seed, new Random(n)));
    }

    /**
     * Applies one to five edits to a copy of {@code input}.
     *
     * @param input the input (not modified)
     * @param random where the edits come from
     * @return the mutated copy
     */
    public byte[] mutate(byte[] input, Random random) {
        byte[] b = input.clone();
        for (int edits = 1 + random.nextInt(5); edits > 0; edits--) {
            b = edit(b, random);
        }
        return b;
    }

    private byte[] edit(byte[] b, Random random) {
        int op = random.nextInt(11);
        if (b.length == 0 && op < 9) {
            op = 9;
        }
        switch (op) {
            case 0 -> { // flip a bit
                int i = random.nextInt(b.length);
                b[i] ^= (byte) (1 << random.nextInt(8));
                return b;
            }
            case 1 -> { // an interesting byte
                b[random.nextInt(b.length)] = INTERESTING_BYTES[random.nextInt(INTERESTING_BYTES.length)];
                return b;
            }
            case 2, 3 -> { // an interesting word where a length or size is, at an aligned offset
                if (b.length < 8) {
                    return b;
                }
                int at = random.nextInt(b.length / 8) * 8;
                long word = random.nextInt(4) == 0 ? b.length - at + random.nextInt(17) - 8
                        : INTERESTING_WORDS[random.nextInt(INTERESTING_WORDS.length)];
                putLong(b, at, word);
                return b;
            }
            case 4 -> { // delete a range
                int from = random.nextInt(b.length);
                int length = Math.min(b.length - from, random.nextBoolean() ? 8 * (1 + random.nextInt(4))
                        : 1 + random.nextInt(24));
                return concat(Arrays.copyOfRange(b, 0, from), Arrays.copyOfRange(b, from + length, b.length));
            }
            case 5 -> { // duplicate a range somewhere
                int from = aligned(random, b.length);
                int length = Math.min(b.length - from, 8 * (1 + random.nextInt(12)));
                int to = aligned(random, b.length + 1);
                byte[] piece = Arrays.copyOfRange(b, from, from + length);
                return concat(Arrays.copyOfRange(b, 0, to), piece, Arrays.copyOfRange(b, to, b.length));
            }
            case 6 -> { // swap two aligned words
                if (b.length < 16) {
                    return b;
                }
                int x = random.nextInt(b.length / 8) * 8;
                int y = random.nextInt(b.length / 8) * 8;
                byte[] t = Arrays.copyOfRange(b, x, x + 8);
                System.arraycopy(b, y, b, x, 8);
                System.arraycopy(t, 0, b, y, 8);
                return b;
            }
            case 7 -> { // truncate
                return Arrays.copyOf(b, random.nextInt(b.length));
            }
            case 8 -> { // write a token over the bytes at an aligned place
                byte[] token = token(random);
                int at = aligned(random, b.length);
                byte[] out = Arrays.copyOf(b, Math.max(b.length, at + token.length));
                System.arraycopy(token, 0, out, at, token.length);
                return out;
            }
            case 9 -> { // insert a token
                byte[] token = token(random);
                int at = random.nextBoolean() ? aligned(random, b.length + 1) : random.nextInt(b.length + 1);
                return concat(Arrays.copyOfRange(b, 0, at), token, Arrays.copyOfRange(b, at, b.length));
            }
            default -> { // append random bytes
                byte[] tail = new byte[1 + random.nextInt(16)];
                random.nextBytes(tail);
                return concat(b, tail);
            }
        }
    }

    private byte[] token(Random random) {
        return dictionary.isEmpty() ? new byte[] {INTERESTING_BYTES[random.nextInt(INTERESTING_BYTES.length)]}
                : dictionary.get(random.nextInt(dictionary.size()));
    }

    private static int aligned(Random random, int bound) {
        int at = random.nextInt(Math.max(bound, 1));
        return random.nextInt(4) == 0 ? at : at / 8 * 8;
    }

    private static void putLong(byte[] b, int at, long value) {
        for (int i = 0; i < 8; i++) {
            b[at + i] = (byte) (value >>> (8 * i));
        }
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
