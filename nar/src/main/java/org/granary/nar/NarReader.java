package org.granary.nar;

import static org.granary.nar.NarGrammar.CLOSE;
import static org.granary.nar.NarGrammar.CONTENTS;
import static org.granary.nar.NarGrammar.DIRECTORY;
import static org.granary.nar.NarGrammar.ENTRY;
import static org.granary.nar.NarGrammar.EXECUTABLE;
import static org.granary.nar.NarGrammar.MAGIC;
import static org.granary.nar.NarGrammar.MAX_NAME;
import static org.granary.nar.NarGrammar.MAX_TARGET;
import static org.granary.nar.NarGrammar.MAX_TOKEN;
import static org.granary.nar.NarGrammar.NAME;
import static org.granary.nar.NarGrammar.NODE;
import static org.granary.nar.NarGrammar.OPEN;
import static org.granary.nar.NarGrammar.REGULAR;
import static org.granary.nar.NarGrammar.SYMLINK;
import static org.granary.nar.NarGrammar.TARGET;
import static org.granary.nar.NarGrammar.TYPE;
import static org.granary.nar.NarGrammar.padding;
import static org.granary.nar.NarGrammar.quote;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Objects;

/**
 * A strict streaming NAR parser: it reads one NAR from a stream and reports it to a {@link NarVisitor}
 * as it goes, refusing with a {@link NarFormatException} (byte offset, expected, found) anything that
 * is not exactly what {@link NarWriter} would write: a wrong magic, an unknown token or type, fields out
 * of order, non-zero padding, a truncated NAR, unsorted or duplicate entries, invalid entry names (empty,
 * {@code .}, {@code ..}, with {@code /} or NUL, longer than 255 bytes), invalid symlink targets (empty,
 * longer than 4095 bytes, with NUL), an {@code executable} marker anywhere but right after
 * {@code regular} or with a value other than {@code ""}.
 *
 * <p>Guarantees: it reads exactly the NAR's bytes from the stream and never one more (what follows, for
 * example the next message on a daemon connection, stays unread), so pass a buffered stream: it reads
 * in small pieces. Its memory does not depend on any length read from the input (strings longer than
 * their field allows are refused before they are read; contents are streamed), and it uses no recursion,
 * so any depth of nesting is parsed in memory proportional to that depth. Thread-safe: {@link #read}
 * keeps no state between calls, so threads may read different NARs at once.
 */
public final class NarReader {
    /** The previous-name sentinel of a directory with no entry yet: sorts before every valid name. */
    private static final byte[] NO_NAME = new byte[0];
    private static final Tokens T_MAGIC = new Tokens(MAGIC);
    private static final Tokens T_OPEN = new Tokens(OPEN);
    private static final Tokens T_CLOSE = new Tokens(CLOSE);
    private static final Tokens T_TYPE = new Tokens(TYPE);
    private static final Tokens T_NODE_TYPES = new Tokens(REGULAR, SYMLINK, DIRECTORY);
    private static final int REGULAR_TYPE = 0;
    private static final int DIRECTORY_TYPE = 2;
    private static final Tokens T_REGULAR_FIELDS = new Tokens(EXECUTABLE, CONTENTS);
    private static final Tokens T_EXECUTABLE_MARKER = new Tokens(new byte[0]);
    private static final Tokens T_CONTENTS = new Tokens(CONTENTS);
    private static final Tokens T_TARGET = new Tokens(TARGET);
    private static final Tokens T_DIRECTORY_ITEMS = new Tokens(ENTRY, CLOSE);
    private static final Tokens T_NAME = new Tokens(NAME);
    private static final Tokens T_NODE = new Tokens(NODE);

    private final InputStream in;
    private final NarVisitor visitor;
    /** Holds the longest string field (a symlink target) with its padding; also the skip buffer. */
    private final byte[] scratch = new byte[8192];
    private long offset;

    private NarReader(InputStream in, NarVisitor visitor) {
        this.in = Objects.requireNonNull(in, "in");
        this.visitor = Objects.requireNonNull(visitor, "visitor");
    }

    /**
     * Reads one NAR from {@code in}, reporting it to {@code visitor}, and returns its length in bytes.
     * On return {@code in} is positioned right after the NAR; it is not closed.
     *
     * @param in the stream holding the NAR, read exactly up to its end
     * @param visitor receives the NAR's events
     * @return the NAR's length in bytes
     * @throws NarFormatException if the NAR is malformed or ends early
     * @throws IOException if {@code in} fails, or as thrown by the visitor
     */
    public static long read(InputStream in, NarVisitor visitor) throws IOException {
        return new NarReader(in, visitor).readNar();
    }

    private long readNar() throws IOException {
        token(T_MAGIC);
        token(T_OPEN);
        token(T_TYPE);
        // The previous entry name of each open directory, innermost first: the only state nesting needs.
        ArrayDeque<byte[]> directories = new ArrayDeque<>();
        while (true) {
            // At the type of a node.
            int type = token(T_NODE_TYPES);
            if (type == DIRECTORY_TYPE) {
                visitor.directoryStart();
                directories.push(NO_NAME);
            } else {
                if (type == REGULAR_TYPE) {
                    regular();
                } else {
                    symlink();
                }
                token(T_CLOSE);
                if (directories.isEmpty()) {
                    return offset;
                }
                token(T_CLOSE); // the entry holding this node
            }
            // Inside a directory: end it, and each directory it was the last entry of, until an entry starts.
            while (token(T_DIRECTORY_ITEMS) == 1) { // ")" rather than "entry"
                visitor.directoryEnd();
                directories.pop();
                if (directories.isEmpty()) {
                    return offset;
                }
                token(T_CLOSE);
            }
            token(T_OPEN);
            token(T_NAME);
            byte[] name = name(directories.pop());
            directories.push(name);
            visitor.entry(name.clone());
            token(T_NODE);
            token(T_OPEN);
            token(T_TYPE);
        }
    }

    private void regular() throws IOException {
        boolean executable = token(T_REGULAR_FIELDS) == 0; // "executable" rather than "contents"
        if (executable) {
            token(T_EXECUTABLE_MARKER);
            token(T_CONTENTS);
        }
        long start = offset;
        long size = readLong("a file size");
        if (size < 0) {
            throw malformed(start, "a file size below 2^63", Long.toUnsignedString(size));
        }
        Contents contents = new Contents(size);
        try {
            visitor.regular(executable, size, contents);
            while (contents.remaining > 0) {
                contents.read(scratch, 0, scratch.length);
            }
        } finally {
            contents.valid = false;
        }
        int pad = padding(size);
        readFully(scratch, pad, "padding");
        checkPadding(0, pad);
    }

    private void symlink() throws IOException {
        token(T_TARGET);
        long start = offset;
        int len = length(MAX_TARGET, "a symlink target of at most " + MAX_TARGET + " bytes");
        readFully(scratch, len + padding(len), "a symlink target");
        String rule = NarGrammar.targetRule(scratch, 0, len);
        if (rule != null) {
            throw malformed(start, rule, quote(scratch, 0, len));
        }
        byte[] target = Arrays.copyOf(scratch, len);
        checkPadding(len, padding(len));
        visitor.symlink(target);
    }

    /** Reads an entry name, which must be valid and sort after {@code previous}. */
    private byte[] name(byte[] previous) throws IOException {
        long start = offset;
        int len = length(MAX_NAME, "an entry name of at most " + MAX_NAME + " bytes");
        readFully(scratch, len + padding(len), "an entry name");
        String rule = NarGrammar.nameRule(scratch, 0, len);
        if (rule != null) {
            throw malformed(start, rule, quote(scratch, 0, len));
        }
        int order = NarGrammar.compare(previous, previous.length, scratch, len);
        if (order >= 0) {
            throw malformed(start, "an entry name sorting after the previous entry " + quote(previous),
                    quote(scratch, 0, len) + (order == 0 ? " (a duplicate)" : ""));
        }
        byte[] name = Arrays.copyOf(scratch, len);
        checkPadding(len, padding(len));
        return name;
    }

    /** Reads a string that must be one of {@code tokens}, and returns the index of the one it is. */
    private int token(Tokens tokens) throws IOException {
        long start = offset;
        int len = length(MAX_TOKEN, tokens.expected);
        readFully(scratch, len + padding(len), tokens.expected);
        for (int i = 0; i < tokens.choices.length; i++) {
            byte[] choice = tokens.choices[i];
            if (Arrays.equals(scratch, 0, len, choice, 0, choice.length)) {
                checkPadding(len, padding(len));
                return i;
            }
        }
        throw malformed(start, tokens.expected, quote(scratch, 0, len));
    }

    /** Reads a string's length, refused if above {@code max} before anything is allocated or read. */
    private int length(int max, String expected) throws IOException {
        long start = offset;
        long len = readLong(expected);
        if (Long.compareUnsigned(len, max) > 0) {
            throw malformed(start, expected, "a string of " + Long.toUnsignedString(len) + " bytes");
        }
        return (int) len;
    }

    private long readLong(String what) throws IOException {
        readFully(scratch, 8, what);
        return NarGrammar.getLong(scratch, 0);
    }

    /** Checks that the {@code pad} bytes at {@code scratch[from]}, the last ones read, are zero. */
    private void checkPadding(int from, int pad) throws NarFormatException {
        for (int i = from; i < from + pad; i++) {
            if (scratch[i] != 0) {
                throw malformed(offset - pad + (i - from), "zero padding",
                        String.format("byte 0x%02x", scratch[i] & 0xff));
            }
        }
    }

    private void readFully(byte[] b, int len, String what) throws IOException {
        int done = 0;
        while (done < len) {
            int n = in.read(b, done, len - done);
            if (n < 0) {
                throw truncated(what);
            }
            done += n;
            offset += n;
        }
    }

    private NarFormatException truncated(String what) {
        return new NarFormatException("unexpected end of NAR at offset " + offset + " while reading " + what, offset);
    }

    private static NarFormatException malformed(long at, String expected, String found) {
        return new NarFormatException("NAR offset " + at + ": expected " + expected + " but found " + found, at);
    }

    /** The tokens allowed at one place of the grammar, with their description for error messages. */
    private static final class Tokens {
        final byte[][] choices;
        final String expected;

        Tokens(byte[]... choices) {
            this.choices = choices;
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < choices.length; i++) {
                if (i > 0) {
                    s.append(i == choices.length - 1 ? " or " : ", ");
                }
                s.append(quote(choices[i]));
            }
            this.expected = s.toString();
        }
    }

    /** The contents of one regular file, handed to the visitor: exactly its bytes, then end of stream. */
    private final class Contents extends InputStream {
        private long remaining;
        private boolean valid = true;

        Contents(long size) {
            this.remaining = size;
        }

        @Override
        public int read() throws IOException {
            checkValid();
            if (remaining == 0) {
                return -1;
            }
            int b = in.read();
            if (b < 0) {
                throw truncated("the contents of a regular file");
            }
            offset++;
            remaining--;
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            checkValid();
            if (len == 0) {
                return 0;
            }
            if (remaining == 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, remaining));
            if (n < 0) {
                throw truncated("the contents of a regular file");
            }
            offset += n;
            remaining -= n;
            return n;
        }

        @Override
        public int available() throws IOException {
            checkValid();
            return (int) Math.min(in.available(), remaining);
        }

        private void checkValid() {
            if (!valid) {
                throw new IllegalStateException("NAR contents stream used after its visitor event returned");
            }
        }
    }
}
