package org.granary.verify.cache;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.Tuple.Tuple2;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import org.granary.nar.testing.Allocation;
import org.granary.nar.testing.FullTries;
import org.granary.nar.testing.Mutator;
import org.granary.nar.testing.OwnExceptions;
import org.granary.store.Hash;
import org.granary.store.HashAlgorithm;
import org.granary.store.PathInfo;
import org.granary.store.StorePath;

/**
 * Hostile binary-cache input (issue 7): mutations of generated narinfo texts, of public and secret keys,
 * of {@code Sig} values, and of NARs compressed with every codec. A narinfo is parsed and then printed
 * back to the same value, or refused with {@link NarInfoFormatException}; a key is parsed to one that
 * reprints as itself or refused with {@link KeyFormatException}; a signature check answers true or false and never throws, and
 * a mutated signature verifies only if it decodes to the same bytes; a decoder gives bytes or an
 * {@link IOException}, never a runtime exception, and allocates no more than its dictionary limit
 * ({@link Compression#MAX_DICTIONARY}) whatever its header declares. The tries are a plain build's;
 * {@code -Pfull-reliability} runs 100,000 of each (a tenth for the codecs, which compress every seed).
 */
class CacheHostileInputTest {
    private static final String STORE = NarInfoPropertyTest.STORE;
    private static final Mutator TEXT = new Mutator(List.of("StorePath: ", "URL: ", "Compression: ", "FileHash: ",
            "FileSize: ", "NarHash: ", "NarSize: ", "References: ", "Deriver: ", "Sig: ", "CA: ", "System: ",
            "\n", ": ", " ", ":", "sha256:", "/gnu/store/", "/nix/store/", "0", "-1", "99999999999999999999",
            "\r", "\0", "==", "unknown-deriver", "fixed:r:sha256:").stream().map(s -> s.getBytes(UTF_8)).toList());
    private static final Mutator BINARY = new Mutator(List.of());
    private static final SigningKey KEY = SigningKey.generate("cache.example.org-1", seeded(1));
    private static final PathInfo ITEM = PathInfo.of(
            StorePath.parse(STORE + "/" + "0".repeat(32) + "-hello", STORE),
            Hash.of(HashAlgorithm.SHA256, new byte[32]), 1234, List.of(), 0);
    /** Stops a decompression bomb: more than this many bytes out of a few KiB in is plenty. */
    private static final int MAX_OUTPUT = 16 << 20;

    @Provide
    Arbitrary<byte[]> hostileNarInfos() {
        Arbitrary<byte[]> seeds = new NarInfoPropertyTest().narInfos().map(info -> info.toString().getBytes(UTF_8));
        return Arbitraries.frequencyOf(Tuple.of(1, seeds), Tuple.of(6, TEXT.mutationsOf(seeds)));
    }

    @Provide
    Arbitrary<byte[]> hostileKeys() {
        Arbitrary<byte[]> seeds = Combinators.combine(Arbitraries.strings().withChars("abcxyz.-19").ofMinLength(1)
                .ofMaxLength(20), Arbitraries.longs(), Arbitraries.of(true, false))
            .as((name, n, secret) -> {
                SigningKey key = SigningKey.generate(name, seeded(n));
                return (secret ? key.toString() : key.verifyingKey().toString()).getBytes(UTF_8);
            });
        return Arbitraries.frequencyOf(Tuple.of(1, seeds), Tuple.of(6, TEXT.mutationsOf(seeds)));
    }

    @Provide
    Arbitrary<byte[]> hostileSigs() {
        return TEXT.mutationsOf(Arbitraries.just(KEY.sign(ITEM).getBytes(UTF_8)));
    }

    @Provide
    Arbitrary<Tuple2<Compression, byte[]>> hostileCompressed() {
        Arbitrary<byte[]> plain = Arbitraries.bytes().array(byte[].class).ofMaxSize(3000)
            .map(b -> b.length % 2 == 0 ? b : new String(b, UTF_8).repeat(3).getBytes(UTF_8));
        return Combinators.combine(Arbitraries.of(Compression.values()), plain, Arbitraries.longs(),
                Arbitraries.integers().between(0, 6))
            .as((codec, bytes, n, mutate) -> {
                byte[] compressed = compress(codec, bytes);
                return Tuple.of(codec, mutate == 0 ? compressed : BINARY.mutate(compressed, new Random(n)));
            });
    }

    @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
    @AddLifecycleHook(FullTries.class)
    void aNarInfoIsParsedToWhatItPrintsOrRefusedWithItsOwnException(@ForAll("hostileNarInfos") byte[] bytes)
            throws Exception {
        NarInfo info;
        try {
            info = NarInfo.parse(new String(bytes, UTF_8), STORE, "hostile");
        } catch (NarInfoFormatException e) {
            return;
        } catch (RuntimeException e) {
            OwnExceptions.expect(e, bytes, NarInfoFormatException.class);
            return;
        }
        assertEquals(info, NarInfo.parse(info.toString(), STORE, "reprinted"), "an accepted narinfo reprints as itself");
    }

    @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
    @AddLifecycleHook(FullTries.class)
    void aKeyIsParsedExactlyOrRefusedWithItsOwnException(@ForAll("hostileKeys") byte[] bytes) {
        String text = new String(bytes, UTF_8);
        try {
            VerifyingKey key = VerifyingKey.parse(text);
            // Base64 whose last digit sets unused bits is accepted, as Nix's decoder does: same key, other text.
            assertEquals(key, VerifyingKey.parse(key.toString()), "an accepted public key reprints as itself");
        } catch (RuntimeException e) {
            OwnExceptions.expect(e, bytes, KeyFormatException.class);
        }
        try {
            SigningKey key = SigningKey.parse(text);
            assertEquals(key.verifyingKey(), VerifyingKey.parse(key.verifyingKey().toString()));
        } catch (RuntimeException e) {
            OwnExceptions.expect(e, bytes, KeyFormatException.class);
        }
    }

    @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
    @AddLifecycleHook(FullTries.class)
    void aMutatedSignatureVerifiesOnlyIfItIsTheSameSignature(@ForAll("hostileSigs") byte[] bytes) {
        String sig = new String(bytes, UTF_8);
        boolean verifies;
        try {
            verifies = KEY.verifyingKey().verifies(ITEM, sig);
        } catch (RuntimeException e) {
            throw new AssertionError("a signature check threw instead of answering: " + sig, e);
        }
        if (verifies) {
            String original = KEY.sign(ITEM);
            assertArrayEquals(Base64.getDecoder().decode(original.substring(original.indexOf(':') + 1)),
                Base64.getDecoder().decode(sig.substring(sig.indexOf(':') + 1)), "a different signature verified: " + sig);
        }
    }

    @Property(tries = 60, edgeCases = EdgeCasesMode.NONE)
    @AddLifecycleHook(FullTries.class)
    @FullTries.Costly
    void aDecoderGivesBytesOrAnIOExceptionWithinItsMemoryLimit(@ForAll("hostileCompressed") Tuple2<Compression, byte[]> input)
            throws Throwable {
        Compression codec = input.get1();
        byte[] compressed = input.get2();
        Throwable[] thrown = {null};
        long allocated = Allocation.bytesAllocatedBy(() -> {
            try (InputStream in = codec.decompress(new ByteArrayInputStream(compressed))) {
                byte[] buffer = new byte[8192];
                long total = 0;
                for (int n; (n = in.read(buffer)) >= 0 && total < MAX_OUTPUT; ) {
                    total += n;
                }
            }
        }, t -> thrown[0] = t);
        OwnExceptions.expect(thrown[0], compressed, IOException.class);
        assertTrue(allocated < 2L * Compression.MAX_DICTIONARY + MAX_OUTPUT,
            codec + ": decoding " + compressed.length + " bytes allocated " + allocated + " bytes");
    }

    private static byte[] compress(Compression codec, byte[] bytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream compressing = codec.compress(out)) {
            compressing.write(bytes);
        } catch (IOException e) {
            throw new IllegalStateException(codec + " failed to compress", e);
        }
        return out.toByteArray();
    }

    /** A deterministic random source for key generation, so that jqwik's seed reproduces a try. */
    private static SecureRandom seeded(long seed) {
        try {
            SecureRandom random = SecureRandom.getInstance("SHA1PRNG");
            random.setSeed(seed);
            return random;
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
