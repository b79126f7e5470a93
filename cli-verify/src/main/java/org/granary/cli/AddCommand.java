package org.granary.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.granary.store.HashAlgorithm;
import org.granary.store.LocalStore;
import org.granary.store.StorePath;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code granary add}: adds a file or tree to the store and prints its path. */
@Command(
    name = "add",
    mixinStandardHelpOptions = true,
    description = {
        "Add PATH to the store and print its store path.",
        "By default PATH (a tree, file or symlink) is added as a source, as nix-store --add; with --fixed "
            + "as nix-store --add-fixed [--recursive] ALGO; with --text the file's UTF-8 contents as "
            + "builtins.toFile with the given references."},
    footerHeading = "%nExamples:%n",
    footer = {
        "  granary add --root ./my-root ./src",
        "  granary add --root ./my-root --fixed --algo sha1 ./a.tar",
        "  granary add --root ./my-root --text --name greeting \\",
        "      --ref /gnu/store/...-x ./greeting.txt"})
final class AddCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    StoreOptions store;

    @Option(names = "--name", paramLabel = "NAME", description = "The item's name (default: the base name of PATH).")
    String name;

    @Option(names = "--fixed", description = "Add a fixed-output item (as nix-store --add-fixed).")
    boolean fixed;

    @Option(names = "--recursive", description = "With --fixed: hash the NAR of PATH, not a file's contents.")
    boolean recursive;

    @Option(names = "--algo", paramLabel = "ALGO", converter = Converters.Algorithm.class,
        description = "With --fixed: md5, sha1, sha256 or sha512 (default: sha256).")
    HashAlgorithm algorithm;

    @Option(names = "--text", description = "Add the contents of the file PATH as a text item.")
    boolean text;

    @Option(names = "--ref", paramLabel = "STOREPATH",
        description = "With --text: a valid store path the text refers to (repeatable).")
    List<String> references;

    @Parameters(paramLabel = "PATH", description = "The file or tree to add.")
    Path path;

    @Override
    public Integer call() throws IOException {
        checkUsage();
        String itemName = name();
        StorePath added;
        if (text) {
            String contents = readUtf8(path);
            List<StorePath> refs = store.parse(references);
            try (LocalStore opened = store.open()) {
                added = opened.addTextToStore(itemName, contents, refs);
            }
        } else {
            if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                throw new NoSuchFileException(path.toString());
            }
            if (fixed && !recursive && !Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException(path + ": not a regular file (a tree needs --recursive)");
            }
            HashAlgorithm algo = algorithm == null ? HashAlgorithm.SHA256 : algorithm;
            try (LocalStore opened = store.open()) {
                added = fixed ? opened.addToStore(itemName, path, recursive, algo, List.of())
                    : opened.addToStore(itemName, path, true, HashAlgorithm.SHA256, List.of());
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(added);
        out.flush();
        return 0;
    }

    private void checkUsage() {
        if (fixed && text) {
            throw new ParameterException(spec.commandLine(), "--fixed and --text cannot be combined");
        }
        if (!fixed && (recursive || algorithm != null)) {
            throw new ParameterException(spec.commandLine(), "--recursive and --algo need --fixed");
        }
        if (!text && references != null) {
            throw new ParameterException(spec.commandLine(), "--ref needs --text");
        }
        if (text && name == null) {
            throw new ParameterException(spec.commandLine(), "--text needs --name");
        }
    }

    private String name() {
        return StorePathCommand.itemName(name, path);
    }

    /** The file's contents, which must be UTF-8 so that the text item holds exactly these bytes. */
    private static String readUtf8(Path file) throws IOException {
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new NoSuchFileException(file.toString());
        }
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(file + ": not a regular file");
        }
        byte[] bytes = Files.readAllBytes(file);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IOException(file + ": not UTF-8 text; add it with --fixed or as a source", e);
        }
    }
}
