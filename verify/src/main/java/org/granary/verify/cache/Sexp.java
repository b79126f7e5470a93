package org.granary.verify.cache;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * An S-expression as libgcrypt reads it ({@code gcry_sexp_new}): a list of S-expressions or an atom of
 * bytes. Guix keys, ACLs and narinfo signatures are such expressions, printed in libgcrypt's
 * "advanced" format. The parser reads that format and the canonical one: tokens, {@code "quoted"}
 * strings with C escapes, {@code #hex#}, {@code |base64|} and {@code LENGTH:bytes}; display hints
 * ({@code [...]}) are refused.
 *
 * <p>Two expressions are equal when their structure and atom bytes are, as Guix compares keys of its
 * ACL (an atom's notation does not matter). Immutable; safe to share between threads.
 */
final class Sexp {
    private final byte[] atom;
    private final List<Sexp> list;

    private Sexp(byte[] atom, List<Sexp> list) {
        this.atom = atom;
        this.list = list;
    }

    /**
     * Parses exactly one expression, surrounded by optional whitespace.
     *
     * @param text the expression
     * @return it
     * @throws IllegalArgumentException naming the offset and what was found, if it is malformed
     */
    static Sexp parse(String text) {
        return parse(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Parses exactly one expression from bytes, surrounded by optional whitespace.
     *
     * @param text the expression's bytes
     * @return it
     * @throws IllegalArgumentException naming the offset and what was found, if it is malformed
     */
    static Sexp parse(byte[] text) {
        Parser parser = new Parser(text);
        Sexp sexp = parser.expression();
        parser.skipSpace();
        if (parser.pos != parser.in.length) {
            throw parser.error("text after the expression");
        }
        return sexp;
    }

    boolean isList() {
        return list != null;
    }

    /** The atom's bytes; fails on a list. */
    byte[] bytes() {
        if (atom == null) {
            throw new IllegalStateException("a list, not an atom");
        }
        return atom.clone();
    }

    /** The atom's text (its bytes as Latin-1), or null for a list. */
    String text() {
        return atom == null ? null : new String(atom, StandardCharsets.ISO_8859_1);
    }

    /** The list's elements; empty for an atom. */
    List<Sexp> elements() {
        return list == null ? List.of() : list;
    }

    /** The element at {@code index} of a list, or null if there is none. */
    Sexp get(int index) {
        return list != null && index < list.size() ? list.get(index) : null;
    }

    /** The list's first element as text (its "car" token), or null. */
    String head() {
        Sexp first = get(0);
        return first == null ? null : first.text();
    }

    /**
     * Finds, depth first, the first list whose head is {@code token}, as {@code gcry_sexp_find_token}.
     *
     * @param token such as {@code public-key}
     * @return that list, or null
     */
    Sexp find(String token) {
        if (list == null) {
            return null;
        }
        if (token.equals(head())) {
            return this;
        }
        for (Sexp element : list) {
            Sexp found = element.find(token);
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Sexp s && Arrays.equals(s.atom, atom)
            && (s.list == null ? list == null : s.list.equals(list));
    }

    @Override
    public int hashCode() {
        return list != null ? list.hashCode() : Arrays.hashCode(atom);
    }

    /** The canonical form, for messages: atoms as {@code LENGTH:bytes} (binary bytes in hex). */
    @Override
    public String toString() {
        if (list == null) {
            String t = text();
            return t.chars().allMatch(c -> c > ' ' && c < 127 && "()#|\"[]".indexOf(c) < 0) ? t
                : "#" + java.util.HexFormat.of().withUpperCase().formatHex(atom) + "#";
        }
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < list.size(); i++) {
            s.append(i == 0 ? "" : " ").append(list.get(i));
        }
        return s.append(')').toString();
    }

    /** Reads the advanced and canonical formats of libgcrypt. */
    private static final class Parser {
        private static final String TOKEN_PUNCTUATION = "-./_:*+=";
        private final byte[] in;
        private int pos;

        Parser(byte[] in) {
            this.in = in;
        }

        Sexp expression() {
            skipSpace();
            if (pos >= in.length) {
                throw error("end of text, expected an expression");
            }
            int c = in[pos] & 0xff;
            if (c == '(') {
                pos++;
                List<Sexp> elements = new ArrayList<>();
                while (true) {
                    skipSpace();
                    if (pos >= in.length) {
                        throw error("end of text inside a list");
                    }
                    if (in[pos] == ')') {
                        pos++;
                        return new Sexp(null, List.copyOf(elements));
                    }
                    elements.add(expression());
                }
            }
            return new Sexp(atom(c), null);
        }

        private byte[] atom(int c) {
            if (c == '"') {
                return quoted();
            }
            if (c == '#') {
                return hex();
            }
            if (c == '|') {
                return base64();
            }
            if (c >= '0' && c <= '9') {
                int start = pos;
                while (pos < in.length && in[pos] >= '0' && in[pos] <= '9') {
                    pos++;
                }
                if (pos < in.length && in[pos] == ':') {
                    int length = Integer.parseInt(new String(in, start, pos - start, StandardCharsets.ISO_8859_1));
                    pos++;
                    if (length > in.length - pos) {
                        throw error("canonical atom of " + length + " bytes runs past the end");
                    }
                    pos += length;
                    return Arrays.copyOfRange(in, pos - length, pos);
                }
                pos = start;
            }
            if (isTokenChar(c) && !(c >= '0' && c <= '9')) {
                int start = pos;
                while (pos < in.length && isTokenChar(in[pos] & 0xff)) {
                    pos++;
                }
                return Arrays.copyOfRange(in, start, pos);
            }
            throw error("unexpected character '" + (char) c + "'");
        }

        private byte[] quoted() {
            pos++;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            while (true) {
                if (pos >= in.length) {
                    throw error("end of text inside a quoted string");
                }
                int c = in[pos++] & 0xff;
                if (c == '"') {
                    return out.toByteArray();
                }
                if (c != '\\') {
                    out.write(c);
                    continue;
                }
                if (pos >= in.length) {
                    throw error("end of text after '\\'");
                }
                int e = in[pos++] & 0xff;
                switch (e) {
                    case 'b' -> out.write('\b');
                    case 't' -> out.write('\t');
                    case 'v' -> out.write(0x0b);
                    case 'n' -> out.write('\n');
                    case 'f' -> out.write('\f');
                    case 'r' -> out.write('\r');
                    case '"', '\'', '\\' -> out.write(e);
                    case '\n' -> { }
                    case 'x' -> {
                        out.write(Integer.parseInt(new String(in, pos, 2, StandardCharsets.ISO_8859_1), 16));
                        pos += 2;
                    }
                    default -> {
                        if (e >= '0' && e <= '7' && pos + 1 < in.length) {
                            out.write(Integer.parseInt(new String(in, pos - 1, 3, StandardCharsets.ISO_8859_1), 8));
                            pos += 2;
                        } else {
                            throw error("unknown escape '\\" + (char) e + "'");
                        }
                    }
                }
            }
        }

        private byte[] hex() {
            pos++;
            StringBuilder digits = new StringBuilder();
            while (pos < in.length && in[pos] != '#') {
                int c = in[pos++] & 0xff;
                if (Character.digit(c, 16) >= 0) {
                    digits.append((char) c);
                } else if (!isSpace(c)) {
                    throw error("'" + (char) c + "' in a #hex# string");
                }
            }
            if (pos >= in.length) {
                throw error("end of text inside a #hex# string");
            }
            pos++;
            if (digits.length() % 2 != 0) {
                throw error("odd number of digits in a #hex# string");
            }
            return java.util.HexFormat.of().parseHex(digits);
        }

        private byte[] base64() {
            pos++;
            StringBuilder digits = new StringBuilder();
            while (pos < in.length && in[pos] != '|') {
                int c = in[pos++] & 0xff;
                if (!isSpace(c)) {
                    digits.append((char) c);
                }
            }
            if (pos >= in.length) {
                throw error("end of text inside a |base64| string");
            }
            pos++;
            try {
                return Base64.getDecoder().decode(digits.toString());
            } catch (IllegalArgumentException e) {
                throw error("invalid |base64| string: " + e.getMessage());
            }
        }

        void skipSpace() {
            while (pos < in.length && isSpace(in[pos] & 0xff)) {
                pos++;
            }
        }

        private static boolean isSpace(int c) {
            return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0b;
        }

        private static boolean isTokenChar(int c) {
            return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                || TOKEN_PUNCTUATION.indexOf(c) >= 0;
        }

        IllegalArgumentException error(String problem) {
            return new IllegalArgumentException("s-expression, at byte " + pos + ": " + problem);
        }
    }
}
