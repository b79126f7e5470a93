package org.granary.verify;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.granary.nar.NarDumper;
import org.granary.store.PathInfo;
import org.granary.store.StoreConfig;
import org.granary.store.StoreDatabase;
import org.granary.store.StorePath;

/**
 * A test {@link Substituter}: a directory of NARs ({@code <hash part>.nar}) written with {@link NarDumper}
 * from a store's items while they were intact, with the database's information for each. A test may
 * overwrite a NAR to offer a substitute that must be refused.
 */
final class NarDirectory implements Substituter {
    private final Path directory;
    private final Map<StorePath, PathInfo> infos = new HashMap<>();

    private NarDirectory(Path directory) {
        this.directory = directory;
    }

    /** Dumps the NARs of {@code paths} (valid, intact items of the store) into {@code directory}. */
    static NarDirectory of(Path directory, StoreConfig config, Collection<StorePath> paths) throws IOException {
        Files.createDirectories(directory);
        NarDirectory cache = new NarDirectory(directory);
        try (StoreDatabase db = StoreDatabase.open(config.databaseDir(), config.storeDir().logical())) {
            for (StorePath path : paths) {
                cache.infos.put(path, db.pathInfo(path).orElseThrow());
                try (OutputStream out = Files.newOutputStream(cache.nar(path))) {
                    new NarDumper().dump(config.storeDir().physicalPath(path), out);
                }
            }
        }
        return cache;
    }

    /** A directory {@link #of} wrote earlier, with the information of {@code paths} read from the database. */
    static NarDirectory open(Path directory, StoreConfig config, Collection<StorePath> paths) {
        NarDirectory cache = new NarDirectory(directory);
        try (StoreDatabase db = StoreDatabase.open(config.databaseDir(), config.storeDir().logical())) {
            for (StorePath path : paths) {
                db.pathInfo(path).ifPresent(info -> cache.infos.put(path, info));
            }
        }
        return cache;
    }

    /** Where the NAR of a path is. */
    Path nar(StorePath path) {
        return directory.resolve(path.hashPart() + ".nar");
    }

    @Override
    public String uri() {
        return directory.toUri().toString();
    }

    @Override
    public Optional<Substitute> lookup(StorePath path) {
        PathInfo info = infos.get(path);
        if (info == null || !Files.exists(nar(path))) {
            return Optional.empty();
        }
        return Optional.of(new Substitute() {
            @Override
            public PathInfo info() {
                return info;
            }

            @Override
            public InputStream openNar() throws IOException {
                return Files.newInputStream(nar(path));
            }
        });
    }
}
