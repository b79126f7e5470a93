package org.granary.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Callable;
import org.granary.store.LocalStore;
import org.granary.store.PathInfo;
import org.granary.store.PathNotValidException;
import org.granary.store.StorePath;
import org.granary.verify.cache.CacheWriter;
import org.granary.verify.cache.Compression;
import org.granary.verify.cache.SigningKey;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code granary cache}: writing binary caches, so that one store is a substitute source for another. */
@Command(
    name = "cache",
    mixinStandardHelpOptions = true,
    description = "Binary caches: a directory of narinfos and compressed NARs that Nix, Guix and "
        + "granary verify --repair read as a substituter.",
    footerHeading = "%nExamples:%n",
    footer = {
        "  granary cache keygen cache.example.org-1 cache.sec cache.pub",
        "  granary cache push --root ./r --key cache.sec --closure /srv/cache /gnu/store/...-hello"},
    subcommands = {CacheCommand.Keygen.class, CacheCommand.Push.class})
final class CacheCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    /** {@code granary cache keygen NAME SECRET-FILE PUBLIC-FILE}. */
    @Command(
        name = "keygen",
        mixinStandardHelpOptions = true,
        description = "Generate an Ed25519 signing key as nix-store --generate-binary-cache-key does: "
            + "SECRET-FILE gets NAME:BASE64(64-byte secret), readable by its owner only; PUBLIC-FILE gets "
            + "NAME:BASE64(32-byte public key), the value to give Nix's trusted-public-keys or granary "
            + "verify --trusted-key. Neither file may exist already.",
        footerHeading = "%nExample:%n",
        footer = "  granary cache keygen cache.example.org-1 cache.sec cache.pub")
    static final class Keygen implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "NAME", description = "The key's name, such as cache.example.org-1.")
        String name;

        @Parameters(index = "1", paramLabel = "SECRET-FILE", description = "Where the secret key goes.")
        Path secretFile;

        @Parameters(index = "2", paramLabel = "PUBLIC-FILE", description = "Where the public key goes.")
        Path publicFile;

        @Override
        public Integer call() throws IOException {
            writeKeyPair(SigningKey.generate(name, new SecureRandom()), secretFile, publicFile);
            return 0;
        }

        /**
         * Writes a key pair as nix-store --generate-binary-cache-key does; neither file may exist. Shared
         * with granary demo.
         */
        static void writeKeyPair(SigningKey key, Path secretFile, Path publicFile) throws IOException {
            if (Files.exists(publicFile)) {
                throw new FileAlreadyExistsException(publicFile.toString(), null, "already exists");
            }
            // Created owner-only from the start: the secret is never readable by others, even briefly.
            Files.createFile(secretFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(secretFile, key.format(), StandardCharsets.US_ASCII);
            Files.writeString(publicFile, key.verifyingKey().toString(), StandardCharsets.US_ASCII);
        }
    }

    /** {@code granary cache push [--key FILE] [--compression C] [--closure] DIR PATH…}. */
    @Command(
        name = "push",
        mixinStandardHelpOptions = true,
        description = "Write valid paths of the store to the binary cache in DIR (created if needed), as "
            + "nix copy --to file://DIR does: DIR/nix-cache-info, DIR/HASH.narinfo and the compressed NAR "
            + "DIR/nar/FILEHASH.nar.EXT, the narinfo signed with --key. Each item's files are checked "
            + "against its registered NAR hash first: a corrupt item is not published. Prints each path "
            + "written.",
        footerHeading = "%nExamples:%n",
        footer = {
            "  granary cache push --root ./r --key cache.sec /srv/cache /gnu/store/...-hello",
            "  granary cache push --root ./r --closure --compression zstd /srv/cache /gnu/store/...-hello"})
    static final class Push implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        StoreOptions store;

        @Option(names = "--key", paramLabel = "SECRET-FILE",
            description = "Sign each narinfo with this secret key (from granary cache keygen or "
                + "nix-store --generate-binary-cache-key); without it, narinfos are unsigned.")
        Path keyFile;

        @Option(names = "--compression", paramLabel = "C", defaultValue = "xz",
            description = "How NARs are compressed: xz, zstd, gzip, bzip2, lzip or none (default: ${DEFAULT-VALUE}).")
        String compression;

        @Option(names = "--closure", description = "Push the closure of the paths: each path and everything it refers to.")
        boolean closure;

        @Parameters(index = "0", paramLabel = "DIR", description = "The cache's directory.")
        Path directory;

        @Parameters(index = "1..*", arity = "1..*", paramLabel = "PATH", description = "Valid store paths.")
        List<String> paths;

        @Override
        public Integer call() throws IOException {
            Compression chosen = Compression.forName(compression).orElseThrow(() -> new ParameterException(
                spec.commandLine(), "unknown compression '" + compression + "' (xz, zstd, gzip, bzip2, lzip or none)"));
            SigningKey key = keyFile == null ? null : SigningKey.parse(Files.readString(keyFile, StandardCharsets.US_ASCII));
            PrintWriter out = spec.commandLine().getOut();
            try (LocalStore opened = store.open()) {
                CacheWriter writer = CacheWriter.open(directory, store.storeDir, chosen, key);
                for (PathInfo info : infos(opened, store.parse(paths))) {
                    writer.write(info, opened.config().storeDir().physicalPath(info.path()));
                    out.println(info.path());
                }
            }
            out.flush();
            return 0;
        }

        /**
         * The items to push, with their closure if asked; each must be valid. Each becomes a temporary
         * root before its validity is checked, so that no collection deletes it while it is read.
         */
        private List<PathInfo> infos(LocalStore opened, List<StorePath> asked) throws IOException {
            Collection<StorePath> wanted = closure ? opened.queryRequisites(asked) : asked;
            for (StorePath path : wanted) {
                opened.addTempRoot(path);
            }
            List<PathInfo> infos = new ArrayList<>();
            for (StorePath path : wanted) {
                infos.add(opened.queryPathInfo(path).orElseThrow(() -> new PathNotValidException(path)));
            }
            return infos;
        }
    }
}
