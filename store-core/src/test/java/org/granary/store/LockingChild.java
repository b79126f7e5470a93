package org.granary.store;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A second process for the lock tests: takes a lock (or adds a temporary root), says so on stdout, and
 * holds it until it reads a line on stdin (or is killed). {@link #start} runs it in a child JVM.
 */
public final class LockingChild {
    private LockingChild() {}

    /**
     * {@code path-lock ROOT LOGICAL STOREPATH keep|delete}, or {@code temp-root STATEDIR STOREPATH} (which
     * then adds each path it reads, until an empty line).
     *
     * @param args the mode and its arguments
     * @throws IOException if the lock cannot be taken
     */
    public static void main(String[] args) throws IOException {
        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        switch (args[0]) {
            case "path-lock": {
                StoreDir storeDir = StoreDir.of(args[2], Path.of(args[1]));
                try (PathLocks.Held held =
                        new PathLocks(storeDir).lock(List.of(StorePath.parse(args[3], storeDir)))) {
                    if (args[4].equals("delete")) {
                        held.deleteLockFilesOnClose();
                    }
                    say("locked");
                    stdin.readLine();
                }
                say("released");
                break;
            }
            case "temp-root": {
                try (TempRoots roots = TempRoots.open(Path.of(args[1]))) {
                    roots.add(StorePath.parse(args[2], "/gnu/store"));
                    say("added");
                    String line;
                    while ((line = stdin.readLine()) != null && !line.isEmpty()) {
                        roots.add(StorePath.parse(line, "/gnu/store"));
                        say("added");
                    }
                }
                say("removed");
                break;
            }
            default:
                throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }

    private static void say(String word) {
        System.out.println(word);
        System.out.flush();
    }

    /** Starts the child JVM with {@code args} and waits for its first line, which must be {@code expected}. */
    static Child start(String expected, String... args) throws IOException {
        List<String> command = ChildJvm.command(LockingChild.class);
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Child child = new Child(process);
        String line = child.readLine();
        if (!expected.equals(line)) {
            process.destroyForcibly();
            throw new IOException("the child said " + line + ", not " + expected);
        }
        return child;
    }

    /** A running child. */
    static final class Child implements AutoCloseable {
        final Process process;
        private final BufferedReader stdout;

        Child(Process process) {
            this.process = process;
            this.stdout = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }

        String readLine() throws IOException {
            return stdout.readLine();
        }

        /** Sends the line that makes the child release what it holds. */
        void proceed() throws IOException {
            send("");
        }

        /** Sends a line to the child. */
        void send(String line) throws IOException {
            process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
            process.getOutputStream().flush();
        }

        int waitFor() throws InterruptedException {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("the child did not exit");
            }
            return process.exitValue();
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }
}
