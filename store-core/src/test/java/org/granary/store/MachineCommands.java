package org.granary.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Commands of the machine that fault tests run (mount, chattr, debugfs, …), and whether they run as root:
 * shared by the fault tests of store-core and verify.
 */
public final class MachineCommands {
    private MachineCommands() {
    }

    /**
     * Says whether this process runs as root (effective uid 0).
     *
     * @return whether it is root
     * @throws IOException if {@code /proc/self/status} cannot be read
     */
    public static boolean isRoot() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.US_ASCII)) {
            if (line.startsWith("Uid:")) {
                return line.substring(4).trim().split("\\s+")[1].equals("0");
            }
        }
        return false;
    }

    /**
     * Runs a command and waits for it.
     *
     * @param command the program and its arguments
     * @return null on success, else its output and exit status (or why it could not start)
     * @throws InterruptedException if interrupted while waiting
     */
    public static String run(String... command) throws InterruptedException {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getOutputStream().close();
            String output;
            try (InputStream in = process.getInputStream()) {
                output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            return process.waitFor() == 0 ? null : output + " (exit " + process.exitValue() + ")";
        } catch (IOException e) {
            return e.toString();
        }
    }
}
