package org.granary.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.granary.verify.Progress;

/**
 * A one-line progress bar on a terminal: the phase, items and (while hashing) bytes done of the total,
 * the rate and the time left, redrawn at most five times a second. Thread-safe: the verifier's workers
 * report from several threads.
 */
final class ProgressBar implements Progress.Listener {
    private static final long REDRAW_NANOS = 200_000_000L;
    private static final int WIDTH = 24;

    private final PrintWriter err;
    /** When the phase shown began: rates and times left count from there. */
    private long phaseStart = System.nanoTime();
    private Progress.Phase phase;
    private long lastDraw;
    private boolean drawn;

    ProgressBar(PrintWriter err) {
        this.err = err;
    }

    /** Whether standard error is a terminal (Linux: where /proc/self/fd/2 points). */
    static boolean stderrIsTerminal() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (java.io.IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    @Override
    public synchronized void progress(Progress progress) {
        long now = System.nanoTime();
        if (progress.phase() != phase) {
            phase = progress.phase();
            phaseStart = now;
        }
        boolean last = progress.itemsDone() == progress.itemsTotal();
        if (!last && drawn && now - lastDraw < REDRAW_NANOS) {
            return;
        }
        lastDraw = now;
        drawn = true;
        err.print("\r\033[K" + line(progress, (now - phaseStart) / 1e9));
        err.flush();
    }

    /** Clears the bar, so that what follows starts on a clean line. */
    synchronized void clear() {
        if (drawn) {
            err.print("\r\033[K");
            err.flush();
        }
    }

    /** The bar's text for a progress report {@code seconds} into its phase. */
    static String line(Progress progress, double seconds) {
        boolean bytes = progress.bytesTotal() > 0;
        double fraction = bytes ? (double) progress.bytesDone() / progress.bytesTotal()
            : progress.itemsTotal() == 0 ? 1 : (double) progress.itemsDone() / progress.itemsTotal();
        int filled = (int) Math.round(Math.min(1, fraction) * WIDTH);
        StringBuilder line = new StringBuilder(phase(progress.phase())).append(" [")
            .append("#".repeat(filled)).append(".".repeat(WIDTH - filled)).append("] ")
            .append(progress.itemsDone()).append('/').append(progress.itemsTotal()).append(" items");
        if (bytes) {
            line.append(String.format(Locale.ROOT, "  %s/%s  %s/s", size(progress.bytesDone()),
                size(progress.bytesTotal()), size((long) (progress.bytesDone() / Math.max(seconds, 1e-3)))));
        } else if (seconds > 0) {
            line.append(String.format(Locale.ROOT, "  %.0f items/s", progress.itemsDone() / Math.max(seconds, 1e-3)));
        }
        if (fraction > 0 && fraction < 1) {
            long left = Math.round(seconds * (1 - fraction) / fraction);
            line.append(String.format(Locale.ROOT, "  ETA %d:%02d", left / 60, left % 60));
        }
        return line.toString();
    }

    private static String phase(Progress.Phase phase) {
        return switch (phase) {
            case DATABASE -> "database";
            case ITEMS -> "items   ";
            case CONTENTS -> "hashing ";
            case REPAIR -> "repair  ";
        };
    }

    /** A byte count in the largest unit that keeps it at least 1: B, KB, MB, GB (powers of 1000). */
    static String size(long bytes) {
        if (bytes < 1000) {
            return bytes + " B";
        }
        String[] units = {"KB", "MB", "GB", "TB"};
        double value = bytes / 1000.0;
        int unit = 0;
        while (value >= 1000 && unit < units.length - 1) {
            value /= 1000;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }
}
