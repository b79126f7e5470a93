package org.granary.verify.cache;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.granary.store.PathInfo;

/**
 * A Nix binary-cache secret key: a name and an Ed25519 key, written {@code NAME:BASE64} where the
 * base64 holds 64 bytes, the 32-byte seed then the 32-byte public key, as libsodium and
 * {@code nix-store --generate-binary-cache-key} store them. It signs the fingerprint of a path
 * ({@link #fingerprint}) into a narinfo's {@code Sig: NAME:BASE64(signature)}.
 *
 * <p>Immutable; safe to share between threads. {@link #toString()} gives the secret: keep it out of logs.
 */
public final class SigningKey {
    private final String name;
    private final Ed25519PrivateKeyParameters key;

    private SigningKey(String name, Ed25519PrivateKeyParameters key) {
        this.name = name;
        this.key = key;
    }

    /**
     * Generates a key.
     *
     * @param name its name, such as {@code cache.example.org-1}: non-empty, no {@code :} or whitespace
     * @param random the source of the seed
     * @return the key
     * @throws KeyFormatException if the name is not usable
     */
    public static SigningKey generate(String name, SecureRandom random) {
        VerifyingKey.checkName(name, "key name");
        return new SigningKey(name, new Ed25519PrivateKeyParameters(random));
    }

    /**
     * Parses a secret key as {@code nix-store --generate-binary-cache-key} writes it; surrounding
     * whitespace (a final newline) is ignored.
     *
     * @param text {@code NAME:BASE64(seed ‖ public key)}
     * @return the key
     * @throws KeyFormatException if the text is not such a key, or its public half does not belong to
     *     its seed
     */
    public static SigningKey parse(String text) {
        String[] parts = VerifyingKey.split(text.strip(), "secret key");
        byte[] bytes = VerifyingKey.decode(parts, 64, "secret key");
        Ed25519PrivateKeyParameters key = new Ed25519PrivateKeyParameters(bytes, 0);
        // libsodium signs with the stored public half: a mismatch would give signatures nobody verifies.
        if (!Arrays.equals(key.generatePublicKey().getEncoded(), Arrays.copyOfRange(bytes, 32, 64))) {
            throw new KeyFormatException("secret key \"" + parts[0]
                + "\": its last 32 bytes are not the public key of its first 32");
        }
        return new SigningKey(parts[0], key);
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
     * Returns the matching public key.
     *
     * @return the verifying key, of the same name
     */
    public VerifyingKey verifyingKey() {
        return VerifyingKey.of(name, key.generatePublicKey().getEncoded());
    }

    /**
     * Signs an item as a Nix binary cache does.
     *
     * @param info the item; its NAR size must be known (positive)
     * @return the {@code Sig} value: {@code NAME:BASE64(64-byte Ed25519 signature)}
     * @throws IllegalArgumentException if the NAR size is 0
     */
    public String sign(PathInfo info) {
        byte[] message = fingerprint(info).getBytes(StandardCharsets.US_ASCII);
        Ed25519Signer signer = new Ed25519Signer();
        signer.init(true, key);
        signer.update(message, 0, message.length);
        return name + ":" + Base64.getEncoder().encodeToString(signer.generateSignature());
    }

    /**
     * Returns what Nix signs for an item: {@code 1;PATH;sha256:NIX32;NARSIZE;REF1,REF2,…} with full,
     * sorted reference paths (Nix's {@code ValidPathInfo::fingerprint}).
     *
     * @param info the item; its NAR size must be known (positive)
     * @return the fingerprint
     * @throws IllegalArgumentException if the NAR size is 0, as Nix refuses it
     */
    public static String fingerprint(PathInfo info) {
        if (info.narSize() == 0) {
            throw new IllegalArgumentException("cannot fingerprint " + info.path() + ": its NAR size is not known");
        }
        StringBuilder s = new StringBuilder("1;").append(info.path()).append(';')
            .append(NarInfo.typed(info.narHash())).append(';').append(info.narSize()).append(';');
        String separator = "";
        for (var reference : info.references()) {
            s.append(separator).append(reference);
            separator = ",";
        }
        return s.toString();
    }

    /**
     * Returns the key in its file format.
     *
     * @return {@code NAME:BASE64(seed ‖ public key)}, the secret
     */
    @Override
    public String toString() {
        byte[] bytes = new byte[64];
        key.encode(bytes, 0);
        System.arraycopy(key.generatePublicKey().getEncoded(), 0, bytes, 32, 32);
        return name + ":" + Base64.getEncoder().encodeToString(bytes);
    }
}
