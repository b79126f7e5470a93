package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.security.MessageDigest;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** OpenSSL's digests give exactly the JDK's bytes, however the input is split. */
class OpenSslDigestTest {
    @BeforeEach
    void requireTheLibrary() {
        if ("true".equals(System.getenv("CI"))) {
            // CI builds the library (gcc, libcrypto): there its absence is a broken build, not a skip.
            assertTrue(OpenSslDigest.available(), "the native digest library did not load under CI=true");
        }
        assumeTrue(OpenSslDigest.available(), "native digest library not built or no libcrypto: JDK digests in use");
    }

    @Test
    void everyAlgorithmGivesTheJdksDigestForEverySplitOfTheInput() {
        Random random = new Random(42);
        for (HashAlgorithm algorithm : HashAlgorithm.values()) {
            for (int size : new int[] {0, 1, 55, 56, 63, 64, 65, 127, 128, 1000, 1 << 20}) {
                byte[] data = new byte[size];
                random.nextBytes(data);
                MessageDigest openssl = algorithm.newDigest();
                assertEquals(OpenSslDigest.class, openssl.getClass());
                MessageDigest jdk = algorithm.newJdkDigest();
                assertEquals(jdk.getAlgorithm(), openssl.getAlgorithm());
                assertEquals(jdk.getDigestLength(), openssl.getDigestLength());
                int offset = 0;
                while (offset < size) {
                    int piece = Math.min(size - offset, 1 + random.nextInt(300));
                    if (piece == 1) {
                        openssl.update(data[offset]);
                    } else {
                        openssl.update(data, offset, piece);
                    }
                    offset += piece;
                }
                assertArrayEquals(jdk.digest(data), openssl.digest(), algorithm + " of " + size + " bytes");
                // digest() starts over, as MessageDigest's contract says.
                assertArrayEquals(jdk.digest(data), openssl.digest(data), algorithm + " again");
            }
        }
    }

    @Test
    void resetForgetsWhatWasHashed() {
        MessageDigest openssl = HashAlgorithm.SHA256.newDigest();
        openssl.update(new byte[] {1, 2, 3});
        openssl.reset();
        assertArrayEquals(HashAlgorithm.SHA256.newJdkDigest().digest(), openssl.digest());
    }

    @Test
    void theKnownSha256OfTheEmptyString() {
        assertEquals("0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73",
            Hash.of(HashAlgorithm.SHA256, HashAlgorithm.SHA256.newDigest().digest()).format(HashFormat.BASE32));
    }
}
