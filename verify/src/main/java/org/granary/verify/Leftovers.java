package org.granary.verify;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.granary.store.NixBase32;
import org.granary.store.StorePath;

/**
 * Says what an entry of the store dir that is not a valid item probably is, from its name: the daemon's
 * and Granary's naming conventions (store-facts.md §7, {@code LocalStore}). Stateless.
 */
final class Leftovers {
    private static final String GRANARY_TEMP = ".granary-add-";

    private Leftovers() {
    }

    /**
     * The names of the entries of a store dir. {@link java.io.File#list}: the names in one native call,
     * where a {@code DirectoryStream} makes a {@code Path} of each entry; the verifier lists the store
     * dir before the first byte is hashed and again once all are, while the JVM still interprets most
     * code (40 ms against a few for 2,036 entries).
     *
     * @throws IOException if the directory cannot be listed, saying why
     */
    static String[] names(Path storeDir) throws IOException {
        String[] names = storeDir.toFile().list();
        if (names == null) {
            Files.newDirectoryStream(storeDir).close(); // throws, saying why it cannot be listed
            throw new IOException(storeDir + ": cannot list the store dir");
        }
        return names;
    }

    /** A short description of the entry, for the {@code actual} field of its finding. */
    static String describe(String name) {
        if (name.startsWith(GRANARY_TEMP) || name.startsWith("." + GRANARY_TEMP)) {
            String rest = name.substring(name.indexOf(GRANARY_TEMP) + GRANARY_TEMP.length());
            int dash = rest.indexOf('-');
            String pid = dash > 0 ? rest.substring(0, dash) : "";
            if (pid.chars().allMatch(c -> c >= '0' && c <= '9') && !pid.isEmpty() && pid.length() < 19) {
                boolean running = ProcessHandle.of(Long.parseLong(pid)).isPresent();
                return "temporary entry of a Granary addition or repair by process " + pid
                    + (running ? " (still running)" : " (no longer running)");
            }
            return "temporary entry of a Granary addition or repair";
        }
        if (name.endsWith(".lock") && looksLikeItem(name.substring(0, name.length() - ".lock".length()))) {
            return "lock file of an item (left by an interrupted addition, or held by one in progress)";
        }
        if (name.endsWith(".chroot") && looksLikeItem(name.substring(0, name.length() - ".chroot".length()))) {
            return "build chroot of an item (left by an interrupted build)";
        }
        if (name.equals("trash")) {
            return "the collector's trash directory (left by an interrupted collection)";
        }
        if (looksLikeItem(name)) {
            return "not a valid item (never registered, or made invalid without being deleted)";
        }
        return "not a store item name";
    }

    /**
     * Whether a store dir entry is named as an item is (a hash part, a dash and a name), by its shape
     * alone: the name's characters are not checked.
     */
    static boolean looksLikeItem(String name) {
        // A hash part (32 characters of nix-base32, which has no e, o, t or u), a dash and a name. By hand,
        // not a regular expression: the verifier calls this for every entry while the JVM still interprets.
        int hash = StorePath.HASH_PART_LENGTH;
        if (name.length() < hash + 2 || name.charAt(hash) != '-' || name.indexOf('/') >= 0) {
            return false;
        }
        for (int i = 0; i < hash; i++) {
            if (NixBase32.ALPHABET.indexOf(name.charAt(i)) < 0) {
                return false;
            }
        }
        return true;
    }
}
