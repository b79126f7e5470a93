package org.granary.verify.cache;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.granary.store.PathInfo;

/**
 * A Nix binary-cache public key, {@code NAME:BASE64(32-byte Ed25519 public key)} as in Nix's
 * {@code trusted-public-keys}. It verifies {@code Sig} values made by the {@link SigningKey} of the same
 * name.
 *
 * <p>Immutable; safe to share between threads.
 */
public final class VerifyingKey {
    private final String name;
    private final byte[] key;

    private VerifyingKey(String name, byte[] key) {
        this.name = name;
        this.key = key;
    }

    static VerifyingKey of(String name, byte[] key) {
        return new VerifyingKey(name, key.clone());
    }

    /**
     * Parses a public key; surrounding whitespace is ignored.
     *
     * @param text {@code NAME:BASE64}, such as {@code cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=}
     * @return the key
     * @throws KeyFormatException if the text is not such a key
     */
    public static VerifyingKey parse(String text) {
        String[] parts = split(text.strip(), "public key");
        return new VerifyingKey(parts[0], decode(parts, 32, "public key"));
    }

    /**
     * Returns the key's name.
     *
     * @return the name before the {@code :}
     */
    public String name() {
        return name;
    }

    /**
     * Says whether a {@code Sig} value is this key's valid signature of an item.
     *
     * @param info the item, as the narinfo describes it
     * @param sig {@code NAME:BASE64(signature)}
     * @return true if the name is this key's and the signature verifies over the item's fingerprint;
     *     false otherwise (another name, malformed base64, wrong length, or a signature that fails)
     */
    public boolean verifies(PathInfo info, String sig) {
        int colon = sig.indexOf(':');
        if (colon < 0 || !sig.substring(0, colon).equals(name) || info.narSize() == 0) {
            return false;
        }
        byte[] signature;
        try {
            signature = Base64.getDecoder().decode(sig.substring(colon + 1));
        } catch (IllegalArgumentException e) {
            return false;
        }
        if (signature.length != 64) {
            return false;
        }
        byte[] message = SigningKey.fingerprint(info).getBytes(StandardCharsets.US_ASCII);
        Ed25519Signer verifier = new Ed25519Signer();
        verifier.init(false, new Ed25519PublicKeyParameters(key, 0));
        verifier.update(message, 0, message.length);
        return verifier.verifySignature(signature);
    }

    /**
     * Returns the key in its file format.
     *
     * @return {@code NAME:BASE64}
     */
    @Override
    public String toString() {
        return name + ":" + Base64.getEncoder().encodeToString(key);
    }

    /**
     * Two keys are equal if they have the same name and bytes.
     *
     * @param other any object
     * @return whether it is an equal key
     */
    @Override
    public boolean equals(Object other) {
        return other instanceof VerifyingKey k && k.name.equals(name) && Arrays.equals(k.key, key);
    }

    /**
     * Returns a hash code consistent with {@link #equals(Object)}.
     *
     * @return the hash code
     */
    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(key);
    }

    static String[] split(String text, String what) {
        int colon = text.indexOf(':');
        if (colon < 0) {
            throw new KeyFormatException(what + " \"" + abbreviate(text) + "\" is not NAME:BASE64 (no ':')");
        }
        String name = text.substring(0, colon);
        checkName(name, what + " name");
        return new String[] {name, text.substring(colon + 1)};
    }

    static byte[] decode(String[] parts, int length, String what) {
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(parts[1]);
        } catch (IllegalArgumentException e) {
            throw new KeyFormatException(what + " \"" + parts[0] + "\": invalid base64: " + e.getMessage());
        }
        if (bytes.length != length) {
            throw new KeyFormatException(what + " \"" + parts[0] + "\": " + bytes.length + " bytes, expected " + length);
        }
        return bytes;
    }

    static void checkName(String name, String what) {
        if (name.isEmpty() || name.chars().anyMatch(c -> c <= ' ' || c > '~' || c == ':')) {
            throw new KeyFormatException(what + " \"" + name + "\" must be non-empty printable ASCII without"
                + " spaces or ':'");
        }
    }

    /** A key's text in a message: the name and the start, never a whole secret. */
    private static String abbreviate(String text) {
        return text.length() <= 12 ? text : text.substring(0, 12) + "…";
    }
}
