package org.granary.nar.testing;

import java.io.File;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * Real Nix (the {@code nix-bin} package) as a test oracle for the formats Guix shares with it: NAR
 * bytes, NAR and flat hashes, and the store paths of added files and text files.
 *
 * <p>Each oracle owns a private Nix installation under a directory the caller provides (usually a JUnit
 * {@code @TempDir}): configuration, state and logs live there, and the store's logical directory is
 * {@value #STORE_DIR} while its items are written under {@link #realStoreDir()}. Nothing touches the
 * real {@code /gnu/store}: the private {@code nix.conf} sets {@code store =} to a chroot-style local
 * store, because any {@code nix-store} command that opens the default store (even
 * {@code nix-store --version}) would otherwise create {@code /gnu/store/.links}.
 *
 * <p>Every method runs a subprocess; a failing one throws {@link IOException} naming the command, its
 * exit code and its standard error. Tests call {@link #assumeAvailable()} first so that a machine without
 * Nix reports them as skipped rather than failed.
 *
 * <p>Thread-safety: an oracle may be shared between threads (each call is its own process), but Nix
 * serialises writers of one store through its database lock.
 */
public final class NixOracle {

    /** The logical store directory of every oracle, as on Guix. */
    public static final String STORE_DIR = "/gnu/store";

    private static final List<String> TOOLS = List.of("nix-store", "nix-hash", "nix-instantiate");
    private static final Pattern STORE_PATH = Pattern.compile(Pattern.quote(STORE_DIR) + "/[0-9a-z]{32}-[^/\\s]+");

    private final Path home;
    private final Map<String, String> environment;

    private NixOracle(Path home, Map<String, String> environment) {
        this.home = home;
        this.environment = environment;
    }

    /** Returns whether all of nix-store, nix-hash and nix-instantiate are executable files on PATH. */
    public static boolean isAvailable() {
        return missingTools().isEmpty();
    }

    /**
     * Aborts the calling test as skipped (JUnit assumption) when Nix is not installed, with a message
     * saying which tool is missing and how to install it.
     */
    public static void assumeAvailable() {
        List<String> missing = missingTools();
        if (!missing.isEmpty() && "true".equals(System.getenv("CI"))) {
            // CI installs nix-bin (.ci/run): there a missing Nix is a broken set-up, not a reason to skip.
            throw new IllegalStateException(String.join(", ", missing)
                + " not found on PATH under CI=true: the interop tests must run in CI; install nix-bin");
        }
        Assumptions.assumeTrue(missing.isEmpty(), () -> String.join(", ", missing)
                + " not found on PATH: skipping interop test; install nix-bin (apt-get install nix-bin)");
    }

    /**
     * Sets up a private Nix installation in {@code directory} (created if needed; it should be empty and
     * is left for the caller to delete). Its absolute path may contain only letters, digits and
     * {@code /._+-}, as JUnit's {@code @TempDir} paths do.
     *
     * @throws IllegalArgumentException if the path has other characters
     * @throws IllegalStateException if Nix is not installed (call {@link #assumeAvailable()} first)
     */
    public static NixOracle open(Path directory) throws IOException {
        List<String> missing = missingTools();
        if (!missing.isEmpty()) {
            throw new IllegalStateException(missing + " not found on PATH; call NixOracle.assumeAvailable() first");
        }
        Path home = directory.toAbsolutePath();
        if (!home.toString().matches("[A-Za-z0-9/._+-]+")) {
            // The directory goes unescaped into a store URI and nix.conf.
            throw new IllegalArgumentException("the oracle's directory must be a plain path, not " + home);
        }
        Path conf = Files.createDirectories(home.resolve("conf"));
        Files.createDirectories(home.resolve("root"));
        Files.createDirectories(home.resolve("home"));
        String store = "local?store=" + STORE_DIR
                + "&real=" + home.resolve("root/gnu/store")
                + "&state=" + home.resolve("root/var/guix")
                + "&log=" + home.resolve("log");
        Path nixConf = conf.resolve("nix.conf");
        // No build users and no sandbox (they need privileges and a daemon); no substituters, so that
        // nothing tries the network.
        Files.writeString(nixConf, "build-users-group =\nsandbox = false\nsubstituters =\nstore = " + store + "\n");
        Map<String, String> env = Map.ofEntries(
                Map.entry("NIX_STORE_DIR", STORE_DIR),
                Map.entry("NIX_STATE_DIR", home.resolve("state").toString()),
                Map.entry("NIX_LOG_DIR", home.resolve("log").toString()),
                Map.entry("NIX_CONF_DIR", conf.toString()),
                Map.entry("NIX_USER_CONF_FILES", nixConf.toString()),
                Map.entry("HOME", home.resolve("home").toString()),
                Map.entry("XDG_CACHE_HOME", home.resolve("home/.cache").toString()),
                Map.entry("XDG_CONFIG_HOME", home.resolve("home/.config").toString()),
                Map.entry("XDG_DATA_HOME", home.resolve("home/.local/share").toString()));
        return new NixOracle(home, env);
    }

    /**
     * The physical root of the private store: its items are under {@code root()/gnu/store}, its database
     * under {@code root()/var/guix}.
     */
    public Path root() {
        return home.resolve("root");
    }

    /** Where the items of the private store really are ({@code root()/gnu/store}). */
    public Path realStoreDir() {
        return root().resolve("gnu/store");
    }

    /** The private store's state directory ({@code root()/var/guix}: {@code db/}, {@code gcroots/}, ...). */
    public Path stateDir() {
        return root().resolve("var/guix");
    }

    /** Where {@code logical} (a path under {@value #STORE_DIR}) really is in this oracle's store. */
    public Path physicalPath(String logical) {
        if (!logical.startsWith(STORE_DIR + "/")) {
            throw new IllegalArgumentException(logical + " is not under " + STORE_DIR);
        }
        return realStoreDir().resolve(logical.substring(STORE_DIR.length() + 1));
    }

    /**
     * Opens the output of {@code nix-store --dump path}: the NAR of {@code path} as Nix writes it. Closing
     * the stream reads whatever is left, waits for the process and throws if it failed, so a reader that
     * closes it has seen the whole NAR of a successful dump.
     */
    public InputStream openDump(Path path) throws IOException {
        return start(List.of("nix-store", "--dump", path.toAbsolutePath().toString()));
    }

    /** Writes the NAR of {@code path} as {@code nix-store --dump} produces it to {@code out}; returns its size. */
    public long dump(Path path, OutputStream out) throws IOException {
        try (InputStream in = openDump(path)) {
            return in.transferTo(out);
        }
    }

    /** The SHA-256 and size of {@code nix-store --dump path}, computed while streaming. */
    public StreamDigest dumpDigest(Path path) throws IOException {
        try (InputStream in = openDump(path)) {
            return StreamDigest.of(in);
        }
    }

    /**
     * {@code nix-hash --type algo [--base32] path}: the NAR hash of {@code path}, in lower-case base16 or
     * nix-base32, without an algorithm prefix.
     */
    public String nixHash(Path path, String algo, boolean base32) throws IOException {
        return hash(path, algo, base32, false);
    }

    /** {@code nix-hash --flat --type algo [--base32] file}: the plain hash of a regular file's contents. */
    public String nixHashFlat(Path file, String algo, boolean base32) throws IOException {
        return hash(file, algo, base32, true);
    }

    private String hash(Path path, String algo, boolean base32, boolean flat) throws IOException {
        List<String> command = new ArrayList<>(List.of("nix-hash", "--type", algo));
        if (base32) {
            command.add("--base32");
        }
        if (flat) {
            command.add("--flat");
        }
        command.add(path.toAbsolutePath().toString());
        return run(command).strip();
    }

    /** {@code nix-store --add path}: adds a file tree as a source and returns its store path. */
    public String addSource(Path path) throws IOException {
        return storePathOutput(run(List.of("nix-store", "--add", path.toAbsolutePath().toString())));
    }

    /**
     * {@code nix-store --add-fixed [--recursive] algo path}: adds a fixed-output path (flat: a regular
     * file's contents; recursive: a NAR) and returns its store path.
     */
    public String addFixed(String algo, boolean recursive, Path path) throws IOException {
        List<String> command = new ArrayList<>(List.of("nix-store", "--add-fixed"));
        if (recursive) {
            command.add("--recursive");
        }
        command.add(algo);
        command.add(path.toAbsolutePath().toString());
        return storePathOutput(run(command));
    }

    /**
     * Adds a text file with {@code builtins.toFile name contents} and returns its store path. Each of
     * {@code references} must be a valid path of this oracle's store (from {@link #addSource},
     * {@link #addFixed} or an earlier {@code toFile}) and must occur in {@code contents}: its occurrences
     * are interpolated as {@code builtins.storePath}, which is what makes Nix record the reference.
     *
     * @throws IllegalArgumentException if a reference does not occur in the contents, or the contents
     *     contain NUL (a Nix string cannot)
     */
    public String toFile(String name, String contents, String... references) throws IOException {
        String expression = "builtins.toFile " + nixString(name) + " "
                + nixStringWithReferences(contents, Arrays.asList(references));
        // --read-write-mode: by default --eval only computes the path without writing the file.
        String output = run(List.of("nix-instantiate", "--read-write-mode", "--eval", "-E", expression)).strip();
        if (output.length() < 2 || !output.startsWith("\"") || !output.endsWith("\"")) {
            throw new IOException("nix-instantiate printed " + output + ", expected a quoted store path");
        }
        return storePathOutput(output.substring(1, output.length() - 1));
    }

    /**
     * Runs {@code nix-store} with {@code arguments} against the private store (for example
     * {@code "--query", "--references", path}) and returns its standard output.
     */
    public String nixStore(String... arguments) throws IOException {
        List<String> command = new ArrayList<>(List.of("nix-store"));
        command.addAll(List.of(arguments));
        return run(command);
    }

    /**
     * Runs {@code nix} (the newer command line, with the {@code nix-command} feature of nix 2.8 enabled)
     * with {@code arguments} against the private store, for example {@code "copy", "--to", "file://DIR",
     * path}, and returns its standard output.
     */
    public String nix(String... arguments) throws IOException {
        List<String> command = new ArrayList<>(List.of("nix", "--extra-experimental-features", "nix-command"));
        command.addAll(List.of(arguments));
        return run(command);
    }

    /**
     * Starts {@code nix-store} with {@code arguments} against the private store and returns its standard
     * output as bytes (for example the stream of {@code --export}). Closing the stream reads whatever is
     * left, waits for the process and throws if it failed.
     */
    public InputStream openNixStore(String... arguments) throws IOException {
        List<String> command = new ArrayList<>(List.of("nix-store"));
        command.addAll(List.of(arguments));
        return start(command, null);
    }

    /**
     * Runs {@code nix-store} with {@code arguments} against the private store, its standard input read
     * from {@code input} (for example {@code --import} of an export file), and returns its standard output.
     */
    public String nixStoreWithInput(Path input, String... arguments) throws IOException {
        List<String> command = new ArrayList<>(List.of("nix-store"));
        command.addAll(List.of(arguments));
        try (InputStream out = start(command, input.toFile())) {
            return new String(out.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String nixStringWithReferences(String contents, List<String> references) {
        for (String reference : references) {
            if (!STORE_PATH.matcher(reference).matches()) {
                throw new IllegalArgumentException(reference + " is not a store path under " + STORE_DIR);
            }
            if (!contents.contains(reference)) {
                throw new IllegalArgumentException("reference " + reference + " does not occur in the contents");
            }
        }
        // Longest first, so that a path which is a prefix of another cannot split it.
        List<String> byLength = new ArrayList<>(references);
        byLength.sort(Comparator.comparingInt(String::length).reversed());
        StringBuilder nix = new StringBuilder("\"");
        int i = 0;
        next:
        while (i < contents.length()) {
            for (String reference : byLength) {
                if (contents.startsWith(reference, i)) {
                    nix.append("${builtins.storePath ").append(nixString(reference)).append('}');
                    i += reference.length();
                    continue next;
                }
            }
            appendEscaped(nix, contents.charAt(i));
            i++;
        }
        return nix.append('"').toString();
    }

    private static String nixString(String text) {
        StringBuilder nix = new StringBuilder("\"");
        text.chars().forEach(c -> appendEscaped(nix, (char) c));
        return nix.append('"').toString();
    }

    private static void appendEscaped(StringBuilder nix, char c) {
        switch (c) {
            case '\0' -> throw new IllegalArgumentException("a Nix string cannot contain NUL");
            case '\n' -> nix.append("\\n");
            case '\r' -> nix.append("\\r");
            case '\t' -> nix.append("\\t");
            // "\$" keeps "${" from starting an interpolation.
            case '\\', '"', '$' -> nix.append('\\').append(c);
            default -> nix.append(c);
        }
    }

    private static String storePathOutput(String output) throws IOException {
        String path = output.strip();
        if (!STORE_PATH.matcher(path).matches()) {
            throw new IOException("expected a store path under " + STORE_DIR + " but Nix printed: " + output);
        }
        return path;
    }

    private String run(List<String> command) throws IOException {
        try (InputStream out = start(command)) {
            return new String(out.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private ProcessInputStream start(List<String> command) throws IOException {
        return start(command, null);
    }

    private ProcessInputStream start(List<String> command, File input) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command);
        Map<String, String> env = builder.environment();
        // Variables that would point Nix at another store, daemon or configuration.
        env.keySet().removeIf(name -> name.startsWith("NIX_"));
        env.putAll(environment);
        // stderr goes to a file so that a chatty process can never block on a full pipe.
        Path stderr = Files.createTempFile(home, "stderr-", ".txt");
        builder.redirectError(stderr.toFile());
        builder.redirectInput(ProcessBuilder.Redirect.from(input == null ? new File("/dev/null") : input));
        return new ProcessInputStream(builder.start(), command, stderr);
    }

    private static List<String> missingTools() {
        String path = Optional.ofNullable(System.getenv("PATH")).orElse("");
        List<String> missing = new ArrayList<>();
        for (String tool : TOOLS) {
            boolean found = Arrays.stream(path.split(File.pathSeparator))
                    .filter(dir -> !dir.isEmpty())
                    .map(dir -> Path.of(dir, tool))
                    .anyMatch(candidate -> Files.isRegularFile(candidate) && Files.isExecutable(candidate));
            if (!found) {
                missing.add(tool);
            }
        }
        return missing;
    }

    /** A process's standard output; {@link #close()} drains it, waits and turns a failure into an exception. */
    private static final class ProcessInputStream extends FilterInputStream {
        private final Process process;
        private final List<String> command;
        private final Path stderr;
        private boolean closed;

        ProcessInputStream(Process process, List<String> command, Path stderr) {
            super(process.getInputStream());
            this.process = process;
            this.command = command;
            this.stderr = stderr;
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            try {
                // Read to the end: a process killed by SIGPIPE would look like a failure.
                in.transferTo(OutputStream.nullOutputStream());
                in.close();
                int exit = process.waitFor();
                if (exit != 0) {
                    throw new IOException("command " + command + " exited with " + exit + ": "
                            + Files.readString(stderr, StandardCharsets.UTF_8).strip());
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for " + command, e);
            } finally {
                Files.deleteIfExists(stderr);
            }
        }
    }
}
