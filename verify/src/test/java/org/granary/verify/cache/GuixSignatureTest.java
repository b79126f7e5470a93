package org.granary.verify.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.granary.store.StorePath;
import org.granary.verify.SubstituteException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Guix narinfo signatures against vectors made by libgcrypt 1.10 through the calls of
 * {@code guix publish} (resources {@code guix/}: {@code make-vector.c} says how): two ECDSA keys on
 * Ed25519, Guix's default, and one RSA key, as older Guix made.
 */
class GuixSignatureTest {
    private static final List<String> VECTORS = List.of("ecc-1", "ecc-2", "rsa-1");

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"ecc-1", "ecc-2", "rsa-1"})
    void narinfosSignedByLibgcryptVerifyWithTheirKey(String vector) throws IOException {
        assertEquals(Optional.empty(), refusal(narinfo(vector), publicKey(vector)));
    }

    @Test
    void aKeyListedInAGuixAclIsTrusted() throws IOException {
        String acl = "(acl (entry " + publicKey("ecc-2") + " (tag (guix import))) (entry " + publicKey("ecc-1")
            + " (tag (guix import))))";
        assertEquals(Optional.empty(), refusal(narinfo("ecc-1"), acl));
        assertEquals(2, TrustedKeys.parse(List.of(acl)).guixKeyCount());
    }

    @ParameterizedTest
    @ValueSource(strings = {"ecc-1", "rsa-1"})
    void anotherKeyIsUnauthorized(String vector) throws IOException {
        String refusal = refusal(narinfo(vector), publicKey("ecc-2")).orElseThrow();
        assertTrue(refusal.contains("unauthorized key"), refusal);
    }

    @Test
    void fieldsAfterTheSignatureAreNotSignedAsInGuix() throws IOException {
        String changed = narinfo("ecc-1").replace("FileSize: 1234", "FileSize: 99999");
        assertEquals(Optional.empty(), refusal(changed, publicKey("ecc-1")));
    }

    @Property(tries = 40)
    void anyChangeToTheSignedTextIsAHashMismatch(@ForAll @IntRange(min = 0, max = 2) int which,
            @ForAll @IntRange(min = 0, max = 10_000) int position) throws IOException {
        String vector = VECTORS.get(which);
        String text = narinfo(vector);
        int signedLength = text.indexOf("Signature:");
        int at = position % signedLength;
        char replacement = text.charAt(at) == 'a' ? 'b' : 'a';
        String changed = text.substring(0, at) + replacement + text.substring(at + 1);
        String refusal;
        try {
            refusal = refusal(changed, publicKey(vector)).orElseThrow();
        } catch (NarInfoFormatException e) {
            return; // a change to a field name or value that no longer parses: refused before any signature
        }
        // A change inside a field name can also remove a field the signature must cover.
        assertTrue(refusal.contains("hash mismatch") || refusal.contains("lacks one of"), refusal);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ecc-1", "ecc-2", "rsa-1"})
    void aSignatureMovedToAnotherTextIsInvalid(String vector) throws IOException {
        // Forge: change the text and put its true hash into the signature's data. Only the
        // signature value can now tell, so this checks the ECDSA (or RSA) arithmetic itself.
        String text = narinfo(vector);
        String changed = text.replaceFirst("NarSize: (\\d)", "NarSize: 9$1");
        int at = changed.indexOf("Signature:");
        String oldHash = hex(sha256(text.substring(0, text.indexOf("Signature:"))));
        String newHash = hex(sha256(changed.substring(0, at)));
        String forged = resign(changed, sexp -> sexp.replace(oldHash, newHash));
        String refusal = refusal(forged, publicKey(vector)).orElseThrow();
        assertTrue(refusal.contains("invalid signature"), refusal);
    }

    @Test
    void aChangedEcdsaValueIsInvalid() throws IOException {
        String text = narinfo("ecc-1");
        String forged = resign(text, sexp -> {
            int r = sexp.indexOf("(r #") + 4;
            char c = sexp.charAt(r + 10);
            return sexp.substring(0, r + 10) + (c == '0' ? '1' : '0') + sexp.substring(r + 11);
        });
        String refusal = refusal(forged, publicKey("ecc-1")).orElseThrow();
        assertTrue(refusal.contains("invalid signature"), refusal);
    }

    @Test
    void malformedSignatureFieldsAreCorrupt() throws IOException {
        String text = narinfo("ecc-1");
        String field = text.lines().filter(l -> l.startsWith("Signature: ")).findFirst().orElseThrow();
        for (String bad : List.of("2;guix.example.org;AAAA", "1;guix.example.org", "1;h;not*base64",
                "1;h;" + Base64.getEncoder().encodeToString("(signature (data".getBytes(StandardCharsets.UTF_8)))) {
            String refusal = refusal(text.replace(field, "Signature: " + bad), publicKey("ecc-1")).orElseThrow();
            assertTrue(refusal.contains("corrupt signature"), bad + ": " + refusal);
        }
    }

    @Test
    void aCacheAcceptsAGuixSignedNarinfoWithTheKeyAndRefusesItWithout() throws IOException {
        String text = narinfo("ecc-2");
        NarInfo info = NarInfo.parse(text, "/gnu/store", "ecc-2");
        Files.writeString(dir.resolve("nix-cache-info"), "StoreDir: /gnu/store\nWantMassQuery: 0\nPriority: 100\n");
        Files.writeString(dir.resolve(info.storePath().hashPart() + ".narinfo"), text);
        StorePath path = info.storePath();
        BinaryCache trusting = BinaryCache.open("file://" + dir, "/gnu/store",
            TrustedKeys.parse(List.of(publicKey("ecc-2"))));
        assertEquals(info.narHash(), trusting.lookup(path).orElseThrow().info().narHash());
        BinaryCache nixKeysOnly = BinaryCache.open("file://" + dir, "/gnu/store", TrustedKeys.none());
        SubstituteException e = assertThrows(SubstituteException.class, () -> nixKeysOnly.lookup(path));
        assertTrue(e.getMessage().contains("unauthorized key"), e.getMessage());
    }

    @Test
    void theCurveArithmeticMatchesRfc8032() {
        // The base point's encoding (RFC 8032 §5.1) decodes to G, and the group order kills it.
        byte[] encodedBase = HexFormat.of().parseHex("5866666666666666666666666666666666666666666666666666666666666666");
        BigInteger[] g = EdwardsEcdsa.decode(encodedBase);
        assertEquals(EdwardsEcdsa.G[0], g[0]);
        assertEquals(EdwardsEcdsa.G[1], g[1]);
        BigInteger[] identity = EdwardsEcdsa.multiply(EdwardsEcdsa.G, EdwardsEcdsa.N);
        assertEquals(BigInteger.ZERO, identity[0]);
        assertEquals(BigInteger.ONE, identity[1]);
    }

    @Test
    void malformedGuixKeysAreRejected() {
        assertThrows(KeyFormatException.class, () -> TrustedKeys.parse(List.of("(public-key (ecc")));
        assertThrows(KeyFormatException.class, () -> TrustedKeys.parse(List.of("(private-key (ecc))")));
        assertThrows(KeyFormatException.class, () -> TrustedKeys.parse(List.of("(acl (entry x))")));
    }

    private static Optional<String> refusal(String text, String key) throws IOException {
        NarInfo info = NarInfo.parse(text, "/gnu/store", "test");
        return TrustedKeys.parse(List.of(key)).refusal(info, text);
    }

    /** Rewrites the signature's s-expression text and encodes it back into the narinfo. */
    private static String resign(String text, java.util.function.UnaryOperator<String> change) {
        String field = text.lines().filter(l -> l.startsWith("Signature: ")).findFirst().orElseThrow();
        String[] parts = field.substring("Signature: ".length()).split(";");
        String sexp = new String(Base64.getDecoder().decode(parts[2]), StandardCharsets.UTF_8);
        String changed = change.apply(sexp);
        assertTrue(!changed.equals(sexp), "the change changed nothing");
        return text.replace(field, "Signature: " + parts[0] + ";" + parts[1] + ";"
            + Base64.getEncoder().encodeToString(changed.getBytes(StandardCharsets.UTF_8)));
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().withUpperCase().formatHex(bytes);
    }

    private static String narinfo(String vector) throws IOException {
        return resource(vector + ".narinfo");
    }

    private static String publicKey(String vector) throws IOException {
        return resource(vector + ".pub");
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = GuixSignatureTest.class.getResourceAsStream("guix/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource guix/" + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
