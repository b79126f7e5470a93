package org.granary.verify.cache;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The keys whose signatures make a substitute acceptable: Nix public keys ({@code NAME:BASE64}, as
 * Nix's {@code trusted-public-keys}).
 *
 * <p>Immutable; safe to share between threads.
 */
public final class TrustedKeys {
    private final List<VerifyingKey> nixKeys;

    private TrustedKeys(List<VerifyingKey> nixKeys) {
        this.nixKeys = List.copyOf(nixKeys);
    }

    /**
     * Returns a set that trusts nothing: every substitute is refused unless unsigned ones are allowed.
     *
     * @return the empty set
     */
    public static TrustedKeys none() {
        return new TrustedKeys(List.of());
    }

    /**
     * Returns the set of the given Nix keys.
     *
     * @param keys the trusted keys
     * @return the set
     */
    public static TrustedKeys of(Collection<VerifyingKey> keys) {
        return new TrustedKeys(new ArrayList<>(keys));
    }

    /**
     * Parses trusted keys as given on a command line.
     *
     * @param keys each {@code NAME:BASE64}
     * @return the set
     * @throws KeyFormatException naming the key that does not parse
     */
    public static TrustedKeys parse(Collection<String> keys) {
        List<VerifyingKey> parsed = new ArrayList<>();
        for (String key : keys) {
            parsed.add(VerifyingKey.parse(key));
        }
        return new TrustedKeys(parsed);
    }

    /**
     * Returns the Nix keys.
     *
     * @return the keys, in the order given
     */
    public List<VerifyingKey> nixKeys() {
        return nixKeys;
    }

    /**
     * Says why a narinfo is not signed by a trusted key, or nothing if it is.
     *
     * @param info the narinfo
     * @return empty if one of its {@code Sig} values is a trusted key's valid signature; otherwise what
     *     was found: no signature, signatures by untrusted keys (named), or signatures that do not verify
     */
    Optional<String> refusal(NarInfo info) {
        List<String> problems = new ArrayList<>();
        var pathInfo = info.toPathInfo();
        for (String sig : info.sigs()) {
            String name = sig.substring(0, Math.max(sig.indexOf(':'), 0));
            List<VerifyingKey> named = nixKeys.stream().filter(k -> k.name().equals(name)).toList();
            if (named.isEmpty()) {
                problems.add("Sig by untrusted key \"" + name + "\"");
            } else if (named.stream().anyMatch(k -> k.verifies(pathInfo, sig))) {
                return Optional.empty();
            } else {
                problems.add("Sig by trusted key \"" + name + "\" does not verify");
            }
        }
        if (info.guixSignature() != null) {
            problems.add("Guix Signature not verified (Granary checks Nix signatures only)");
        }
        if (problems.isEmpty()) {
            return Optional.of("no signature");
        }
        return Optional.of(String.join("; ", problems));
    }
}
