package org.granary.cli;

import java.util.List;
import org.granary.verify.Substituter;
import picocli.CommandLine;

/**
 * Opens the substituters named on the command line. Binary caches (narinfo, compressed NARs, signatures)
 * are not part of this build yet, so any {@code --substituter} is a usage error that says so, rather than
 * an option that silently does nothing.
 */
final class Substituters {
    private Substituters() {
    }

    static List<Substituter> open(CommandLine line, List<String> urls, List<String> trustedKeys, boolean allowUnsigned) {
        if (!urls.isEmpty()) {
            throw new CommandLine.ParameterException(line, "--substituter " + urls.get(0) + ": binary caches are "
                + "not supported by this build yet; repair can fix metadata and invalidate lone missing items only");
        }
        if (!trustedKeys.isEmpty() || allowUnsigned) {
            throw new CommandLine.ParameterException(line, "--trusted-key and --allow-unsigned apply to "
                + "--substituter, which this build does not support yet");
        }
        return List.of();
    }
}
