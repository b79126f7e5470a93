package org.granary.cli;

import java.io.BufferedInputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.Set;
import org.granary.store.StoreDatabase;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code granary} command: the entry point that parses arguments, calls the library and prints.
 *
 * <p>Exit status: 0 on success, 1 when the work failed (the reason goes to stderr as one line naming the
 * path or offset; the stack trace too with {@code --verbose}), 2 on a usage error (one line, naming the
 * command whose {@code --help} explains it).
 *
 * <p>An instance runs one command line; it is not meant to be shared between threads.
 */
@Command(
    name = "granary",
    mixinStandardHelpOptions = true,
    versionProvider = Granary.Version.class,
    description = "An engine for the GNU Guix store: NAR archives, hashes, store paths and a store "
        + "under a root of your choosing, byte-identical with the Guix daemon.",
    footerHeading = "%nExamples:%n",
    footer = {
        "  granary hash path /usr/share/doc    its NAR hash, as nix-hash --base32",
        "  granary nar dump ./src > src.nar    serialise a tree",
        "  granary store-path source ./src     the store path Guix would give ./src",
        "  granary add --root ./r ./src        add ./src to the store under ./r",
        "  source <(granary completion bash)   tab completion in bash"})
public final class Granary {
    /** Exit status of a run whose work failed. */
    static final int EXIT_FAILURE = 1;
    /** Exit status of a command line that could not be parsed. */
    static final int EXIT_USAGE = 2;

    @Option(names = {"-v", "--verbose"}, scope = CommandLine.ScopeType.INHERIT,
        description = "Print the stack trace of an error, and the library's log messages down to debug.")
    boolean verbose;

    @Option(names = {"-q", "--quiet"}, scope = CommandLine.ScopeType.INHERIT,
        description = "Print nothing on stderr but errors: no progress, no warnings.")
    boolean quiet;

    private final InputStream in;
    private final OutputStream out;

    Granary(InputStream in, OutputStream out) {
        this.in = in;
        this.out = out;
    }

    /** The command's standard input, for binary data. */
    InputStream in() {
        return in;
    }

    /** The command's standard output, for binary data and results. */
    OutputStream out() {
        return out;
    }

    /**
     * Runs the command line and exits the JVM with its status.
     *
     * @param args the arguments, as given by the shell
     */
    public static void main(String[] args) {
        String subcommand = subcommandOf(args);
        if (subcommand != null && USE_THE_DATABASE.contains(subcommand)) {
            // The LMDB binding loads on another core while picocli parses: query --valid 261 -> 232 ms
            // (hyperfine, 15 runs each, interleaved). verify gains nothing: its hashing already overlaps it.
            Thread preload = new Thread(StoreDatabase::preload, "granary-preload");
            preload.setDaemon(true);
            preload.start();
        }
        InputStream in = new BufferedInputStream(new FileInputStream(FileDescriptor.in), 1 << 16);
        OutputStream out = new FileOutputStream(FileDescriptor.out);
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        System.exit(run(args, in, out, err));
    }

    /**
     * Runs one command line against the given streams; used by {@link #main} and by tests.
     *
     * @param args the arguments
     * @param in the standard input
     * @param out the standard output (results and binary data)
     * @param err the standard error (messages)
     * @return the exit status
     */
    static int run(String[] args, InputStream in, OutputStream out, PrintStream err) {
        Granary granary = new Granary(in, out);
        PrintWriter outWriter = new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true);
        PrintWriter errWriter = new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true);
        CommandLine commandLine = commandLine(granary, args);
        commandLine
            .setOut(outWriter)
            .setErr(errWriter)
            .setExecutionStrategy(parsed -> {
                if (granary.verbose && granary.quiet) {
                    List<CommandLine> commands = parsed.asCommandLineList();
                    throw new CommandLine.ParameterException(commands.get(commands.size() - 1),
                        "--verbose and --quiet exclude each other");
                }
                CliLogging.configure(granary.verbose, granary.quiet);
                return new CommandLine.RunLast().execute(parsed);
            })
            .setExecutionExceptionHandler((exception, line, parsed) -> {
                errWriter.println("granary: " + describe(exception));
                if (granary.verbose) {
                    exception.printStackTrace(errWriter);
                }
                errWriter.flush();
                return EXIT_FAILURE;
            });
        commandLine.setParameterExceptionHandler((exception, arguments) -> {
            CommandLine failed = exception.getCommandLine();
            errWriter.println("granary: " + exception.getMessage()
                + " (see '" + failed.getCommandSpec().qualifiedName() + " --help')");
            errWriter.flush();
            return EXIT_USAGE;
        });
        int status = commandLine.execute(args);
        outWriter.flush();
        return status;
    }

    /** The subcommands that open the store's database (some of their subcommands do not). */
    private static final Set<String> USE_THE_DATABASE = Set.of(
        "init", "add", "query", "export", "import", "register", "db", "cache", "gc", "verify", "demo");

    /** The subcommand the arguments name: the first that is not an option; null if there is none. */
    private static String subcommandOf(String[] args) {
        for (String arg : args) {
            if (!arg.startsWith("-")) {
                return arg;
            }
        }
        return null;
    }

    /** The subcommands, in the order {@code --help} lists them. */
    private static final String[] SUBCOMMANDS = {
        "nar", "hash", "store-path", "init", "add", "query", "export", "import", "register", "db", "cache", "gc",
        "verify",
        "demo",
        "completion"};

    /**
     * The command line for these arguments: the subcommand they name, or all of them when they name none
     * (for the top-level help and usage errors), or none for a bare {@code --version}. picocli reads a
     * command's annotations when it is added, which costs start-up time in proportion to the number of
     * commands: a run pays only for its own. {@code completion} describes the whole tree, so it gets all.
     */
    static CommandLine commandLine(Granary granary, String[] args) {
        CommandLine commandLine = new CommandLine(granary);
        String wanted = subcommandOf(args);
        boolean version = false;
        boolean help = false;
        for (String arg : args) {
            if (!arg.startsWith("-")) {
                break;
            }
            version |= arg.equals("--version") || arg.equals("-V");
            help |= arg.equals("--help") || arg.equals("-h");
        }
        if (wanted == null && version && !help) {
            return commandLine;
        }
        boolean all = !java.util.Arrays.asList(SUBCOMMANDS).contains(wanted) || "completion".equals(wanted);
        for (String name : SUBCOMMANDS) {
            if (all || name.equals(wanted)) {
                commandLine.addSubcommand(name, subcommand(name));
            }
        }
        return commandLine;
    }

    private static Object subcommand(String name) {
        switch (name) {
            case "nar":
                return new NarCommand();
            case "hash":
                return new HashCommand();
            case "store-path":
                return new StorePathCommand();
            case "init":
                return new InitCommand();
            case "add":
                return new AddCommand();
            case "query":
                return new QueryCommand();
            case "export":
                return new ExportCommand();
            case "import":
                return new ImportCommand();
            case "register":
                return new RegisterCommand();
            case "db":
                return new DbCommand();
            case "cache":
                return new CacheCommand();
            case "verify":
                return new VerifyCommand();
            case "completion":
                return new CompletionCommand();
            case "demo":
                return new DemoCommand();
            case "gc":
                return new GcCommand();
            default:
                throw new IllegalArgumentException(name);
        }
    }

    /** One line for the user: the JDK's file-system exceptions only name the path, so say what happened. */
    static String describe(Throwable exception) {
        if (exception instanceof NoSuchFileException missing) {
            return missing.getFile() + ": " + (missing.getReason() != null ? missing.getReason() : "no such file or directory");
        }
        if (exception instanceof FileSystemException fs && fs.getReason() != null) {
            return fs.getFile() + ": " + fs.getReason();
        }
        String message = exception.getMessage();
        return message == null ? exception.getClass().getSimpleName() : message;
    }

    /** Reads the version from the jar's manifest, written by the build. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Granary.class.getPackage().getImplementationVersion();
            return new String[] {"granary " + (version == null ? "(development build)" : version)};
        }
    }
}
