package org.granary.verify.cache;

import java.math.BigInteger;

/**
 * ECDSA over the twisted Edwards curve of Ed25519, as libgcrypt computes it for Guix's signing keys
 * ({@code _gcry_ecc_ecdsa_verify}): the hash is read big-endian and shifted right to the 253 bits of
 * the group order (libgcrypt's {@code _gcry_dsa_normalize_hash}); {@code r} is checked against the
 * affine Edwards x coordinate of {@code u1·G + u2·Q}, reduced modulo the order. The public point is
 * in the 32-byte EdDSA encoding of RFC 8032 §5.1.2 (libgcrypt also writes it with a 0x40 prefix, or
 * uncompressed after 0x04).
 *
 * <p>Arithmetic is affine with {@link BigInteger}: a verification takes a few milliseconds, and only
 * public values are involved, so constant time does not matter. Stateless; safe to share.
 */
final class EdwardsEcdsa {
    static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));
    static final BigInteger D = BigInteger.valueOf(-121665).multiply(BigInteger.valueOf(121666).modInverse(P)).mod(P);
    static final BigInteger N = BigInteger.TWO.pow(252).add(new BigInteger("27742317777372353535851937790883648493"));
    static final BigInteger[] G = {
        new BigInteger("15112221349535400772501151409588531511454012693041857206046113283949847762202"),
        new BigInteger("46316835694926478169428394003475163141307993866256225615783033603165251855960")};
    private static final BigInteger[] IDENTITY = {BigInteger.ZERO, BigInteger.ONE};
    private static final BigInteger SQRT_MINUS_ONE = BigInteger.TWO.modPow(P.subtract(BigInteger.ONE).shiftRight(2), P);

    private EdwardsEcdsa() {
    }

    /**
     * Verifies a signature.
     *
     * @param q the public point, encoded
     * @param digest the signed hash
     * @param r the signature's r
     * @param s the signature's s
     * @return null if it verifies, else why not
     */
    static String verify(byte[] q, byte[] digest, BigInteger r, BigInteger s) {
        if (r.signum() <= 0 || r.compareTo(N) >= 0 || s.signum() <= 0 || s.compareTo(N) >= 0) {
            return "r or s out of range";
        }
        BigInteger[] point = decode(q);
        if (point == null) {
            return "the public key's q is not a point of Ed25519";
        }
        BigInteger e = new BigInteger(1, digest);
        int excess = digest.length * 8 - N.bitLength();
        if (excess > 0) {
            e = e.shiftRight(excess);
        }
        BigInteger w = s.modInverse(N);
        BigInteger[] sum = add(multiply(G, e.multiply(w).mod(N)), multiply(point, r.multiply(w).mod(N)));
        return sum[0].mod(N).equals(r) ? null : "ECDSA signature does not verify";
    }

    /** Decodes q: 32 bytes (RFC 8032), 0x40 and 32 bytes, or 0x04 and x, y big-endian. */
    static BigInteger[] decode(byte[] q) {
        if (q.length == 65 && q[0] == 4) {
            BigInteger x = new BigInteger(1, java.util.Arrays.copyOfRange(q, 1, 33));
            BigInteger y = new BigInteger(1, java.util.Arrays.copyOfRange(q, 33, 65));
            return onCurve(x, y) ? new BigInteger[] {x, y} : null;
        }
        byte[] encoded = q.length == 33 && q[0] == 0x40 ? java.util.Arrays.copyOfRange(q, 1, 33) : q;
        if (encoded.length != 32) {
            return null;
        }
        byte[] bigEndian = new byte[32];
        for (int i = 0; i < 32; i++) {
            bigEndian[i] = encoded[31 - i];
        }
        boolean sign = (bigEndian[0] & 0x80) != 0;
        bigEndian[0] &= 0x7f;
        BigInteger y = new BigInteger(1, bigEndian);
        if (y.compareTo(P) >= 0) {
            return null;
        }
        // x² = (y² − 1) / (d·y² + 1); the square root as in RFC 8032 §5.1.3 (p ≡ 5 mod 8).
        BigInteger y2 = y.multiply(y).mod(P);
        BigInteger u = y2.subtract(BigInteger.ONE).mod(P);
        BigInteger v = D.multiply(y2).add(BigInteger.ONE).mod(P);
        BigInteger x = u.multiply(v.pow(3)).multiply(u.multiply(v.pow(7)).mod(P)
            .modPow(P.subtract(BigInteger.valueOf(5)).shiftRight(3), P)).mod(P);
        BigInteger vx2 = v.multiply(x).multiply(x).mod(P);
        if (!vx2.equals(u)) {
            if (!vx2.equals(u.negate().mod(P))) {
                return null;
            }
            x = x.multiply(SQRT_MINUS_ONE).mod(P);
        }
        if (x.signum() == 0 && sign) {
            return null;
        }
        if (x.testBit(0) != sign) {
            x = P.subtract(x);
        }
        return new BigInteger[] {x, y};
    }

    private static boolean onCurve(BigInteger x, BigInteger y) {
        BigInteger x2 = x.multiply(x).mod(P);
        BigInteger y2 = y.multiply(y).mod(P);
        return y2.subtract(x2).subtract(BigInteger.ONE).subtract(D.multiply(x2).multiply(y2)).mod(P).signum() == 0;
    }

    /** The complete addition law of the curve −x² + y² = 1 + d·x²·y². */
    static BigInteger[] add(BigInteger[] a, BigInteger[] b) {
        BigInteger t = D.multiply(a[0]).multiply(b[0]).multiply(a[1]).multiply(b[1]).mod(P);
        BigInteger x = a[0].multiply(b[1]).add(a[1].multiply(b[0]))
            .multiply(BigInteger.ONE.add(t).modInverse(P)).mod(P);
        BigInteger y = a[1].multiply(b[1]).add(a[0].multiply(b[0]))
            .multiply(BigInteger.ONE.subtract(t).mod(P).modInverse(P)).mod(P);
        return new BigInteger[] {x, y};
    }

    static BigInteger[] multiply(BigInteger[] point, BigInteger k) {
        BigInteger[] result = IDENTITY;
        for (int i = k.bitLength() - 1; i >= 0; i--) {
            result = add(result, result);
            if (k.testBit(i)) {
                result = add(result, point);
            }
        }
        return result;
    }
}
