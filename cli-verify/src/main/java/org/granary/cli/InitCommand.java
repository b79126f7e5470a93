package org.granary.cli;

import java.io.IOException;
import org.granary.store.LocalStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code granary init}: creates the store's layout. */
@Command(
    name = "init",
    mixinStandardHelpOptions = true,
    description = "Create the layout of a store under the root: the store dir, the state dir with its "
        + "database, temporary and GC roots, and the reserved space. Idempotent; prints nothing.",
    footerHeading = "%nExample:%n",
    footer = "  granary init --root ./my-root")
final class InitCommand implements java.util.concurrent.Callable<Integer> {
    @Mixin
    StoreOptions store;

    @Override
    public Integer call() throws IOException {
        // Opening creates the layout; there is nothing else to do.
        store.open().close();
        return 0;
    }
}
