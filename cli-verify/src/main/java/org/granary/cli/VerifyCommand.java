package org.granary.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.granary.store.StoreConfig;
import org.granary.store.StoreException;
import org.granary.verify.Finding;
import org.granary.verify.Progress;
import org.granary.verify.Report;
import org.granary.verify.StoreVerifier;
import org.granary.verify.Substituter;
import org.granary.verify.VerifyOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code granary verify}: checks the store and, if asked, repairs it. */
@Command(
    name = "verify",
    mixinStandardHelpOptions = true,
    description = {
        "Check the store, as guix gc --verify[=contents,repair], and print what is wrong. Without --repair "
            + "nothing is changed: no file is touched, no database row written.",
        "",
        "The checks, under the GC lock (no collection runs meanwhile):",
        "  reference  the database: every record readable, every reference valid and mirrored among the "
            + "referrers (and the other way round), every deriver valid (an invalid deriver is reported "
            + "but is not damage: substituted items name derivations never built here).",
        "  missing    every valid item exists in the store dir.",
        "  metadata   every file of every item is canonical: mode 0444, or 0555 for directories and "
            + "executables (no write, setuid, setgid or sticky bit), mtime 1 (owners are not checked).",
        "  contents   with --contents: every item's NAR is hashed again (in parallel, --jobs at a time) and "
            + "must have the NAR hash and size of the database; an unreadable file is reported by name "
            + "and the check goes on.",
        "  leftover   every entry of the store dir that is not a valid item (temporaries of interrupted "
            + "additions, stale lock files, unregistered items): garbage for the collector, not damage.",
        "",
        "With --repair: metadata drift is re-canonicalised; a missing or corrupt item is fetched from the "
            + "substituters in order and accepted only if its NAR hash is the one in the local database, "
            + "restored under a temporary name and swapped in atomically; a missing item that no "
            + "substituter has and nothing refers to is made invalid. What cannot be repaired is reported.",
        "",
        "Prints one line per finding and a summary table (or, with --json, one JSON object with "
            + "'findings' and 'summary'); a progress bar on stderr when it is a terminal.",
        "Exit status: 0 the store is sound (or was fully repaired; leftovers alone are not damage), "
            + "1 damage remains, 2 usage or I/O error."},
    footerHeading = "%nExamples:%n",
    footer = {
        "  granary verify --root ./my-root                     existence, database, metadata",
        "  granary verify --root ./my-root --contents --jobs 4 also rehash every item",
        "  granary verify --contents --repair --substituter file:///srv/cache --trusted-key cache-1:AbC...=",
        "                                                      repair from a binary cache",
        "  granary verify --contents --json > report.json      the report as JSON"})
final class VerifyCommand implements Callable<Integer> {
    /** Exit status when damage remains. */
    static final int EXIT_DAMAGE = 1;
    /** Exit status on an I/O error (the store, its database or a lock cannot be read). */
    static final int EXIT_ERROR = 2;

    @Spec
    CommandSpec spec;

    @Mixin
    StoreOptions store;

    @Option(names = "--contents", description = "Also hash every item's NAR and compare it with the database (reads every byte).")
    boolean contents;

    @Option(names = "--repair", description = "Repair what is found (see above); without it nothing is changed.")
    boolean repair;

    @Option(names = "--jobs", paramLabel = "N",
        description = "How many items to check at once (default: the number of cores, ${DEFAULT-VALUE}).")
    int jobs = Runtime.getRuntime().availableProcessors();

    @Option(names = "--substituter", paramLabel = "URL",
        description = "A binary cache to repair from (file:///DIR, http(s)://HOST[/PREFIX], as written by "
            + "nix copy, guix publish or granary cache push), asked in the order given; its nix-cache-info must "
            + "name this store dir. Needs --trusted-key or --allow-unsigned.")
    List<String> substituters = new ArrayList<>();

    @Option(names = "--trusted-key", paramLabel = "KEY",
        description = "A Nix public key (NAME:BASE64, as nix-store --generate-binary-cache-key or granary cache "
            + "keygen write it) whose signatures (Sig:) on narinfos are trusted; repeatable.")
    List<String> trustedKeys = new ArrayList<>();

    @Option(names = "--allow-unsigned", description = "Accept substitutes without a trusted signature "
        + "(their NAR hash must still be the database's).")
    boolean allowUnsigned;

    @Option(names = "--json", description = "Print the report as one JSON object on stdout.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (jobs < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--jobs must be at least 1, not " + jobs);
        }
        List<Substituter> opened = Substituters.open(spec.commandLine(), store.storeDir, substituters, trustedKeys,
            allowUnsigned);
        VerifyOptions options = VerifyOptions.defaults().withContents(contents).withRepair(repair).withJobs(jobs)
            .withSubstituters(opened);
        Report report;
        try {
            report = verifyWithProgress(store.config(), options, err);
        } catch (IOException | UncheckedIOException | StoreException e) {
            err.println("granary: " + Granary.describe(e instanceof UncheckedIOException u ? u.getCause() : e));
            err.flush();
            return EXIT_ERROR;
        }
        int leftovers = report.summary().byKind().get(Finding.Kind.LEFTOVER);
        if (report.summary().items() == 0 && leftovers > 0) {
            // The lesson of Nix's --store mix-ups: an empty database beside a full store dir is usually the wrong state dir.
            err.println("granary: warning: the database has no valid path but the store dir has " + leftovers
                + " entries; are --root, --store-dir and --state-dir right? (granary db import copies a Guix database)");
            err.flush();
        }
        if (json) {
            ReportJson.write(report, out);
            out.println();
        } else {
            printReport(report, out);
        }
        out.flush();
        return report.sound() ? 0 : EXIT_DAMAGE;
    }

    /**
     * Verifies the store with a progress bar on stderr when it is a terminal; the bar is cleared before
     * this returns or throws. Shared with {@code granary demo}.
     */
    static Report verifyWithProgress(StoreConfig config, VerifyOptions options, PrintWriter err) throws IOException {
        ProgressBar bar = ProgressBar.stderrIsTerminal() ? new ProgressBar(err) : null;
        try {
            return new StoreVerifier(config).verify(options.withListener(bar == null ? Progress.Listener.NONE : bar));
        } finally {
            if (bar != null) {
                bar.clear();
            }
        }
    }

    /** The report as {@code granary verify} prints it: one line per finding, then the summary table. */
    static void printReport(Report report, PrintWriter out) {
        for (Finding finding : report.findings()) {
            out.println(finding);
        }
        printSummary(report, out);
    }

    /** The summary table: per kind, how many were found and what became of them; then the figures. */
    static void printSummary(Report report, PrintWriter out) {
        Report.Summary summary = report.summary();
        out.println();
        out.println(String.format(Locale.ROOT, "%-10s %9s %9s %12s %7s %10s", "check", "findings", "repaired",
            "invalidated", "failed", "remaining"));
        for (Finding.Kind kind : Finding.Kind.values()) {
            int found = 0;
            int repaired = 0;
            int invalidated = 0;
            int failed = 0;
            int remaining = 0;
            for (Finding finding : report.findings()) {
                if (finding.kind() != kind) {
                    continue;
                }
                found++;
                repaired += finding.action() == Finding.Action.REPAIRED ? 1 : 0;
                invalidated += finding.action() == Finding.Action.INVALIDATED ? 1 : 0;
                failed += finding.action() == Finding.Action.FAILED ? 1 : 0;
                remaining += finding.remains() ? 1 : 0;
            }
            boolean skipped = kind == Finding.Kind.CONTENTS && !summary.contents();
            out.println(String.format(Locale.ROOT, "%-10s %9s %9d %12d %7d %10d", kind.label(),
                skipped ? "-" : Integer.toString(found), repaired, invalidated, failed, remaining));
        }
        double seconds = summary.elapsed().toNanos() / 1e9;
        String hashed = summary.contents()
            ? String.format(Locale.ROOT, ", %d hashed (%s, %.0f items/s, %s/s)", summary.itemsHashed(),
                ProgressBar.size(summary.bytesHashed()), summary.itemsHashed() / Math.max(seconds, 1e-3),
                ProgressBar.size((long) (summary.bytesHashed() / Math.max(seconds, 1e-3))))
            : " (contents not checked: --contents)";
        out.println(String.format(Locale.ROOT, "%d items checked%s in %.2f s, %d job%s", summary.items(), hashed,
            seconds, summary.jobs(), summary.jobs() == 1 ? "" : "s"));
        out.println(report.sound() ? "the store is sound" + (summary.repair() && summary.repaired()
            + summary.invalidated() > 0 ? " (after repair)" : "")
            : summary.remaining() + " finding" + (summary.remaining() == 1 ? "" : "s") + " of damage remain"
                + (summary.repair() ? "" : " (--repair may fix them)"));
    }
}
