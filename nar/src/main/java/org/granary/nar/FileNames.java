package org.granary.nar;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * File names as exact bytes. The JDK converts name bytes to and from Strings with the charset in
 * {@code sun.jnu.encoding}, fixed from the locale at JVM start; bytes that charset cannot decode become
 * U+FFFD in {@code toString()}, while the {@code Path} itself keeps the exact bytes. These helpers tell an
 * exact conversion from a lossy one, so that a name is either carried exactly or refused, never altered.
 */
final class FileNames {
    private FileNames() {}

    /** The JDK's file name charset. */
    static final Charset JNU = jnuCharset();

    /**
     * Whether a decoding with {@link #JNU} that produced no U+FFFD was exact. True of these charsets:
     * each decodes valid input one to one and turns every byte it cannot decode into U+FFFD (ISO-8859-1
     * decodes every byte). Other charsets take the slower check.
     */
    private static final boolean REPLACES_BAD_BYTES = JNU.equals(StandardCharsets.UTF_8)
            || JNU.equals(StandardCharsets.US_ASCII) || JNU.equals(StandardCharsets.ISO_8859_1);

    /**
     * The end of every refusal's message. Under a UTF-8 locale every UTF-8 name is representable, so only
     * bytes that are not UTF-8 are refused; under another locale, a UTF-8 one is the remedy.
     */
    static String advice() {
        if (JNU.equals(StandardCharsets.UTF_8)) {
            return "is not valid UTF-8: this JVM, whose file name charset is UTF-8, cannot carry it exactly";
        }
        return "cannot be represented exactly in this JVM's file name charset " + JNU
                + "; run Java with a UTF-8 locale (LC_ALL=C.UTF-8)";
    }

    /**
     * The exact bytes of a path the JVM cannot represent, for messages: its {@code toString()} shows
     * U+FFFD for the bytes it could not decode, while its URI percent-encodes them.
     */
    static String rawBytes(Path path) {
        try {
            if (path.isAbsolute()) {
                return " (its bytes: " + path.toUri().getRawPath() + ")";
            }
            // toUri would make a relative path (a symlink target) absolute against the working directory.
            return " (its bytes: " + path.getFileSystem().getPath("/").resolve(path).toUri().getRawPath().substring(1) + ")";
        } catch (RuntimeException e) {
            return "";
        }
    }

    /** The exact bytes of the name of {@code entry}, listed in {@code dir}, or null if the JVM cannot give them. */
    static byte[] entryName(Path dir, Path entry) {
        String s = entry.getFileName().toString();
        if (REPLACES_BAD_BYTES && s.indexOf('\uFFFD') < 0) {
            return s.getBytes(JNU); // decoded without a replacement: exact (the common case, kept cheap)
        }
        try {
            // UnixPath.equals compares bytes: equal only if s encodes back to the name's own bytes.
            if (!dir.resolve(s).equals(entry)) {
                return null;
            }
        } catch (InvalidPathException e) {
            return null; // the charset cannot encode s, so s is not the name
        }
        return s.getBytes(JNU);
    }

    /** The exact bytes of a symlink target as read by {@code Files.readSymbolicLink}, or null. */
    static byte[] targetBytes(Path target) {
        String s = target.toString();
        // Without U+FFFD the decoding was exact; with one, the target may really contain U+FFFD.
        if ((!REPLACES_BAD_BYTES || s.indexOf('\uFFFD') >= 0) && !Path.of(s).equals(target)) {
            return null;
        }
        return s.getBytes(JNU);
    }

    /** As the JDK's own {@code sun.nio.fs.Util}: the named charset, else the default one. */
    private static Charset jnuCharset() {
        String name = System.getProperty("sun.jnu.encoding");
        if (name != null && Charset.isSupported(name)) {
            return Charset.forName(name);
        }
        return Charset.defaultCharset();
    }

    /** A decoder for {@link #decode}; not thread-safe, so one per restore. */
    static CharsetDecoder strictDecoder() {
        return JNU.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
    }

    /** The String the JDK turns into exactly {@code bytes}, or null if there is none. */
    static String decode(byte[] bytes, CharsetDecoder decoder) {
        String s;
        try {
            s = decoder.decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
        return Arrays.equals(s.getBytes(JNU), bytes) ? s : null;
    }
}
