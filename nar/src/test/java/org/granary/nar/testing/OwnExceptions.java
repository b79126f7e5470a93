package org.granary.nar.testing;

import java.util.Arrays;

/**
 * The check every hostile-input property makes of a parser's outcome: it accepted the input or refused it
 * with one of its own exceptions, never with another (an NPE, an index out of bounds, an OOM, a bare
 * runtime exception). A failure shows the input in hex, ready for the corpus.
 */
public final class OwnExceptions {
    private OwnExceptions() {}

    /**
     * Fails, showing the input, unless {@code thrown} is null or an instance of one of {@code own}.
     *
     * @param thrown what the parser threw, or null if it accepted the input
     * @param input the input
     * @param own the parser's own exceptions
     */
    @SafeVarargs
    public static void expect(Throwable thrown, byte[] input, Class<? extends Throwable>... own) {
        if (thrown == null || Arrays.stream(own).anyMatch(c -> c.isInstance(thrown))) {
            return;
        }
        throw new AssertionError("the input was refused with " + thrown.getClass().getName() + " instead of "
                + Arrays.toString(own) + ": " + hex(input), thrown);
    }

    /** The first 512 bytes of an input in hex, for a failure's message. */
    public static String hex(byte[] input) {
        StringBuilder s = new StringBuilder(input.length + " bytes: ");
        for (int i = 0; i < Math.min(input.length, 512); i++) {
            s.append(String.format("%02x", input[i]));
        }
        return s.append(input.length > 512 ? "…" : "").toString();
    }
}
