package org.granary.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.Callable;
import org.granary.store.LocalStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code granary export}: an export stream of valid paths, as {@code nix-store --export}. */
@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    description = "Write the export stream of the given valid paths (not their closure) to standard output, "
        + "as nix-store --export: references before their referrers, otherwise in sorted order. Each item's "
        + "files are checked against their registered NAR hash as they are written.",
    footerHeading = "%nExample:%n",
    footer = "  granary export --root ./my-root /gnu/store/...-hello > hello.export")
final class ExportCommand implements Callable<Integer> {
    @ParentCommand
    Granary granary;

    @Mixin
    StoreOptions store;

    @Parameters(paramLabel = "PATH", arity = "1..*", description = "Valid store paths.")
    List<String> arguments;

    @Override
    public Integer call() throws IOException {
        OutputStream out = granary.out();
        try (LocalStore opened = store.open()) {
            opened.exportPaths(store.parse(arguments), out);
        }
        out.flush();
        return 0;
    }
}
