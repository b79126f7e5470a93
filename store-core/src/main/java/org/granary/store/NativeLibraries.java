package org.granary.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.channels.Channels;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.OpenOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;

/**
 * Loads Granary's optional JNI libraries (built with their modules from {@code src/main/c} when a C
 * compiler is there): from the directory the system property {@code granary.native.dir} names if it holds
 * the library (where {@code bin/granary} has them extracted at build time), else from the class path:
 * straight from the file in a build tree, through a temporary copy (deleted once loaded) from a jar. Any
 * failure means "not available", and the caller falls back to plain Java. Stateless; safe to call from
 * any thread.
 */
public final class NativeLibraries {
    /** The charset the JDK encodes file names with, fixed at JVM start (UTF-8 with bin/granary). */
    private static final Charset FILE_NAMES = Charset.forName(
        System.getProperty("sun.jnu.encoding", System.getProperty("file.encoding")));

    private static final Set<OpenOption> NEW_PRIVATE_FILE = Set.of(StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE);
    private static final FileAttribute<Set<PosixFilePermission>> PRIVATE =
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    private NativeLibraries() {
    }

    /**
     * The bytes of {@code path}, made absolute, as the JDK would hand them to the kernel: what a JNI
     * library passes to {@code open(2)} and its kind to name the same file.
     *
     * @param path a path
     * @return its absolute form's bytes, without a terminating NUL
     */
    public static byte[] pathBytes(Path path) {
        return path.toAbsolutePath().toString().getBytes(FILE_NAMES);
    }

    /**
     * Loads the library at {@code resource}, relative to {@code owner}'s package.
     *
     * @param owner the class whose native methods the library implements
     * @param resource such as {@code native/libgranary-digest.so}
     * @return whether it is loaded
     */
    public static boolean load(Class<?> owner, String resource) {
        try {
            Path extracted = extracted(resource);
            if (extracted != null) {
                System.load(extracted.toString());
                return true;
            }
            URL library = owner.getResource(resource);
            if (library == null) {
                return false;
            }
            if ("file".equals(library.getProtocol())) {
                System.load(Path.of(library.toURI()).toString());
            } else {
                Path copy = temporaryCopy();
                OutputStream out = Channels.newOutputStream(Files.newByteChannel(copy, NEW_PRIVATE_FILE, PRIVATE));
                try { // the file is this process's from here on
                    try (out; InputStream in = library.openStream()) {
                        in.transferTo(out);
                    }
                    System.load(copy.toString());
                } finally {
                    Files.deleteIfExists(copy); // the loaded library stays mapped
                }
            }
            return true;
        } catch (IOException | URISyntaxException | RuntimeException | UnsatisfiedLinkError e) {
            return false;
        }
    }

    /** The library's file in the directory {@code granary.native.dir} names, if it is set and holds it. */
    private static Path extracted(String resource) {
        String dir = System.getProperty("granary.native.dir");
        if (dir == null) {
            return null;
        }
        Path file = Path.of(dir, Path.of(resource).getFileName().toString()).toAbsolutePath();
        return Files.isRegularFile(file) ? file : null;
    }

    /**
     * A new name for a library's copy in the temporary directory. Not {@link Files#createTempFile}: its
     * names come from a {@link java.security.SecureRandom}, whose first use sets up the JDK's security
     * providers and seeds itself, milliseconds that every command loading a library paid before doing
     * its work. Exclusive creation ({@code O_EXCL}, which also refuses a symlink) makes any name safe;
     * a name taken is a failure, and the caller falls back to plain Java.
     */
    private static Path temporaryCopy() {
        return Path.of(System.getProperty("java.io.tmpdir"), "granary-" + ProcessHandle.current().pid() + "-"
            + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".so");
    }

    /**
     * Loads the library at {@code resource}, then runs its native initialisation; a library that lacks
     * it (an older build) counts as not loaded.
     *
     * @param owner the class whose native methods the library implements
     * @param resource such as {@code native/libgranary-digest.so}
     * @param init the library's native initialisation, such as resolving the symbols it needs
     * @return whether it is loaded and initialised
     */
    public static boolean load(Class<?> owner, String resource, BooleanSupplier init) {
        if (!load(owner, resource)) {
            return false;
        }
        try {
            return init.getAsBoolean();
        } catch (UnsatisfiedLinkError e) {
            return false;
        }
    }
}
