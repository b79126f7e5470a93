package org.granary.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.granary.store.LocalStore;
import org.granary.store.SqliteImport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code granary db}: operations on the reference database as a whole. */
@Command(
    name = "db",
    mixinStandardHelpOptions = true,
    description = "Operations on the store's reference database as a whole.",
    footerHeading = "%nExample:%n",
    footer = "  granary db import --root ./my-root --sqlite /var/guix/db/db.sqlite",
    subcommands = DbCommand.Import.class)
final class DbCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    /** {@code granary db import --sqlite FILE}: registers the valid paths of a Guix or Nix db.sqlite. */
    @Command(
        name = "import",
        mixinStandardHelpOptions = true,
        description = "Register every valid path, reference and derivation output of a Guix or Nix "
            + "db.sqlite in the store's database, in one transaction: all or, on a malformed row or a path "
            + "of another store dir, nothing. The file is opened read-only; the store's files are not "
            + "checked. Prints the number of paths and references imported.",
        footerHeading = "%nExample:%n",
        footer = "  granary db import --root ./my-root --sqlite /var/guix/db/db.sqlite")
    static final class Import implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        StoreOptions store;

        @Option(names = "--sqlite", paramLabel = "FILE", required = true,
            description = "The db.sqlite to import (Guix schema 7 or Nix schema 10).")
        Path sqlite;

        @Override
        public Integer call() throws IOException {
            SqliteImport.Contents contents;
            try (LocalStore opened = store.open()) {
                contents = SqliteImport.read(sqlite, store.config().storeDir().logical());
                opened.registerValidPaths(contents.paths(), contents.derivationOutputs());
            }
            PrintWriter out = spec.commandLine().getOut();
            out.println("imported " + contents.paths().size() + " paths and " + contents.referenceCount()
                + " references");
            out.flush();
            return 0;
        }
    }
}
