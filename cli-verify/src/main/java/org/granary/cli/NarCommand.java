package org.granary.cli;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import org.granary.nar.NarDumper;
import org.granary.nar.NarRestorer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code granary nar dump|restore}: NAR archives to and from standard streams. */
@Command(
    name = "nar",
    mixinStandardHelpOptions = true,
    description = "Serialise a file tree to a NAR, or restore one.",
    footerHeading = "%nExamples:%n",
    footer = {
        "  granary nar dump ./src > src.nar",
        "  granary nar restore ./copy < src.nar"})
final class NarCommand {
    @ParentCommand
    Granary granary;

    @Command(
        name = "dump",
        mixinStandardHelpOptions = true,
        description = "Write the NAR of PATH to standard output, as nix-store --dump does. "
            + "PATH may be a directory, a regular file or a symlink (never followed).",
        footerHeading = "%nExample:%n",
        footer = "  granary nar dump /usr/share/doc/bash | sha256sum")
    int dump(@Parameters(paramLabel = "PATH", description = "The tree to serialise.") Path path)
            throws IOException {
        OutputStream out = granary.out();
        if (out instanceof FileOutputStream file) {
            // Standard output itself: file contents can go to it in the kernel, without a copy here.
            new NarDumper().dump(path, file.getChannel());
        } else {
            new NarDumper().dump(path, out);
            out.flush();
        }
        return 0;
    }

    @Command(
        name = "restore",
        mixinStandardHelpOptions = true,
        description = "Read a NAR from standard input and restore it at DIR, which must not exist. "
            + "The NAR is checked strictly; on any error nothing is left at DIR.",
        footerHeading = "%nExample:%n",
        footer = "  granary nar dump ./src | granary nar restore ./copy")
    int restore(@Parameters(paramLabel = "DIR", description = "Where to restore; must not exist.") Path target)
            throws IOException {
        NarRestorer.restore(granary.in(), target);
        return 0;
    }
}
