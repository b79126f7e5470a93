package org.granary.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import org.granary.gc.GarbageCollector;
import org.granary.gc.GcListing;
import org.granary.gc.GcProgress;
import org.granary.gc.GcResult;
import org.granary.gc.GcRoot;
import org.granary.gc.Optimiser;
import org.granary.gc.Roots;
import org.granary.gc.StaleRoot;
import org.granary.store.InvalidStorePathException;
import org.granary.store.LocalStore;
import org.granary.store.StoreConfig;
import org.granary.store.StoreDatabase;
import org.granary.store.StorePath;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code granary gc}: garbage collection and its listings, as {@code guix gc}. */
@Command(
    name = "gc",
    mixinStandardHelpOptions = true,
    description = {
        "Collect garbage, as guix gc: delete the store items that no root keeps alive (roots under "
            + "gcroots/, temporary roots of running processes), invalidating each before its files go, "
            + "and the unused .links entries. Without an action, collects all garbage.",
        "Listings (--list-dead, --list-live, --list-roots) and queries change nothing. Stale roots are "
            + "reported on stderr and never removed. Prints what was freed; shows progress on a terminal."},
    footerHeading = "%nExamples:%n",
    footer = {
        "  granary gc --root ./r                      collect all garbage",
        "  granary gc --root ./r -C 500MiB            free at least 500 MiB",
        "  granary gc --root ./r -F 2G                make sure 2 GiB are free",
        "  granary gc --root ./r --list-dead          what would go",
        "  granary gc --root ./r -D /gnu/store/...-x  delete one dead item",
        "  granary gc --root ./r --optimize           hard-link identical files",
        "  granary gc --root ./r --verify=contents    the same as granary verify --contents"})
final class GcCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    StoreOptions store;

    /** At most one action. */
    static final class Action {
        @Option(names = {"-C", "--collect-garbage"}, arity = "0..1", paramLabel = "MIN", fallbackValue = "-1",
            converter = Amounts.class,
            description = "Collect garbage; with MIN (such as 500MiB or 2G), stop once MIN bytes are freed.")
        Long collect;
        @Option(names = {"-F", "--free-space"}, paramLabel = "AMOUNT", converter = Amounts.class,
            description = "Collect until AMOUNT bytes are free on the store's file system.")
        Long freeSpace;
        @Option(names = {"-D", "--delete"},
            description = "Delete the PATHs (and their referrers), only if they are dead; for a live one, "
                + "name the root that keeps it.")
        boolean delete;
        @Option(names = "--list-dead", description = "List the dead items and leftovers; change nothing.")
        boolean listDead;
        @Option(names = "--list-live", description = "List the live items; change nothing.")
        boolean listLive;
        @Option(names = "--list-roots", description = "List the permanent roots (link -> item); change nothing.")
        boolean listRoots;
        @Option(names = "--optimize",
            description = "Deduplicate: hard-link identical files of 8 KiB or more, as guix gc --optimize.")
        boolean optimize;
        @Option(names = "--references", description = "The references of the PATHs.")
        boolean references;
        @Option(names = "--referrers", description = "The valid referrers of the PATHs.")
        boolean referrers;
        @Option(names = {"-R", "--requisites"}, description = "The closure of the PATHs, themselves included.")
        boolean requisites;
        @Option(names = "--derivers", description = "The valid derivations that have the PATHs as outputs.")
        boolean derivers;
        @Option(names = "--verify", arity = "0..1", paramLabel = "contents,repair", fallbackValue = "",
            description = "Verify the store, as guix gc --verify[=contents,repair]: the same as "
                + "granary verify [--contents] [--repair] (which also takes substituters and --json).")
        String verify;
    }

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Action action = new Action();

    @Parameters(paramLabel = "PATH", arity = "0..*",
        description = "Store paths, files in items, or links to them (for -D and the queries).")
    List<String> arguments = new ArrayList<>();

    @Override
    public Integer call() throws IOException {
        if (action.verify != null) {
            return verify();
        }
        boolean query = action.references || action.referrers || action.requisites || action.derivers;
        if ((action.delete || query) == arguments.isEmpty()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), arguments.isEmpty()
                ? "this action needs at least one PATH" : "PATHs are only for --delete and the queries");
        }
        StoreConfig config = store.config();
        if (action.listDead || action.listLive || action.listRoots || query) {
            return readOnly(config, query);
        }
        try (LocalStore opened = store.open()) {
            GarbageCollector collector = new GarbageCollector(config, opened.database(), GarbageCollector.Options.defaults());
            if (action.optimize) {
                Optimiser.Result result = new Optimiser(config, opened.database()).optimise(progress("linking"));
                endProgress();
                out().println("linked " + result.filesLinked() + " files, saving " + result.bytesSaved() + " bytes ("
                    + Amounts.human(result.bytesSaved()) + ")");
                out().flush();
                return 0;
            }
            GcResult result;
            if (action.delete) {
                result = collector.delete(resolve(config, arguments), progress("deleting"));
            } else if (action.freeSpace != null) {
                long free = Files.getFileStore(config.physicalStoreDir()).getUsableSpace();
                if (free >= action.freeSpace) {
                    out().println("already " + Amounts.human(free) + " available on " + config.physicalStoreDir()
                        + ", nothing to do");
                    out().flush();
                    return 0;
                }
                result = collector.collect(action.freeSpace - free, progress("deleting"));
            } else {
                long min = action.collect == null || action.collect < 0 ? Long.MAX_VALUE : action.collect;
                result = collector.collect(min, progress("deleting"));
            }
            endProgress();
            warnStale(result.staleRoots());
            out().println("freed " + result.bytesFreed() + " bytes (" + Amounts.human(result.bytesFreed()) + ") in "
                + result.deleted().size() + " items" + (result.unusedLinksRemoved() > 0
                    ? " and " + result.unusedLinksRemoved() + " unused links" : ""));
            if (result.linkSavings() > 0) {
                out().println("note: currently hard linking saves " + Amounts.human(result.linkSavings()));
            }
            out().flush();
            return 0;
        }
    }

    /** Listings and queries: the database opened directly, nothing created, nothing removed. */
    private int readOnly(StoreConfig config, boolean query) throws IOException {
        if (!Files.isDirectory(config.databaseDir())) {
            throw new IOException("no store database at " + config.databaseDir());
        }
        try (StoreDatabase database = StoreDatabase.open(config.databaseDir(), config.storeDir().logical())) {
            GarbageCollector collector = new GarbageCollector(config, database, GarbageCollector.Options.defaults());
            PrintWriter out = out();
            if (action.listRoots) {
                Roots roots = collector.listRoots();
                for (GcRoot root : roots.roots()) {
                    out.println(root);
                }
                out.flush();
                warnStale(roots.stale());
            } else if (action.listDead || action.listLive) {
                GcListing listing = action.listDead ? collector.listDead() : collector.listLive();
                listing.paths().forEach(out::println);
                out.flush();
                warnStale(listing.staleRoots());
            } else {
                SortedSet<StorePath> result = new TreeSet<>();
                List<StorePath> paths = resolve(config, arguments);
                if (action.requisites) {
                    result.addAll(database.closure(paths, false));
                }
                for (StorePath path : paths) {
                    if (action.references) {
                        result.addAll(database.references(path));
                    } else if (action.referrers) {
                        result.addAll(database.referrers(path));
                    } else if (action.derivers) {
                        result.addAll(database.validDerivers(path));
                    }
                }
                result.forEach(path -> out.println(path));
                out.flush();
            }
            return 0;
        }
    }

    /**
     * The store items the arguments name: a path in the store dir is cut down to its item; another
     * argument is read as a chain of symlinks (such as {@code ./result}) until one points into the store.
     */
    private static List<StorePath> resolve(StoreConfig config, List<String> arguments) throws IOException {
        String storeDir = config.storeDir().logical();
        List<StorePath> paths = new ArrayList<>();
        for (String argument : arguments) {
            String target = argument;
            Path file = Path.of(argument).toAbsolutePath();
            for (int hops = 0; !target.startsWith(storeDir + "/") && Files.isSymbolicLink(file) && hops < 40; hops++) {
                target = Files.readSymbolicLink(file).toString();
                file = file.getParent().resolve(target);
            }
            if (!target.startsWith(storeDir + "/")) {
                throw new InvalidStorePathException(argument + " is not in the store dir " + storeDir);
            }
            int slash = target.indexOf('/', storeDir.length() + 1);
            paths.add(StorePath.parse(slash < 0 ? target : target.substring(0, slash), storeDir));
        }
        return paths;
    }

    private void warnStale(List<StaleRoot> stale) {
        PrintWriter err = spec.commandLine().getErr();
        for (StaleRoot root : stale) {
            err.println("granary gc: stale root (kept, not acted on): " + root);
        }
        err.flush();
    }

    /** {@code --verify[=contents,repair]}: Guix users' habit, handed to {@code granary verify} as it is. */
    private int verify() {
        List<String> args = new ArrayList<>(List.of("--root", store.root.toString(), "--store-dir", store.storeDir,
            "--state-dir", store.stateDir));
        for (String word : action.verify.split(",", -1)) {
            switch (word) {
                case "" -> { }
                case "contents" -> args.add("--contents");
                case "repair" -> args.add("--repair");
                default -> throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--verify takes contents and repair, not '" + word + "'");
            }
        }
        if (!arguments.isEmpty()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--verify takes no PATH");
        }
        picocli.CommandLine verify = new picocli.CommandLine(new VerifyCommand())
            .setOut(spec.commandLine().getOut()).setErr(spec.commandLine().getErr())
            .setExecutionExceptionHandler(spec.commandLine().getExecutionExceptionHandler())
            .setParameterExceptionHandler(spec.commandLine().getParameterExceptionHandler());
        return verify.execute(args.toArray(String[]::new));
    }

    private PrintWriter out() {
        return spec.commandLine().getOut();
    }

    private boolean progressShown;

    /** On a terminal, one line on stderr rewritten as items go; elsewhere nothing. */
    private GcProgress progress(String verb) {
        if (System.console() == null) {
            return GcProgress.NONE;
        }
        PrintWriter err = spec.commandLine().getErr();
        long[] last = {0};
        return (what, items, bytes) -> {
            long now = System.nanoTime();
            if (now - last[0] < 100_000_000L) {
                return;
            }
            last[0] = now;
            progressShown = true;
            String line = "[" + items + " items, " + Amounts.human(bytes) + "] " + verb + " " + what;
            err.print("\r\033[K" + (line.length() > 150 ? line.substring(0, 150) : line));
            err.flush();
        };
    }

    private void endProgress() {
        if (progressShown) {
            PrintWriter err = spec.commandLine().getErr();
            err.print("\r\033[K");
            err.flush();
        }
    }
}
