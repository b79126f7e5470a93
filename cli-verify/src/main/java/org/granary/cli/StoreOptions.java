package org.granary.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.granary.store.LocalStore;
import org.granary.store.ReservedSpace;
import org.granary.store.StoreConfig;
import org.granary.store.StoreDir;
import org.granary.store.StorePath;
import picocli.CommandLine.Option;

/** Where the store is: the options every store command takes, and the {@link StoreConfig} they give. */
final class StoreOptions {
    @Option(names = "--root", paramLabel = "DIR", defaultValue = "/",
        description = "The physical root the store and state dirs are under (default: ${DEFAULT-VALUE}).")
    Path root;

    @Option(names = "--store-dir", paramLabel = "DIR", defaultValue = "/gnu/store",
        description = "The logical store directory (default: ${DEFAULT-VALUE}).")
    String storeDir;

    @Option(names = "--state-dir", paramLabel = "DIR", defaultValue = StoreConfig.DEFAULT_STATE_DIR,
        description = "The logical state directory, holding the database (default: ${DEFAULT-VALUE}).")
    String stateDir;

    StoreConfig config() {
        return new StoreConfig(StoreDir.of(storeDir, root), stateDir, ReservedSpace.DEFAULT_SIZE);
    }

    LocalStore open() throws IOException {
        return LocalStore.open(config());
    }

    /** Parses store paths of this store dir; a path outside it is refused, naming it. */
    List<StorePath> parse(List<String> paths) {
        List<StorePath> parsed = new ArrayList<>(paths == null ? 0 : paths.size());
        if (paths != null) {
            for (String path : paths) {
                parsed.add(StorePath.parse(path, storeDir));
            }
        }
        return parsed;
    }
}
