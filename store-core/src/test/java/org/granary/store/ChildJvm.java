package org.granary.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line that runs a class of the tests in a child JVM: this JVM's {@code java}, the options
 * given, this JVM's class path and the class. The children share one copy of lmdbjava's LMDB library,
 * extracted once under {@code target/}: each would otherwise copy its own to {@code /tmp}, and the copy of
 * a child the test kills stays there (the crash tests kill hundreds). Thread-safe.
 */
public final class ChildJvm {
    private ChildJvm() {
    }

    /**
     * The command that runs {@code main} with {@code options} before the class path; the caller appends
     * the program's arguments.
     *
     * @param main the class whose {@code main} the child runs
     * @param options JVM options, such as {@code -XX:+UseSerialGC}
     * @return a modifiable list
     */
    public static List<String> command(Class<?> main, String... options) {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(List.of(options));
        if (Lmdb.LIBRARY != null) {
            command.add("-Dlmdbjava.native.lib=" + Lmdb.LIBRARY);
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(main.getName());
        return command;
    }

    /** The shared copy of lmdbjava's library for this platform, made on first use; null if it has none. */
    private static final class Lmdb {
        static final Path LIBRARY = extract();

        private static Path extract() {
            String arch = switch (System.getProperty("os.arch")) {
                case "amd64", "x86_64" -> "x86_64";
                case "aarch64" -> "aarch64";
                default -> null;
            };
            String resource = "/org/lmdbjava/" + arch + "-linux-gnu.so";
            if (arch == null || !System.getProperty("os.name").equals("Linux")
                    || ChildJvm.class.getResource(resource) == null) {
                return null;
            }
            try (InputStream in = ChildJvm.class.getResourceAsStream(resource)) {
                Path dir = Files.createDirectories(Path.of("target", "lmdbjava-for-children").toAbsolutePath());
                Path library = dir.resolve(arch + "-linux-gnu.so");
                Path temp = Files.createTempFile(dir, "lmdb-", ".so");
                Files.copy(in, temp, StandardCopyOption.REPLACE_EXISTING);
                Files.move(temp, library, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                return library;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot extract lmdbjava's library for the child JVMs", e);
            }
        }
    }
}
