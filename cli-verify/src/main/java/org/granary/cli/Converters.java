package org.granary.cli;

import org.granary.store.HashAlgorithm;
import org.granary.store.HashFormat;
import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;

/** Converters from the spellings the command line accepts to the library's values. */
final class Converters {
    private Converters() {
    }

    /** {@code md5}, {@code sha1}, {@code sha256}, {@code sha512}, as Guix names them. */
    static final class Algorithm implements ITypeConverter<HashAlgorithm> {
        @Override
        public HashAlgorithm convert(String value) {
            try {
                return HashAlgorithm.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(
                    "unknown hash algorithm '" + value + "' (expected md5, sha1, sha256 or sha512)");
            }
        }
    }

    /** {@code base32} (nix-base32), {@code base16}, {@code base64}, {@code sri}. */
    static final class Format implements ITypeConverter<HashFormat> {
        @Override
        public HashFormat convert(String value) {
            switch (value) {
                case "base32":
                case "nix32":
                    return HashFormat.BASE32;
                case "base16":
                case "hex":
                    return HashFormat.BASE16;
                case "base64":
                    return HashFormat.BASE64;
                case "sri":
                    return HashFormat.SRI;
                default:
                    throw new CommandLine.TypeConversionException(
                        "unknown hash format '" + value + "' (expected base32, base16, base64 or sri)");
            }
        }
    }
}
