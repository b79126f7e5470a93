package org.granary.cli;

import java.io.IOException;
import org.granary.store.LocalStore;
import org.granary.store.StoreDirPermissions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code granary init}: creates the store's layout. */
@Command(
    name = "init",
    mixinStandardHelpOptions = true,
    description = {
        "Create the layout of a store under the root: the store dir, the state dir with its database, "
            + "temporary and GC roots, and the reserved space. Idempotent; prints nothing.",
        "With --build-users-group, run as root, the store dir gets owner root, that group and mode 1775, as "
            + "the Guix daemon gives it (run by another user, this does nothing, as in the daemon)."},
    footerHeading = "%nExamples:%n",
    footer = {
        "  granary init --root ./my-root",
        "  granary init --build-users-group guixbuild"})
final class InitCommand implements java.util.concurrent.Callable<Integer> {
    @Mixin
    StoreOptions store;

    @Option(names = "--build-users-group", paramLabel = "GROUP",
        description = "The group of the build users (such as guixbuild), which must exist: as root, make the "
            + "store dir root:GROUP, mode 1775.")
    String buildUsersGroup;

    @Override
    public Integer call() throws IOException {
        try (LocalStore opened = store.open()) {
            if (buildUsersGroup != null) {
                StoreDirPermissions.apply(opened.config().physicalStoreDir(), buildUsersGroup);
            }
            return 0;
        }
    }
}
