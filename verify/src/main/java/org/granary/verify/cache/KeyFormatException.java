package org.granary.verify.cache;

/**
 * A key that does not parse: not {@code NAME:BASE64}, bad base64, the wrong length, a secret key whose
 * public half does not match its seed, or a Guix key that is not a {@code public-key} s-expression.
 */
public class KeyFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what was expected, what was found, and where the key came from
     */
    public KeyFormatException(String message) {
        super(message);
    }
}
