package org.granary.cli;

import java.util.ArrayList;
import java.util.List;
import org.granary.verify.Substituter;
import org.granary.verify.cache.BinaryCache;
import org.granary.verify.cache.TrustedKeys;
import picocli.CommandLine;

/**
 * Opens the binary caches named by {@code --substituter}, with the keys of {@code --trusted-key} or, with
 * {@code --allow-unsigned}, without signatures. Nothing is fetched here; a malformed URL or key is a usage
 * error, and so is a substituter with neither keys nor {@code --allow-unsigned}, whose every substitute
 * would be refused.
 */
final class Substituters {
    private Substituters() {
    }

    static List<Substituter> open(CommandLine line, String storeDir, List<String> urls, List<String> trustedKeys,
            boolean allowUnsigned) {
        if (urls.isEmpty()) {
            if (!trustedKeys.isEmpty() || allowUnsigned) {
                throw new CommandLine.ParameterException(line, "--trusted-key and --allow-unsigned need --substituter");
            }
            return List.of();
        }
        if (trustedKeys.isEmpty() && !allowUnsigned) {
            throw new CommandLine.ParameterException(line, "--substituter needs --trusted-key KEY (NAME:BASE64) "
                + "or --allow-unsigned: without either every substitute would be refused");
        }
        TrustedKeys keys;
        try {
            keys = TrustedKeys.parse(trustedKeys);
        } catch (IllegalArgumentException e) { // KeyFormatException among them
            throw new CommandLine.ParameterException(line, "--trusted-key: " + e.getMessage());
        }
        List<Substituter> opened = new ArrayList<>(urls.size());
        for (String url : urls) {
            try {
                opened.add(allowUnsigned ? BinaryCache.openAllowingUnsigned(url, storeDir)
                    : BinaryCache.open(url, storeDir, keys));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(line, "--substituter " + url + ": " + e.getMessage());
            }
        }
        return opened;
    }
}
