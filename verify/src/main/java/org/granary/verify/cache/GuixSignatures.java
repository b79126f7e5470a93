package org.granary.verify.cache;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.granary.store.HashAlgorithm;

/**
 * Verifies the {@code Signature: 1;HOST;BASE64} field of a narinfo as {@code guix substitute} does
 * (guix/narinfo.scm {@code valid-narinfo?}, guix/pki.scm {@code %signature-status}; store-facts.md §10).
 *
 * <p>The signed text is the narinfo up to (not including) its first {@code Signature:}, which must hold
 * the fields {@code StorePath}, {@code NarHash} and {@code References}. The base64 decodes to the
 * s-expression {@code (signature (data (flags rfc6979) (hash sha256 #SHA256#)) (sig-val …) (public-key
 * …))}. It is valid when the public key is trusted, the hash in {@code data} is the SHA-256 of the
 * signed text, and {@code sig-val} verifies as libgcrypt's {@code gcry_pk_verify} would for the two key
 * types Guix has generated: an {@code ecc} key on curve {@code Ed25519} used for ECDSA (the default since
 * libgcrypt 1.6: {@code (genkey (ecdsa (curve Ed25519) (flags rfc6979)))}; this is ECDSA over the
 * twisted Edwards curve, not EdDSA), and an {@code rsa} key with PKCS#1 v1.5 and SHA-256 (older keys).
 *
 * <p>Stateless; safe to share between threads.
 */
final class GuixSignatures {
    private static final List<String> SIGNED_FIELDS = List.of("StorePath", "NarHash", "References");
    /** DER of the DigestInfo of SHA-256 that PKCS#1 v1.5 puts before the hash (RFC 8017 §9.2). */
    private static final byte[] SHA256_DIGEST_INFO = HexFormat.of().parseHex("3031300d060960864801650304020105000420");

    private GuixSignatures() {
    }

    /**
     * Says why a narinfo's Guix signature is not a trusted valid one, or nothing if it is.
     *
     * @param narinfo the narinfo's whole text, as received
     * @param field the value of its {@code Signature} field
     * @param trusted the trusted public keys ({@code (public-key …)} expressions)
     * @return empty if valid; otherwise one of Guix's statuses with detail: corrupt signature,
     *     unauthorized key, hash mismatch, invalid signature
     */
    static Optional<String> problem(String narinfo, String field, List<Sexp> trusted) {
        String[] parts = field.split(";", -1);
        if (parts.length != 3) {
            return Optional.of("corrupt signature: expected 1;HOST;BASE64, found " + parts.length + " fields");
        }
        if (!parts[0].equals("1")) {
            return Optional.of("corrupt signature: unsupported version \"" + parts[0] + "\"");
        }
        Sexp signature;
        try {
            signature = Sexp.parse(Base64.getDecoder().decode(parts[2]));
        } catch (IllegalArgumentException e) {
            return Optional.of("corrupt signature: " + e.getMessage());
        }
        int at = narinfo.indexOf("Signature:");
        String signed = narinfo.substring(0, at);
        Set<String> fields = new HashSet<>();
        signed.lines().forEach(line -> fields.add(line.substring(0, Math.max(line.indexOf(':'), 0))));
        if (!fields.containsAll(SIGNED_FIELDS)) {
            // Guix then counts the narinfo as unsigned.
            return Optional.of("the text before Signature: lacks one of " + SIGNED_FIELDS);
        }
        Sexp data = signature.find("data");
        Sexp subject = signature.find("public-key");
        if (data == null || subject == null) {
            return Optional.of("corrupt signature: no data or public-key in " + signature);
        }
        if (!trusted.contains(subject)) {
            return Optional.of("unauthorized key " + subject);
        }
        Sexp hash = data.find("hash");
        byte[] expected = MessageDigestHolder.sha256(signed.getBytes(StandardCharsets.UTF_8));
        if (hash == null || hash.get(2) == null || hash.get(2).isList()
                || !Arrays.equals(hash.get(2).bytes(), expected)) {
            return Optional.of("hash mismatch: the signature is not of this narinfo's text");
        }
        Sexp sigVal = signature.find("sig-val");
        String invalid = sigVal == null ? "no sig-val" : verify(data, sigVal, subject);
        return invalid == null ? Optional.empty() : Optional.of("invalid signature: " + invalid);
    }

    /** {@code gcry_pk_verify} for the key types Guix makes; returns null if valid, else why not. */
    private static String verify(Sexp data, Sexp sigVal, Sexp publicKey) {
        Sexp hash = data.find("hash");
        if (hash == null || !"sha256".equals(hash.get(1) == null ? null : hash.get(1).text())) {
            return "data is not a sha256 hash";
        }
        byte[] digest = hash.get(2).bytes();
        Sexp ecc = publicKey.find("ecc");
        Sexp rsa = publicKey.find("rsa");
        if (ecc != null) {
            Sexp curve = ecc.find("curve");
            Sexp flags = ecc.find("flags");
            if (curve == null || !"Ed25519".equals(curve.get(1) == null ? null : curve.get(1).text())) {
                return "ecc key on curve " + curve + ", only Ed25519 is supported";
            }
            if (flags != null && flags.elements().stream().anyMatch(f -> "eddsa".equals(f.text()))) {
                return "EdDSA keys are not supported (Guix makes ECDSA keys on Ed25519)";
            }
            Sexp ecdsa = sigVal.find("ecdsa");
            byte[] q = atom(ecc, "q");
            byte[] r = atom(ecdsa, "r");
            byte[] s = atom(ecdsa, "s");
            if (q == null || r == null || s == null) {
                return "expected (sig-val (ecdsa (r …) (s …))) and a key with q";
            }
            return EdwardsEcdsa.verify(q, digest, new BigInteger(1, r), new BigInteger(1, s));
        }
        if (rsa != null) {
            byte[] n = atom(rsa, "n");
            byte[] e = atom(rsa, "e");
            byte[] s = atom(sigVal.find("rsa"), "s");
            if (n == null || e == null || s == null) {
                return "expected (sig-val (rsa (s …))) and a key with n and e";
            }
            return verifyRsa(new BigInteger(1, n), new BigInteger(1, e), new BigInteger(1, s), digest);
        }
        return "key type " + publicKey.get(1) + " is not supported";
    }

    /** RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2.2), as libgcrypt checks {@code (flags pkcs1)}. */
    private static String verifyRsa(BigInteger n, BigInteger e, BigInteger s, byte[] digest) {
        int k = (n.bitLength() + 7) / 8;
        if (s.signum() <= 0 || s.compareTo(n) >= 0) {
            return "RSA signature out of range";
        }
        byte[] encoded = new byte[k];
        int tLength = SHA256_DIGEST_INFO.length + digest.length;
        if (k < tLength + 11) {
            return "RSA key too short";
        }
        encoded[1] = 1;
        Arrays.fill(encoded, 2, k - tLength - 1, (byte) 0xff);
        System.arraycopy(SHA256_DIGEST_INFO, 0, encoded, k - tLength, SHA256_DIGEST_INFO.length);
        System.arraycopy(digest, 0, encoded, k - digest.length, digest.length);
        return s.modPow(e, n).equals(new BigInteger(1, encoded)) ? null : "RSA signature does not verify";
    }

    private static byte[] atom(Sexp list, String token) {
        Sexp found = list == null ? null : list.find(token);
        Sexp value = found == null ? null : found.get(1);
        return value == null || value.isList() ? null : value.bytes();
    }

    /** SHA-256 through the JDK. */
    private static final class MessageDigestHolder {
        static byte[] sha256(byte[] bytes) {
            MessageDigest digest = HashAlgorithm.SHA256.newDigest();
            return digest.digest(bytes);
        }
    }
}
