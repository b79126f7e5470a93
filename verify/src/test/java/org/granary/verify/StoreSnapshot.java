package org.granary.verify;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.granary.store.Hash;
import org.granary.store.HashAlgorithm;
import org.granary.store.PathInfo;
import org.granary.store.StoreConfig;
import org.granary.store.StoreDatabase;
import org.granary.store.StorePath;

/**
 * Everything a verification could change, as text to compare: every file under a directory (type, mode,
 * owner, mtime, size, contents hash or link target) but LMDB's reader table {@code lock.mdb}, and every
 * row of the database (each valid path's information, references and referrers).
 */
final class StoreSnapshot {
    private StoreSnapshot() {
    }

    static Map<String, String> take(StoreConfig config, Path root) throws IOException {
        Map<String, String> snapshot = new TreeMap<>();
        List<Path> files;
        try (var walk = Files.walk(root)) {
            files = walk.toList();
        }
        for (Path file : files) {
            // The top's own times change with any entry made in it; what is under it is what counts.
            if (file.equals(root) || file.getFileName().toString().equals("lock.mdb")) {
                continue;
            }
            Map<String, Object> a = Files.readAttributes(file, "unix:mode,uid,gid,lastModifiedTime,size", NOFOLLOW_LINKS);
            String what = "mode " + Integer.toOctalString((Integer) a.get("mode")) + " owner " + a.get("uid") + ":"
                + a.get("gid") + " mtime " + a.get("lastModifiedTime") + " size " + a.get("size");
            if (Files.isSymbolicLink(file)) {
                what += " -> " + Files.readSymbolicLink(file);
            } else if (Files.isRegularFile(file, NOFOLLOW_LINKS) && Files.isReadable(file)) {
                what += " sha256 " + Hash.ofFile(file, HashAlgorithm.SHA256);
            }
            snapshot.put(root.relativize(file).toString(), what);
        }
        try (StoreDatabase db = StoreDatabase.open(config.databaseDir(), config.storeDir().logical())) {
            for (StorePath path : db.validPaths()) {
                PathInfo info = db.pathInfo(path).orElseThrow();
                List<String> row = new ArrayList<>();
                row.add(info.toString());
                row.add("refs " + db.references(path));
                row.add("referrers " + db.referrers(path));
                snapshot.put("db " + path, String.join("; ", row));
            }
        }
        return snapshot;
    }
}
