package org.granary.cli;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.granary.store.LocalStore;
import org.granary.store.StorePath;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code granary import}: reads an export stream into the store, as {@code nix-store --import}. */
@Command(
    name = "import",
    mixinStandardHelpOptions = true,
    description = "Read an export stream (nix-store --export, guix archive --export) from standard input, add "
        + "its items in order and print their paths, one per line. Each item's NAR is checked against its "
        + "hash; on an error the items before it stay valid and the failing one leaves nothing.",
    footerHeading = "%nExample:%n",
    footer = "  granary import --root ./other-root < hello.export")
final class ImportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ParentCommand
    Granary granary;

    @Mixin
    StoreOptions store;

    @Override
    public Integer call() throws IOException {
        List<StorePath> imported;
        try (LocalStore opened = store.open()) {
            imported = opened.importPaths(new BufferedInputStream(granary.in(), 1 << 16));
        }
        PrintWriter out = spec.commandLine().getOut();
        imported.forEach(out::println);
        out.flush();
        return 0;
    }
}
