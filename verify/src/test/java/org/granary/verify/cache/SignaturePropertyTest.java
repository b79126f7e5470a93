package org.granary.verify.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.TreeSet;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.granary.store.PathInfo;
import org.junit.jupiter.api.Test;

class SignaturePropertyTest {
    private static final SigningKey KEY = SigningKey.generate("cache.example.org-1", new SecureRandom());

    @Property(tries = 100)
    void aSignatureVerifiesWithTheMatchingPublicKey(@ForAll("infos") PathInfo info) {
        String sig = KEY.sign(info);
        assertTrue(sig.startsWith("cache.example.org-1:"), sig);
        assertTrue(KEY.verifyingKey().verifies(info, sig));
        assertTrue(VerifyingKey.parse(KEY.verifyingKey().toString()).verifies(info, sig));
    }

    @Property(tries = 100)
    void aFlippedBitOfTheSignatureFails(@ForAll("infos") PathInfo info, @ForAll @IntRange(max = 511) int bit) {
        String sig = KEY.sign(info);
        byte[] raw = Base64.getDecoder().decode(sig.substring(sig.indexOf(':') + 1));
        raw[bit / 8] ^= (byte) (1 << (bit % 8));
        assertFalse(KEY.verifyingKey().verifies(info, KEY.name() + ":" + Base64.getEncoder().encodeToString(raw)));
    }

    @Property(tries = 100)
    void aSignatureDoesNotCoverAnotherItem(@ForAll("infos") PathInfo info, @ForAll("infos") PathInfo other) {
        String sig = KEY.sign(info);
        PathInfo larger = new PathInfo(info.path(), info.narHash(), info.narSize() + 1, info.references(), null, 0,
            new TreeSet<>(), null);
        assertFalse(KEY.verifyingKey().verifies(larger, sig));
        PathInfo fewerReferences = PathInfo.of(info.path(), info.narHash(), info.narSize(), List.of(), 0);
        assertEquals(info.references().isEmpty(), KEY.verifyingKey().verifies(fewerReferences, sig));
        if (!SigningKey.fingerprint(other).equals(SigningKey.fingerprint(info))) {
            assertFalse(KEY.verifyingKey().verifies(other, sig));
        }
    }

    @Test
    void anotherKeyOrNameDoesNotVerify() {
        PathInfo info = PathInfo.of(new org.granary.store.StorePath("/gnu/store", "a".repeat(32), "x"),
            NarInfoPropertyTest.hashes().sample(), 120, List.of(), 0);
        SigningKey other = SigningKey.generate("cache.example.org-1", new SecureRandom());
        assertFalse(other.verifyingKey().verifies(info, KEY.sign(info)));
        String renamed = "other-1" + KEY.sign(info).substring(KEY.name().length());
        assertFalse(KEY.verifyingKey().verifies(info, renamed));
        assertFalse(KEY.verifyingKey().verifies(info, KEY.name() + ":not base64!"));
    }

    @Test
    void keysRoundTripThroughTheirFileFormat() {
        SigningKey parsed = SigningKey.parse(KEY + "\n");
        assertEquals(KEY.toString(), parsed.toString());
        assertEquals(KEY.verifyingKey(), parsed.verifyingKey());
        assertEquals(64, Base64.getDecoder().decode(KEY.toString().substring(KEY.name().length() + 1)).length);
        assertEquals(32, Base64.getDecoder().decode(KEY.verifyingKey().toString().substring(KEY.name().length() + 1)).length);
    }

    @Test
    void malformedKeysAreRejectedNamingTheProblem() {
        byte[] secret = Base64.getDecoder().decode(KEY.toString().substring(KEY.name().length() + 1));
        secret[40] ^= 1;
        KeyFormatException mismatch = assertThrows(KeyFormatException.class,
            () -> SigningKey.parse("k:" + Base64.getEncoder().encodeToString(secret)));
        assertTrue(mismatch.getMessage().contains("not the public key"), mismatch.getMessage());
        assertThrows(KeyFormatException.class, () -> VerifyingKey.parse("no-colon"));
        assertThrows(KeyFormatException.class, () -> VerifyingKey.parse(":" + "A".repeat(43) + "="));
        KeyFormatException length = assertThrows(KeyFormatException.class, () -> VerifyingKey.parse("k:AAAA"));
        assertTrue(length.getMessage().contains("3 bytes, expected 32"), length.getMessage());
    }

    @Test
    void theFingerprintIsNixs() {
        var a = new org.granary.store.StorePath("/gnu/store", "b".repeat(32), "b");
        var b = new org.granary.store.StorePath("/gnu/store", "a".repeat(32), "a");
        var hash = org.granary.store.Hash.parse("sha256:" + "1".repeat(52));
        PathInfo info = PathInfo.of(a, hash, 4242, List.of(a, b), 0);
        assertEquals("1;/gnu/store/" + "b".repeat(32) + "-b;sha256:" + "1".repeat(52) + ";4242;/gnu/store/"
            + "a".repeat(32) + "-a,/gnu/store/" + "b".repeat(32) + "-b", SigningKey.fingerprint(info));
        assertThrows(IllegalArgumentException.class,
            () -> SigningKey.fingerprint(PathInfo.of(a, hash, 0, List.of(), 0)));
    }

    @Provide
    Arbitrary<PathInfo> infos() {
        return Combinators.combine(NarInfoPropertyTest.storePaths(), NarInfoPropertyTest.hashes(),
            net.jqwik.api.Arbitraries.longs().between(1, 1L << 40), NarInfoPropertyTest.storePaths().list().ofMaxSize(3))
            .as((p, h, s, r) -> PathInfo.of(p, h, s, r, 0));
    }
}
