package org.granary.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.ArrayDeque;

/**
 * Writes one JSON value (RFC 8259) as a stream of calls: {@link #beginObject()}, {@link #name(String)}
 * followed by a value, {@link #endObject()}, and the same for arrays. Strings are escaped completely:
 * {@code "} and {@code \}, every control character, and every character outside ASCII as {@code \}{@code
 * uXXXX} (surrogate pairs as two escapes, a lone surrogate as itself escaped), so the output is ASCII and
 * valid whatever the file names in it hold. Misuse (a value where a name is due, an unbalanced end) is an
 * {@link IllegalStateException}. Not thread-safe.
 */
final class JsonWriter {
    private final Writer out;
    /** For each open container: 'o' awaiting a name, 'v' awaiting a name's value, 'a' in an array. */
    private final ArrayDeque<Character> open = new ArrayDeque<>();
    /** Whether the open container already holds an element, so the next needs a comma. */
    private final ArrayDeque<Boolean> filled = new ArrayDeque<>();
    private boolean done;

    JsonWriter(Writer out) {
        this.out = out;
    }

    JsonWriter beginObject() {
        beforeValue();
        write("{");
        open.push('o');
        filled.push(false);
        return this;
    }

    JsonWriter endObject() {
        if (open.isEmpty() || open.peek() != 'o') {
            throw new IllegalStateException("no object to end here");
        }
        open.pop();
        filled.pop();
        write("}");
        afterValue();
        return this;
    }

    JsonWriter beginArray() {
        beforeValue();
        write("[");
        open.push('a');
        filled.push(false);
        return this;
    }

    JsonWriter endArray() {
        if (open.isEmpty() || open.peek() != 'a') {
            throw new IllegalStateException("no array to end here");
        }
        open.pop();
        filled.pop();
        write("]");
        afterValue();
        return this;
    }

    JsonWriter name(String name) {
        if (open.isEmpty() || open.peek() != 'o') {
            throw new IllegalStateException("a name outside an object, or two names in a row: " + name);
        }
        if (filled.peek()) {
            write(",");
        }
        writeString(name);
        write(":");
        open.pop();
        open.push('v');
        return this;
    }

    JsonWriter value(String value) {
        beforeValue();
        if (value == null) {
            write("null");
        } else {
            writeString(value);
        }
        afterValue();
        return this;
    }

    JsonWriter value(long value) {
        beforeValue();
        write(Long.toString(value));
        afterValue();
        return this;
    }

    /** A finite number; JSON has no NaN or infinity. */
    JsonWriter value(double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException("JSON has no " + value);
        }
        beforeValue();
        write(Double.toString(value));
        afterValue();
        return this;
    }

    JsonWriter value(boolean value) {
        beforeValue();
        write(Boolean.toString(value));
        afterValue();
        return this;
    }

    /** A name and a string value, or nothing when the value is null ("where it applies"). */
    JsonWriter optional(String name, String value) {
        return value == null ? this : name(name).value(value);
    }

    private void beforeValue() {
        if (done) {
            throw new IllegalStateException("the JSON value is complete");
        }
        if (!open.isEmpty()) {
            char state = open.peek();
            if (state == 'o') {
                throw new IllegalStateException("a value where a name is due");
            }
            if (state == 'a' && filled.peek()) {
                write(",");
            }
        }
    }

    private void afterValue() {
        if (open.isEmpty()) {
            done = true;
            return;
        }
        if (open.peek() == 'v') {
            open.pop();
            open.push('o');
        }
        filled.pop();
        filled.push(true);
    }

    private void writeString(String text) {
        StringBuilder escaped = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> escaped.append("\\\"");
                case '\\' -> escaped.append("\\\\");
                case '\n' -> escaped.append("\\n");
                case '\r' -> escaped.append("\\r");
                case '\t' -> escaped.append("\\t");
                case '\b' -> escaped.append("\\b");
                case '\f' -> escaped.append("\\f");
                default -> {
                    if (c < 0x20 || c >= 0x7f) {
                        escaped.append(String.format("\\u%04x", (int) c));
                    } else {
                        escaped.append(c);
                    }
                }
            }
        }
        write(escaped.append('"').toString());
    }

    private void write(String text) {
        try {
            out.write(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
