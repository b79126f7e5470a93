package org.granary.cli;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import org.granary.store.HashFormat;
import org.granary.store.LocalStore;
import org.granary.store.PathInfo;
import org.granary.store.PathNotValidException;
import org.granary.store.StorePath;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code granary query}: what the store's database knows of paths, as {@code nix-store -q}. */
@Command(
    name = "query",
    mixinStandardHelpOptions = true,
    description = {
        "Print what the store knows of valid store paths, as nix-store -q: one path or value per line.",
        "--references, --referrers, --requisites and --referrers-closure print the union over all PATHs, "
            + "references before referrers; --hash, --size and --deriver print one line per PATH."},
    footerHeading = "%nExamples:%n",
    footer = {
        "  granary query --root ./my-root --requisites /gnu/store/...-hello",
        "  granary query --root ./my-root --info /gnu/store/...-hello"})
final class QueryCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ParentCommand
    Granary granary;

    @Mixin
    StoreOptions store;

    /** Exactly one kind of query. */
    static final class Kind {
        @Option(names = "--valid", required = true,
            description = "Print nothing; fail naming each PATH that is not valid.")
        boolean valid;
        @Option(names = "--references", required = true, description = "The paths PATH refers to.")
        boolean references;
        @Option(names = "--referrers", required = true, description = "The valid paths that refer to PATH.")
        boolean referrers;
        @Option(names = "--requisites", required = true,
            description = "The closure of PATH under references, PATH included.")
        boolean requisites;
        @Option(names = "--referrers-closure", required = true,
            description = "The closure of PATH under referrers, PATH included.")
        boolean referrersClosure;
        @Option(names = "--hash", required = true, description = "The NAR hash, as sha256:<nix-base32>.")
        boolean hash;
        @Option(names = "--size", required = true, description = "The NAR size in bytes.")
        boolean size;
        @Option(names = "--deriver", required = true,
            description = "The derivation that built PATH, or unknown-deriver.")
        boolean deriver;
        @Option(names = "--info", required = true,
            description = "Every field the database holds, one 'Key: value' per line.")
        boolean info;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Kind kind;

    @Parameters(paramLabel = "PATH", arity = "1..*", description = "Store paths.")
    List<String> arguments;

    @Override
    public Integer call() throws IOException {
        List<StorePath> paths = store.parse(arguments);
        try (LocalStore opened = store.open()) {
            if (kind.valid) {
                return valid(opened, paths);
            }
            // Buffered, not the command line's autoflushing writer: a closure may be 100,000 lines.
            Writer out = new BufferedWriter(new OutputStreamWriter(granary.out(), StandardCharsets.UTF_8), 1 << 16);
            if (kind.references || kind.referrers) {
                SortedSet<StorePath> union = new TreeSet<>();
                for (StorePath path : paths) {
                    union.addAll(kind.references ? opened.queryReferences(path) : opened.queryReferrers(path));
                }
                printLines(opened.sortReferencesFirst(union), out);
            } else if (kind.requisites || kind.referrersClosure) {
                printLines(opened.queryClosureReferencesFirst(paths, kind.referrersClosure), out);
            } else {
                List<PathInfo> infos = new ArrayList<>();
                for (StorePath path : paths) {
                    infos.add(opened.queryPathInfo(path).orElseThrow(() -> new PathNotValidException(path)));
                }
                List<String> lines = new ArrayList<>();
                for (PathInfo info : infos) {
                    if (kind.hash) {
                        lines.add(info.narHash().algorithm().nixName() + ":" + info.narHash().format(HashFormat.BASE32));
                    } else if (kind.size) {
                        lines.add(Long.toString(info.narSize()));
                    } else if (kind.deriver) {
                        lines.add(info.deriver() == null ? "unknown-deriver" : info.deriver().toString());
                    } else {
                        if (!lines.isEmpty()) {
                            lines.add("");
                        }
                        describe(info, lines);
                    }
                }
                printLines(lines, out);
            }
            out.flush();
            return 0;
        }
    }

    private static void printLines(List<?> lines, Writer out) throws IOException {
        for (Object line : lines) {
            out.write(line.toString());
            out.write('\n');
        }
    }

    private int valid(LocalStore opened, List<StorePath> paths) {
        int status = 0;
        PrintWriter err = spec.commandLine().getErr();
        for (StorePath path : paths) {
            if (!opened.isValidPath(path)) {
                err.println("granary: path " + path + " is not valid");
                status = Granary.EXIT_FAILURE;
            }
        }
        err.flush();
        return status;
    }

    private static void describe(PathInfo info, List<String> lines) {
        lines.add("Path: " + info.path());
        lines.add("NarHash: " + info.narHash().algorithm().nixName() + ":" + info.narHash().format(HashFormat.BASE32));
        lines.add("NarSize: " + info.narSize());
        lines.add("References: " + String.join(" ", info.references().stream().map(StorePath::toString).toList()));
        lines.add("Deriver: " + (info.deriver() == null ? "" : info.deriver().toString()));
        lines.add("Registered: " + Instant.ofEpochSecond(info.registrationTime()));
        lines.add("Signatures: " + String.join(" ", info.signatures()));
        lines.add("ContentAddress: " + (info.contentAddress() == null ? "" : info.contentAddress()));
    }
}
