package org.granary.cli;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;

/**
 * Amounts of storage as {@code guix gc} spells them (Guix's {@code size->number}): a number, possibly
 * with a fraction, then a unit: none for bytes; {@code K}/{@code KiB}, {@code M}/{@code MiB},
 * {@code G}/{@code GiB}, {@code T}/{@code TiB}, {@code P}/{@code PiB}, {@code E}/{@code EiB} for powers of
 * 1024; {@code kB}, {@code MB}, {@code GB}, {@code TB}, {@code PB}, {@code EB} for powers of 1000.
 */
final class Amounts implements ITypeConverter<Long> {
    private static final Map<String, BigDecimal> UNITS = Map.ofEntries(
        Map.entry("", BigDecimal.ONE),
        Map.entry("K", pow(1024, 1)), Map.entry("k", pow(1024, 1)), Map.entry("KiB", pow(1024, 1)),
        Map.entry("M", pow(1024, 2)), Map.entry("MiB", pow(1024, 2)),
        Map.entry("G", pow(1024, 3)), Map.entry("GiB", pow(1024, 3)),
        Map.entry("T", pow(1024, 4)), Map.entry("TiB", pow(1024, 4)),
        Map.entry("P", pow(1024, 5)), Map.entry("PiB", pow(1024, 5)),
        Map.entry("E", pow(1024, 6)), Map.entry("EiB", pow(1024, 6)),
        Map.entry("kB", pow(1000, 1)), Map.entry("MB", pow(1000, 2)), Map.entry("GB", pow(1000, 3)),
        Map.entry("TB", pow(1000, 4)), Map.entry("PB", pow(1000, 5)), Map.entry("EB", pow(1000, 6)));

    @Override
    public Long convert(String value) {
        return parse(value);
    }

    /**
     * Parses an amount.
     *
     * @param value such as {@code 500MiB}, {@code 2G}, {@code 1.5GB} or {@code 4096}
     * @return the bytes, rounded to the nearest
     * @throws CommandLine.TypeConversionException naming the problem
     */
    static long parse(String value) {
        int end = value.length();
        while (end > 0 && !Character.isDigit(value.charAt(end - 1))) {
            end--;
        }
        String number = value.substring(0, end);
        String unit = value.substring(end);
        BigDecimal factor = UNITS.get(unit);
        if (factor == null) {
            throw new CommandLine.TypeConversionException("unknown unit '" + unit + "' in '" + value
                + "' (expected KiB, MiB, GiB, TiB, K, M, G, T, kB, MB, GB, TB or none)");
        }
        BigDecimal bytes;
        try {
            bytes = new BigDecimal(number).multiply(factor).setScale(0, RoundingMode.HALF_EVEN);
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("invalid number '" + number + "' in '" + value + "'");
        }
        if (bytes.signum() < 0 || bytes.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new CommandLine.TypeConversionException("amount '" + value + "' is out of range");
        }
        return bytes.longValueExact();
    }

    /** Bytes as people read them: {@code 12.34 MiB}. */
    static String human(long bytes) {
        return String.format(Locale.ROOT, "%.2f MiB", bytes / (1024.0 * 1024.0));
    }

    private static BigDecimal pow(int base, int exponent) {
        return BigDecimal.valueOf(base).pow(exponent);
    }
}
