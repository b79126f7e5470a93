package org.granary.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.granary.store.Hash;
import org.granary.store.HashAlgorithm;
import org.granary.store.HashFormat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code granary hash path|file}: NAR hashes and flat hashes, several paths hashed in parallel. */
@Command(
    name = "hash",
    mixinStandardHelpOptions = true,
    description = "Print the hash of files or trees, as nix-hash does.",
    footerHeading = "%nExamples:%n",
    footer = {
        "  granary hash path /usr/share/doc    as nix-hash --type sha256 --base32",
        "  granary hash file --algo sha1 --format base16 README.md"})
final class HashCommand {
    @ParentCommand
    Granary granary;

    @Spec
    CommandSpec spec;

    /** The options both subcommands share. */
    static final class HashOptions {
        @Option(names = "--algo", paramLabel = "ALGO", defaultValue = "sha256",
            converter = Converters.Algorithm.class,
            description = "md5, sha1, sha256 or sha512 (default: ${DEFAULT-VALUE}).")
        HashAlgorithm algorithm;

        @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "base32",
            converter = Converters.Format.class,
            description = "base32 (nix-base32), base16, base64 or sri (default: ${DEFAULT-VALUE}).")
        HashFormat format;

        @Parameters(paramLabel = "PATH", arity = "1..*", description = "The files or trees to hash.")
        List<Path> paths;
    }

    @Command(
        name = "path",
        mixinStandardHelpOptions = true,
        description = "Print the hash of the NAR serialisation of each PATH, one line each in the order "
            + "given. Several paths are hashed in parallel across the cores.",
        footerHeading = "%nExample:%n",
        footer = "  granary hash path --algo sha512 --format sri /usr/share/doc /usr/share/man")
    int path(@Mixin HashOptions options) throws InterruptedException {
        // One path: read on one core and hashed on the other. Several: one path per core, all on its thread.
        if (options.paths.size() == 1) {
            return hashAll(options, path -> Hash.ofNar(path, options.algorithm));
        }
        return hashAll(options, path -> Hash.ofNarInline(path, options.algorithm));
    }

    @Command(
        name = "file",
        mixinStandardHelpOptions = true,
        description = "Print the flat hash of the contents of each regular FILE, as nix-hash --flat.",
        footerHeading = "%nExample:%n",
        footer = "  granary hash file --format base16 hello.txt")
    int file(@Mixin HashOptions options) throws InterruptedException {
        return hashAll(options, path -> Hash.ofFile(path, options.algorithm));
    }

    /** How one path is hashed. */
    @FunctionalInterface
    interface Hasher {
        Hash hash(Path path) throws IOException;
    }

    /**
     * Hashes every path, one task each on a pool as wide as the machine, and prints the results in the
     * order given. A path that fails is reported on stderr and the others still print.
     */
    private int hashAll(HashOptions options, Hasher hasher) throws InterruptedException {
        int threads = Math.min(options.paths.size(), Runtime.getRuntime().availableProcessors());
        ExecutorService pool = Executors.newFixedThreadPool(threads, runnable -> {
            Thread thread = new Thread(runnable, "granary-hash");
            thread.setDaemon(true);
            return thread;
        });
        try {
            List<Future<Hash>> results = new ArrayList<>(options.paths.size());
            for (Path path : options.paths) {
                results.add(pool.submit(() -> hasher.hash(path)));
            }
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            int status = 0;
            for (int i = 0; i < results.size(); i++) {
                try {
                    out.println(results.get(i).get().format(options.format));
                } catch (ExecutionException e) {
                    out.flush();
                    err.println("granary: " + Granary.describe(e.getCause()));
                    if (granary.verbose) {
                        e.getCause().printStackTrace(err);
                    }
                    err.flush();
                    status = Granary.EXIT_FAILURE;
                }
            }
            out.flush();
            return status;
        } finally {
            pool.shutdownNow();
        }
    }
}
