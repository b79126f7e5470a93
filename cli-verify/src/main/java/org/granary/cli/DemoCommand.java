package org.granary.cli;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.granary.nar.FileTrees;
import org.granary.store.HashAlgorithm;
import org.granary.store.LocalStore;
import org.granary.store.PathInfo;
import org.granary.store.PathNotValidException;
import org.granary.store.StoreConfig;
import org.granary.store.StoreException;
import org.granary.store.StorePath;
import org.granary.verify.Finding;
import org.granary.verify.Report;
import org.granary.verify.VerifyOptions;
import org.granary.verify.cache.BinaryCache;
import org.granary.verify.cache.CacheWriter;
import org.granary.verify.cache.Compression;
import org.granary.verify.cache.SigningKey;
import org.granary.verify.cache.TrustedKeys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code granary demo}: the store's main job, end to end, on this machine's files, through the library
 * itself: a store, items with references, a signed binary cache, two damaged items, verify, repair,
 * verify. Every figure it prints is measured in the run.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
        "Show Granary at work on this machine's files, each step timed:",
        "  1. create a store under DIR/root with the logical store dir /gnu/store;",
        "  2. add a few packages' /usr/share/doc/PKG directories and the running JDK's lib/ as items, and a "
            + "text item, a profile manifest, that refers to them (so the manifest has a closure);",
        "  3. generate a signing key (DIR/keys) and push the closure to a binary cache in DIR/cache;",
        "  4. damage two items: one byte of a file of one (its mode and mtime put back), the permissions of "
            + "a file of another;",
        "  5. verify --contents, which must find both;",
        "  6. repair from the cache, with the cache's key trusted;",
        "  7. verify --contents again, which must find the store sound.",
        "The reports are those of granary verify. DIR is kept (for the commands printed at the end) unless "
            + "--clean is given.",
        "Exit status: 0 the damage was found and repaired, 1 it was not, 2 usage or I/O error."},
    footerHeading = "%nExamples:%n",
    footer = {
        "  granary demo                          in a new temporary directory, kept",
        "  granary demo ./demo --clean           in ./demo, removed at the end",
        "  granary demo --source ~/src --source ~/notes   with your own files"})
final class DemoCommand implements Callable<Integer> {
    private static final String STORE_DIR = "/gnu/store";
    private static final String KEY_NAME = "granary-demo-1";
    private static final int STEPS = 7;
    /** Documentation directories found on nearly every Debian-like system; others are taken if these are absent. */
    private static final List<String> PACKAGES = List.of("bash", "coreutils", "tar", "grep", "sed", "gzip");
    private static final int DOC_ITEMS = 3;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "DIR",
        description = "Where to work, created if missing; it must be empty (default: a new directory in the "
            + "system's temporary directory).")
    Path directory;

    @Option(names = "--clean", description = "Remove DIR at the end.")
    boolean clean;

    @Option(names = "--source", paramLabel = "PATH",
        description = "Add this file or directory instead of this machine's documentation and JDK; repeatable. "
            + "Two of the items must hold a regular file, to be damaged.")
    List<Path> sources = new ArrayList<>();

    private PrintWriter out;
    private int step;
    private long stepStart;

    /** A file or tree to add, and the name of its item. */
    private record Source(String name, Path path) {
    }

    /** What was done to a file, to say it and to check that verify names it. */
    private record Damage(StorePath item, Path file, Finding.Kind expected, String description) {
    }

    @Override
    public Integer call() throws IOException {
        out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<Source> chosen = sources.isEmpty() ? machineSources() : givenSources();
        Path dir;
        try {
            dir = prepare(directory);
        } catch (IOException e) {
            err.println("granary: demo: " + Granary.describe(e));
            err.flush();
            return VerifyCommand.EXIT_ERROR;
        }
        long start = System.nanoTime();
        int status;
        try {
            status = run(dir, chosen, err);
        } catch (IOException | UncheckedIOException | StoreException e) {
            out.flush();
            err.println("granary: demo: " + Granary.describe(e instanceof UncheckedIOException u ? u.getCause() : e));
            err.flush();
            status = VerifyCommand.EXIT_ERROR;
        }
        out.println(String.format(Locale.ROOT, "The demo took %.2f s.", seconds(start)));
        if (clean) {
            FileTrees.deleteTree(dir); // the store's directories are read-only: it makes them writable first
            out.println("Removed " + dir + " (--clean).");
        }
        out.flush();
        return status;
    }

    private int run(Path dir, List<Source> chosen, PrintWriter err) throws IOException {
        Path root = dir.resolve("root");
        Path cache = dir.resolve("cache");
        Path keys = Files.createDirectories(dir.resolve("keys"));
        StoreConfig config = StoreConfig.under(root);
        out.println("granary demo: the store's main job on this machine's files, in " + dir);

        List<StorePath> items = new ArrayList<>();
        StorePath manifest;
        SigningKey key = SigningKey.generate(KEY_NAME, new SecureRandom());
        begin("Create a store");
        try (LocalStore store = LocalStore.open(config)) {
            say("store dir " + config.physicalStoreDir() + " (logical " + STORE_DIR + "), database "
                + config.databaseDir());
            end();

            begin("Add files of this machine as items");
            for (Source source : chosen) {
                add(store, source).ifPresent(items::add);
            }
            manifest = store.addTextToStore("granary-demo-manifest", manifestText(items), items);
            SortedSet<StorePath> closure = store.queryRequisites(List.of(manifest));
            say(manifest + "  a text item, the profile manifest: it lists and refers to the " + items.size()
                + " items above; its closure is " + closure.size() + " items, " + ProgressBar.size(narSize(store, closure))
                + " of NAR");
            end();

            begin("Generate a signing key and push the closure to a binary cache");
            CacheCommand.Keygen.writeKeyPair(key, keys.resolve("cache.sec"), keys.resolve("cache.pub"));
            say("key " + key.verifyingKey() + " (secret in " + keys.resolve("cache.sec") + ")");
            CacheWriter writer = CacheWriter.open(cache, STORE_DIR, Compression.ZSTD, key);
            for (StorePath path : closure) {
                PathInfo info = store.queryPathInfo(path).orElseThrow(() -> new PathNotValidException(path));
                writer.write(info, config.storeDir().physicalPath(path));
            }
            say("pushed " + closure.size() + " signed narinfos and their zstd-compressed NARs ("
                + ProgressBar.size(sizeOf(cache)) + ") to " + cache.toUri());
            end();
        }

        begin("Damage two items");
        List<Damage> damages = damage(config, items);
        if (damages.size() < 2) {
            say("fewer than two items hold a regular file to damage: give two directories with --source");
            out.flush();
            return VerifyCommand.EXIT_ERROR;
        }
        end();

        begin("Verify: granary verify --contents");
        Report first = VerifyCommand.verifyWithProgress(config, VerifyOptions.defaults().withContents(true), err);
        VerifyCommand.printReport(first, out);
        boolean found = foundExactly(first, damages);
        say(found ? "found both damaged items, and nothing else"
            : "did NOT find exactly the two damaged items (" + describe(damages) + ")");
        end();

        begin("Repair from the binary cache, its key trusted: granary verify --contents --repair");
        BinaryCache substituter = BinaryCache.open(cache.toUri().toString(), STORE_DIR,
            TrustedKeys.of(List.of(key.verifyingKey())));
        Report repair = VerifyCommand.verifyWithProgress(config, VerifyOptions.defaults().withContents(true)
            .withRepair(true).withSubstituters(List.of(substituter)), err);
        VerifyCommand.printReport(repair, out);
        end();

        begin("Verify again: granary verify --contents");
        Report last = VerifyCommand.verifyWithProgress(config, VerifyOptions.defaults().withContents(true), err);
        VerifyCommand.printReport(last, out);
        end();

        out.println();
        boolean success = found && last.sound();
        out.println(success ? "The damage was found and repaired: the store is sound."
            : "The demo FAILED: " + (found ? "" : "verify did not find the damage as made; ")
                + (last.sound() ? "" : "damage remains after repair."));
        printNextCommands(dir, root, cache, keys, manifest, items.get(items.size() - 1));
        return success ? 0 : VerifyCommand.EXIT_DAMAGE;
    }

    /** Adds one source as a source item; a source that cannot be read is skipped, saying why. */
    private Optional<StorePath> add(LocalStore store, Source source) throws IOException {
        try {
            StorePath path = store.addToStore(source.name(), source.path(), true, HashAlgorithm.SHA256, List.of());
            long size = store.queryPathInfo(path).orElseThrow(() -> new PathNotValidException(path)).narSize();
            say(path + "  from " + source.path() + " (" + ProgressBar.size(size) + " of NAR)");
            return Optional.of(path);
        } catch (org.granary.nar.NarDumpException | java.nio.file.AccessDeniedException
                | java.nio.file.NoSuchFileException e) {
            say("skipped " + source.path() + ": " + Granary.describe(e));
            return Optional.empty();
        }
    }

    /** A profile manifest: one line per item, so that the references are in the text, as a scanner finds them. */
    private static String manifestText(List<StorePath> items) {
        StringBuilder text = new StringBuilder("# granary demo: a profile manifest, one store item per line\n");
        for (StorePath item : items) {
            text.append(item).append('\n');
        }
        return text.toString();
    }

    /**
     * Changes one byte of a file of the first item that has one (putting back its mode and mtime, so
     * that only its hash can tell), and makes a file of the last other such item writable by everyone.
     */
    private List<Damage> damage(StoreConfig config, List<StorePath> items) throws IOException {
        List<Damage> damages = new ArrayList<>();
        StorePath contentsItem = null;
        Path contentsFile = null;
        for (StorePath item : items) {
            Optional<Path> file = firstRegularFile(config.storeDir().physicalPath(item));
            if (file.isPresent()) {
                contentsItem = item;
                contentsFile = file.get();
                break;
            }
        }
        for (int i = items.size() - 1; i >= 0 && contentsItem != null; i--) {
            StorePath item = items.get(i);
            Optional<Path> file = item.equals(contentsItem) ? Optional.empty()
                : firstRegularFile(config.storeDir().physicalPath(item));
            if (file.isPresent()) {
                damages.add(changeOneByte(contentsItem, contentsFile));
                damages.add(makeWritable(item, file.get()));
                break;
            }
        }
        for (Damage done : damages) {
            say(done.expected().label() + ": " + done.description());
        }
        return damages;
    }

    private static Damage changeOneByte(StorePath item, Path file) throws IOException {
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file, NOFOLLOW_LINKS);
        FileTime mtime = Files.getLastModifiedTime(file, NOFOLLOW_LINKS);
        Set<PosixFilePermission> writable = EnumSet.copyOf(mode);
        writable.add(PosixFilePermission.OWNER_WRITE); // store files are read-only; a non-root owner needs this
        Files.setPosixFilePermissions(file, writable);
        String change;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long offset = channel.size() / 2;
            ByteBuffer one = ByteBuffer.allocate(1);
            if (channel.size() == 0) {
                one.put(0, (byte) 'x');
                channel.write(one, 0);
                change = "an empty file given one byte";
            } else {
                channel.read(one, offset);
                byte before = one.get(0);
                one.put(0, (byte) ~before);
                one.rewind();
                channel.write(one, offset);
                change = String.format(Locale.ROOT, "byte %d of %d changed from 0x%02x to 0x%02x", offset,
                    channel.size(), before & 0xff, ~before & 0xff);
            }
        }
        Files.setPosixFilePermissions(file, mode);
        Files.setLastModifiedTime(file, mtime);
        return new Damage(item, file, Finding.Kind.CONTENTS, file + ": " + change
            + " (mode and mtime put back: only the NAR hash can tell)");
    }

    private static Damage makeWritable(StorePath item, Path file) throws IOException {
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file, NOFOLLOW_LINKS);
        Set<PosixFilePermission> writable = EnumSet.copyOf(mode);
        writable.addAll(List.of(PosixFilePermission.OWNER_WRITE, PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.OTHERS_WRITE));
        Files.setPosixFilePermissions(file, writable);
        return new Damage(item, file, Finding.Kind.METADATA, file + ": mode " + octal(mode) + " -> " + octal(writable)
            + ", writable by anyone");
    }

    /** Whether the report's damage is exactly one finding of the expected kind per damaged item. */
    private static boolean foundExactly(Report report, List<Damage> damages) {
        Set<String> expected = new LinkedHashSet<>();
        for (Damage damage : damages) {
            expected.add(damage.expected().label() + " " + damage.item());
        }
        Set<String> actual = new LinkedHashSet<>();
        int count = 0;
        for (Finding finding : report.findings()) {
            if (finding.damage()) {
                actual.add(finding.kind().label() + " " + finding.path());
                count++;
            }
        }
        return count == expected.size() && actual.equals(expected);
    }

    private static String describe(List<Damage> damages) {
        List<String> parts = new ArrayList<>();
        for (Damage damage : damages) {
            parts.add(damage.expected().label() + " of " + damage.item());
        }
        return String.join(", ", parts);
    }

    private void printNextCommands(Path dir, Path root, Path cache, Path keys, StorePath manifest, StorePath item)
            throws IOException {
        if (clean) {
            return;
        }
        String publicKey = Files.readString(keys.resolve("cache.pub")).strip();
        out.println("The store, the cache and the keys stay in " + dir + ". Try next:");
        out.println("  bin/granary verify --root " + root + " --contents");
        out.println("  bin/granary query --root " + root + " --requisites " + manifest);
        out.println("  bin/granary query --root " + root + " --info " + item);
        out.println("  bin/granary verify --root " + root + " --contents --repair --substituter " + cache.toUri()
            + " --trusted-key " + publicKey);
        out.println("  chmod -R u+w " + dir + " && rm -rf " + dir + "   (when done: store files are read-only)");
    }

    /** A few packages' documentation directories and the running JDK's lib/, those that exist. */
    private static List<Source> machineSources() {
        List<Source> found = new ArrayList<>();
        Path doc = Path.of("/usr/share/doc");
        List<Path> candidates = new ArrayList<>();
        for (String name : PACKAGES) {
            candidates.add(doc.resolve(name));
        }
        if (Files.isDirectory(doc)) {
            try (Stream<Path> listed = Files.list(doc)) {
                listed.sorted().forEach(candidates::add); // others, when the usual ones are absent
            } catch (IOException e) {
                // unreadable: the usual packages alone, or the JDK alone
            }
        }
        for (Path candidate : candidates) {
            // A symlink is another package's documentation under a second name: not worth a second item.
            if (found.size() < DOC_ITEMS && Files.isDirectory(candidate, NOFOLLOW_LINKS) && Files.isReadable(candidate)
                    && found.stream().noneMatch(s -> s.path().equals(candidate))) {
                found.add(new Source(itemName(candidate.getFileName() + "-doc"), candidate));
            }
        }
        Path jdkLib = Path.of(System.getProperty("java.home"), "lib");
        if (Files.isDirectory(jdkLib)) {
            found.add(new Source("jdk-" + Runtime.version().feature() + "-lib", realPath(jdkLib)));
        }
        return found;
    }

    private List<Source> givenSources() {
        List<Source> given = new ArrayList<>();
        for (Path source : sources) {
            if (!Files.exists(source, NOFOLLOW_LINKS)) {
                throw new ParameterException(spec.commandLine(), "--source " + source + ": no such file or directory");
            }
            Path absolute = source.toAbsolutePath().normalize();
            String base = absolute.getFileName() == null ? "root" : absolute.getFileName().toString();
            given.add(new Source(itemName(base), absolute));
        }
        return given;
    }

    /** A store item name from a file name: characters Guix refuses become '-'. */
    private static String itemName(String base) {
        String name = base.replaceAll("[^A-Za-z0-9+._?=-]", "-").replaceFirst("^\\.+", "");
        name = name.isEmpty() ? "item" : name;
        return name.length() > 200 ? name.substring(0, 200) : name;
    }

    private static Path realPath(Path path) {
        try {
            return path.toRealPath();
        } catch (IOException e) {
            return path;
        }
    }

    /** DIR, created if missing and checked empty, or a new temporary directory. */
    private Path prepare(Path given) throws IOException {
        if (given == null) {
            return Files.createTempDirectory("granary-demo-").toAbsolutePath();
        }
        Path dir = given.toAbsolutePath().normalize();
        if (Files.exists(dir, NOFOLLOW_LINKS)) {
            boolean empty = false;
            if (Files.isDirectory(dir, NOFOLLOW_LINKS)) {
                try (Stream<Path> entries = Files.list(dir)) {
                    empty = entries.findAny().isEmpty();
                }
            }
            if (!empty) {
                throw new ParameterException(spec.commandLine(), dir + ": not an empty directory; give a new or empty one");
            }
        }
        return Files.createDirectories(dir);
    }

    private static Optional<Path> firstRegularFile(Path tree) throws IOException {
        if (Files.isRegularFile(tree, NOFOLLOW_LINKS)) {
            return Optional.of(tree);
        }
        if (!Files.isDirectory(tree, NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        List<Path> entries;
        try (Stream<Path> listed = Files.list(tree)) {
            entries = listed.sorted().toList();
        }
        for (Path entry : entries) {
            Optional<Path> found = firstRegularFile(entry);
            if (found.isPresent()) {
                return found;
            }
        }
        return Optional.empty();
    }

    private static long narSize(LocalStore store, SortedSet<StorePath> paths) {
        long total = 0;
        for (StorePath path : paths) {
            total += store.queryPathInfo(path).orElseThrow(() -> new PathNotValidException(path)).narSize();
        }
        return total;
    }

    private static long sizeOf(Path tree) throws IOException {
        try (Stream<Path> files = Files.walk(tree)) {
            return files.filter(Files::isRegularFile).mapToLong(file -> {
                try {
                    return Files.size(file);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).sum();
        }
    }

    private static String octal(Set<PosixFilePermission> mode) {
        int bits = 0;
        for (PosixFilePermission permission : mode) {
            bits |= 1 << (8 - permission.ordinal()); // OWNER_READ is ordinal 0, the 0400 bit
        }
        return String.format(Locale.ROOT, "%04o", bits);
    }

    private void begin(String title) {
        step++;
        out.println();
        out.println("[" + step + "/" + STEPS + "] " + title);
        out.flush();
        stepStart = System.nanoTime();
    }

    private void say(String line) {
        out.println("      " + line);
        out.flush();
    }

    private void end() {
        say(String.format(Locale.ROOT, "(%.2f s)", seconds(stepStart)));
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
