package org.granary.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.granary.store.Hash;
import org.granary.store.HashAlgorithm;
import org.granary.store.StoreDir;
import org.granary.store.StorePath;
import org.granary.store.StorePaths;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code granary store-path source|text|fixed}: the store path Guix would give, writing nothing. */
@Command(
    name = "store-path",
    mixinStandardHelpOptions = true,
    description = "Print the store path the Guix daemon would give to PATH. Nothing is written.",
    footerHeading = "%nExamples:%n",
    footer = {
        "  granary store-path source ./src               as nix-store --add ./src",
        "  granary store-path fixed --algo sha1 ./a.tar  as nix-store --add-fixed sha1",
        "  granary store-path text --name greeting \\",
        "      --ref /gnu/store/...-x ./greeting.txt"})
final class StorePathCommand {
    @Spec
    CommandSpec spec;

    /** What every kind of store path needs. */
    static final class Common {
        @Option(names = "--store-dir", paramLabel = "DIR", defaultValue = "/gnu/store",
            description = "The logical store directory that goes into the hash (default: ${DEFAULT-VALUE}).")
        String storeDir;

        @Option(names = "--name", paramLabel = "NAME",
            description = "The name of the item (default: the base name of PATH).")
        String name;

        @Parameters(paramLabel = "PATH", description = "The file or tree to compute the path of.")
        Path path;

        StorePaths paths() {
            return new StorePaths(StoreDir.of(storeDir, Path.of("/")));
        }

        String name() {
            return itemName(name, path);
        }

        List<StorePath> parse(List<String> references) {
            List<StorePath> parsed = new ArrayList<>(references.size());
            for (String reference : references) {
                parsed.add(StorePath.parse(reference, storeDir));
            }
            return parsed;
        }
    }

    @Command(
        name = "source",
        mixinStandardHelpOptions = true,
        description = "The path of PATH added recursively with SHA-256, as nix-store --add and Guix's "
            + "add-to-store: a source path over the NAR hash.",
        footerHeading = "%nExample:%n",
        footer = "  granary store-path source --store-dir /nix/store ./src")
    int source(
            @Mixin Common common,
            @Option(names = "--ref", paramLabel = "STOREPATH",
                description = "A store path the item refers to (repeatable).") List<String> references,
            @Option(names = "--self-reference",
                description = "The item refers to itself.") boolean selfReference)
            throws IOException {
        Hash nar = Hash.ofNar(common.path, HashAlgorithm.SHA256);
        return print(common.paths().source(common.name(), nar, common.parse(orEmpty(references)), selfReference));
    }

    @Command(
        name = "text",
        mixinStandardHelpOptions = true,
        description = "The path of a text item whose contents are those of the file PATH, as "
            + "builtins.toFile and Guix's add-text-to-store.",
        footerHeading = "%nExample:%n",
        footer = "  granary store-path text --name greeting ./hello.txt")
    int text(
            @Mixin Common common,
            @Option(names = "--ref", paramLabel = "STOREPATH",
                description = "A store path the text refers to (repeatable).") List<String> references)
            throws IOException {
        requireRegularFile(common.path, "");
        Hash contents = Hash.ofFile(common.path, HashAlgorithm.SHA256);
        return print(common.paths().text(common.name(), contents, common.parse(orEmpty(references))));
    }

    @Command(
        name = "fixed",
        mixinStandardHelpOptions = true,
        description = "The path of a fixed-output item, as nix-store --add-fixed [--recursive] ALGO: the "
            + "flat hash of a file, or with --recursive the hash of the NAR of any tree.",
        footerHeading = "%nExample:%n",
        footer = "  granary store-path fixed --recursive --algo sha1 ./src")
    int fixed(
            @Mixin Common common,
            @Option(names = "--recursive", description = "Hash the NAR of PATH, not the file's contents.")
                boolean recursive,
            @Option(names = "--algo", paramLabel = "ALGO", defaultValue = "sha256",
                converter = Converters.Algorithm.class,
                description = "md5, sha1, sha256 or sha512 (default: ${DEFAULT-VALUE}).")
                HashAlgorithm algorithm)
            throws IOException {
        Hash hash;
        if (recursive) {
            hash = Hash.ofNar(common.path, algorithm);
        } else {
            requireRegularFile(common.path, " (a tree needs --recursive)");
            hash = Hash.ofFile(common.path, algorithm);
        }
        return print(common.paths().fixedOutput(common.name(), recursive, hash));
    }

    /** The item's name: the one given with {@code --name}, else the base name of {@code path}. */
    static String itemName(String name, Path path) {
        if (name != null) {
            return name;
        }
        Path base = path.toAbsolutePath().normalize().getFileName();
        if (base == null) {
            throw new IllegalArgumentException(path + ": has no base name; give one with --name");
        }
        return base.toString();
    }

    private int print(StorePath path) {
        PrintWriter out = spec.commandLine().getOut();
        out.println(path);
        out.flush();
        return 0;
    }

    private static void requireRegularFile(Path path, String hint) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            throw new java.nio.file.NoSuchFileException(path.toString());
        }
        if (!Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(path + ": not a regular file" + hint);
        }
    }

    private static <T> List<T> orEmpty(List<T> list) {
        return list == null ? List.of() : list;
    }
}
