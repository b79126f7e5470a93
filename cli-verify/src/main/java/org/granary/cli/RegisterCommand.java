package org.granary.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.granary.nar.NarDigest;
import org.granary.nar.NarDumper;
import org.granary.store.Canonicaliser;
import org.granary.store.Hash;
import org.granary.store.HashAlgorithm;
import org.granary.store.LocalStore;
import org.granary.store.MissingReferenceException;
import org.granary.store.PathInfo;
import org.granary.store.RegistrationReader;
import org.granary.store.StorePath;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code granary register}: makes paths whose files are already in the store valid, from the text on
 * standard input, as {@code nix-store --register-validity [--hash-given]} and {@code --load-db}.
 */
@Command(
    name = "register",
    mixinStandardHelpOptions = true,
    description = {
        "Read registration text from standard input and make its paths valid, all in one transaction: "
            + "all of them or, on any error, none. Prints nothing.",
        "Without --hash-given the input is reg-info (per item: path, deriver or empty line, number of "
            + "references, references); each path's files must be in the store, and are canonicalised and "
            + "hashed (NAR SHA-256 and size).",
        "With --hash-given the input is what nix-store --dump-db prints (path, NAR hash, NAR size, deriver "
            + "or empty line, number of references, references), recorded as given: files are not read.",
        "Every reference must be in the input or already valid."},
    footerHeading = "%nExamples:%n",
    footer = {
        "  granary register --root ./r < closure.reginfo",
        "  nix-store --dump-db | granary register --root ./r --hash-given"})
final class RegisterCommand implements Callable<Integer> {
    @ParentCommand
    Granary granary;

    @Mixin
    StoreOptions store;

    @Option(names = "--hash-given",
        description = "The input gives each path's NAR hash and size (nix-store --dump-db); do not read files.")
    boolean hashGiven;

    @Override
    public Integer call() throws IOException {
        try (LocalStore opened = store.open()) {
            String storeDir = opened.config().storeDir().logical();
            RegistrationReader reader = hashGiven ? RegistrationReader.hashGiven(granary.in(), storeDir)
                : RegistrationReader.regInfo(granary.in(), storeDir);
            long now = System.currentTimeMillis() / 1000;
            Set<StorePath> given = new HashSet<>();
            List<PathInfo> infos = new ArrayList<>();
            if (hashGiven) {
                // As nix-store --load-db: every path registered (again) as given, item by item as read; the
                // database checks the references within its transaction.
                for (RegistrationReader.Item item = reader.next(); item != null; item = reader.next()) {
                    checkOnce(given, item);
                    infos.add(item.toPathInfo(item.narHash(), item.narSize(), now));
                }
            } else {
                List<RegistrationReader.Item> items = reader.readAll();
                for (RegistrationReader.Item item : items) {
                    checkOnce(given, item);
                }
                // Before reading or changing any file: every reference in the input or valid.
                for (RegistrationReader.Item item : items) {
                    for (StorePath reference : item.references()) {
                        if (!given.contains(reference) && !opened.isValidPath(reference)) {
                            throw new MissingReferenceException(item.path(), reference);
                        }
                    }
                }
                Canonicaliser canonicaliser = Canonicaliser.forThisProcess();
                NarDumper dumper = new NarDumper();
                for (RegistrationReader.Item item : items) {
                    // As nix-store --register-validity: a path already valid is left as it is (its files are
                    // immutable), neither canonicalised nor hashed nor registered again.
                    if (opened.isValidPath(item.path())) {
                        continue;
                    }
                    Path files = opened.config().storeDir().physicalPath(item.path());
                    if (!Files.exists(files, LinkOption.NOFOLLOW_LINKS)) {
                        throw new IOException("cannot register " + item.path() + ": " + files + " does not exist");
                    }
                    canonicaliser.canonicalise(files);
                    Canonicaliser.syncTree(files);
                    NarDigest nar = dumper.digest(files, HashAlgorithm.SHA256.newDigest());
                    infos.add(item.toPathInfo(Hash.of(HashAlgorithm.SHA256, nar.digest()), nar.narSize(), now));
                }
            }
            opened.registerValidPaths(infos);
        }
        return 0;
    }

    private static void checkOnce(Set<StorePath> given, RegistrationReader.Item item) throws IOException {
        if (!given.add(item.path())) {
            throw new IOException("path " + item.path() + " is given twice in the input");
        }
    }
}
