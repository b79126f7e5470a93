package org.granary.verify.cache;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The keys whose signatures make a substitute acceptable: Nix public keys ({@code NAME:BASE64}, as in
 * Nix's {@code trusted-public-keys}), which check a narinfo's {@code Sig} fields, and Guix public keys
 * (the {@code (public-key …)} s-expressions of {@code /etc/guix/signing-key.pub} and of the entries of
 * {@code /etc/guix/acl}), which check its {@code Signature} field.
 *
 * <p>Immutable; safe to share between threads.
 */
public final class TrustedKeys {
    private final List<VerifyingKey> nixKeys;
    private final List<Sexp> guixKeys;

    private TrustedKeys(List<VerifyingKey> nixKeys, List<Sexp> guixKeys) {
        this.nixKeys = List.copyOf(nixKeys);
        this.guixKeys = List.copyOf(guixKeys);
    }

    /**
     * Returns a set that trusts nothing: every substitute is refused unless unsigned ones are allowed.
     *
     * @return the empty set
     */
    public static TrustedKeys none() {
        return new TrustedKeys(List.of(), List.of());
    }

    /**
     * Returns the set of the given Nix keys.
     *
     * @param keys the trusted keys
     * @return the set
     */
    public static TrustedKeys of(Collection<VerifyingKey> keys) {
        return new TrustedKeys(new ArrayList<>(keys), List.of());
    }

    /**
     * Parses trusted keys as given on a command line or read from files.
     *
     * @param keys each a Nix key {@code NAME:BASE64}, a Guix key {@code (public-key (ecc (curve Ed25519)
     *     (q #…#)))} (or an RSA one), or a whole Guix ACL {@code (acl (entry (public-key …) (tag (guix
     *     import))) …)}, whose every entry is trusted
     * @return the set
     * @throws KeyFormatException naming the key that does not parse
     */
    public static TrustedKeys parse(Collection<String> keys) {
        List<VerifyingKey> nix = new ArrayList<>();
        List<Sexp> guix = new ArrayList<>();
        for (String key : keys) {
            String text = key.strip();
            if (text.startsWith("(")) {
                guix.addAll(guixKeys(text));
            } else {
                nix.add(VerifyingKey.parse(text));
            }
        }
        return new TrustedKeys(nix, guix);
    }

    private static List<Sexp> guixKeys(String text) {
        Sexp sexp;
        try {
            sexp = Sexp.parse(text);
        } catch (IllegalArgumentException e) {
            throw new KeyFormatException("Guix key: " + e.getMessage());
        }
        if ("public-key".equals(sexp.head())) {
            return List.of(sexp);
        }
        if ("acl".equals(sexp.head())) {
            List<Sexp> keys = new ArrayList<>();
            for (Sexp entry : sexp.elements().subList(1, sexp.elements().size())) {
                Sexp key = entry.get(1);
                if (!"entry".equals(entry.head()) || key == null || !"public-key".equals(key.head())) {
                    throw new KeyFormatException("Guix ACL: expected (entry (public-key …) (tag …)), found " + entry);
                }
                keys.add(key);
            }
            return keys;
        }
        throw new KeyFormatException("Guix key: expected (public-key …) or (acl …), found (" + sexp.head() + " …)");
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
     * Returns how many Guix keys are trusted.
     *
     * @return their number
     */
    public int guixKeyCount() {
        return guixKeys.size();
    }

    /**
     * Says why a narinfo is not signed by a trusted key, or nothing if it is.
     *
     * @param info the narinfo
     * @param text its text exactly as received (Guix signs a prefix of it)
     * @return empty if one of its {@code Sig} values is a trusted Nix key's valid signature, or its
     *     {@code Signature} is a trusted Guix key's; otherwise what was found for each signature: none,
     *     an untrusted key (named), or a signature that does not verify
     */
    Optional<String> refusal(NarInfo info, String text) {
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
            Optional<String> guix = GuixSignatures.problem(text, info.guixSignature(), guixKeys);
            if (guix.isEmpty()) {
                return Optional.empty();
            }
            problems.add("Signature: " + guix.get());
        }
        if (problems.isEmpty()) {
            return Optional.of("no signature");
        }
        return Optional.of(String.join("; ", problems));
    }
}
