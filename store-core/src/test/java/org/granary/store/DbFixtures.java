package org.granary.store;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** Paths and path infos for the database tests: deterministic, so a failure names the same paths again. */
final class DbFixtures {
    static final String STORE = "/gnu/store";

    private DbFixtures() {
    }

    /** A path whose hash part is derived from {@code seed}. */
    static StorePath path(String seed, String name) {
        byte[] digest = HashAlgorithm.SHA256.newDigest().digest(seed.getBytes(StandardCharsets.UTF_8));
        return new StorePath(STORE, NixBase32.encode(NixBase32.compress(digest, 20)), name);
    }

    static StorePath path(String name) {
        return path(name, name);
    }

    static StorePath path(int i) {
        return path("item-" + i, "item-" + i);
    }

    static PathInfo info(StorePath path, StorePath... references) {
        byte[] narHash = HashAlgorithm.SHA256.newDigest().digest(path.toString().getBytes(StandardCharsets.UTF_8));
        return PathInfo.of(path, Hash.of(HashAlgorithm.SHA256, narHash), 1000 + path.name().length(),
            List.of(references), 1_700_000_000L);
    }
}
