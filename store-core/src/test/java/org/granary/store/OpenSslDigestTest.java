package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.granary.nar.NarDumper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
    void directAndHeapBuffersGiveTheJdksDigestAndAreConsumed() {
        Random random = new Random(7);
        for (HashAlgorithm algorithm : HashAlgorithm.values()) {
            for (int size : new int[] {0, 1, 63, 64, 65, 1000, 300_000}) {
                byte[] data = new byte[size];
                random.nextBytes(data);
                // The bytes sit at an offset in a larger direct buffer, so that the native side must add the
                // position to the address, and are hashed in pieces through its limit.
                ByteBuffer direct = ByteBuffer.allocateDirect(size + 20);
                direct.position(7);
                direct.put(data);
                MessageDigest openssl = algorithm.newDigest();
                MessageDigest heap = algorithm.newDigest();
                int offset = 0;
                while (offset < size) {
                    int piece = Math.min(size - offset, 1 + random.nextInt(70_000));
                    direct.limit(7 + offset + piece).position(7 + offset);
                    openssl.update(direct);
                    assertEquals(7 + offset + piece, direct.position(), "the buffer is consumed");
                    heap.update(ByteBuffer.wrap(data, offset, piece));
                    offset += piece;
                }
                byte[] expected = algorithm.newJdkDigest().digest(data);
                assertArrayEquals(expected, openssl.digest(), algorithm + " of " + size + " direct bytes");
                assertArrayEquals(expected, heap.digest(), algorithm + " of " + size + " heap bytes");
                // A read-only view of the direct buffer is direct too.
                direct.limit(7 + size).position(7);
                openssl.update(direct.asReadOnlyBuffer());
                assertArrayEquals(expected, openssl.digest(), algorithm + " of a read-only view");
            }
        }
    }

    @Test
    void aNarHashedInlineThroughTheDirectBufferIsTheJdksHashOfTheNar(@TempDir Path dir) throws IOException {
        Random random = new Random(3);
        for (int size : new int[] {0, 5, 131_071, 131_072, 131_073, 1_000_003}) {
            byte[] contents = new byte[size];
            random.nextBytes(contents);
            Files.write(dir.resolve("file-" + size), contents);
        }
        ByteArrayOutputStream nar = new ByteArrayOutputStream();
        NarDumper dumper = new NarDumper();
        dumper.dump(dir, nar);
        byte[] expected = HashAlgorithm.SHA256.newJdkDigest().digest(nar.toByteArray());
        assertArrayEquals(expected, dumper.digestInline(dir, HashAlgorithm.SHA256.newDigest()).digest());
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
