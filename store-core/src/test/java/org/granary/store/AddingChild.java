package org.granary.store;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.granary.nar.FileTrees;
import org.granary.nar.NarDumper;

/**
 * Run in a child JVM by {@link LocalStoreCrashTest}: opens a {@link LocalStore} on a root and adds items by
 * every adding method (text items referring to earlier ones, source trees, {@code addFromNar}, imports of an
 * export), printing each path on its own line once the method that added it has returned. The items of
 * step {@code i} of generation {@code g} are always the same, so runs of one generation add the same paths.
 *
 * <p>Arguments: {@code ROOT SCRATCH GENERATION MODE [COUNT]}. It prints {@code open} once the store is open.
 * Mode {@code loop} adds steps 0, 1, 2, … until killed; mode {@code fixed} waits for a line on its standard
 * input, adds steps 0 to {@code COUNT - 1}, prints {@code done} and exits.
 */
public final class AddingChild {
    private AddingChild() {
    }

    /**
     * Entry point.
     *
     * @param args root, scratch directory, generation, mode, count
     * @throws Exception on any failure, which ends the JVM with a stack trace and a non-zero status
     */
    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]);
        Path scratch = Path.of(args[1]);
        int generation = Integer.parseInt(args[2]);
        boolean loop = args[3].equals("loop");
        try (LocalStore store = LocalStore.open(config(root))) {
            System.out.println("open");
            System.out.flush();
            Consumer<StorePath> report = path -> {
                System.out.println(path);
                System.out.flush();
            };
            if (loop) {
                for (int step = 0; ; step++) {
                    step(store, scratch, generation, step, report);
                }
            }
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            int count = Integer.parseInt(args[4]);
            for (int step = 0; step < count; step++) {
                step(store, scratch, generation, step, report);
            }
        }
        System.out.println("done");
        System.out.flush();
    }

    static StoreConfig config(Path root) {
        return StoreConfig.under(root).withReservedSpace(4096);
    }

    /**
     * Adds the items of one step: always a text item referring to the two before it; on every third step
     * a source tree, on every third (offset by one) an item from a NAR, on every fourth an import of a
     * two-item export. {@code scratch} is a directory of this process only.
     */
    static void step(LocalStore store, Path scratch, int generation, int step, Consumer<StorePath> report)
            throws IOException {
        StorePaths paths = new StorePaths(store.config().storeDir());
        String tag = generation + "-" + step;
        List<StorePath> references = new ArrayList<>();
        for (int back = 1; back <= 2 && step - back >= 0; back++) {
            references.add(textPath(paths, generation, step - back));
        }
        StorePath text = store.addTextToStore("text-" + tag, textOf(generation, step), references);
        report.accept(text);
        if (step % 3 == 0) {
            Path tree = tree(scratch.resolve("src"), tag);
            StorePath source = store.addToStore("src-" + tag, tree, true, HashAlgorithm.SHA256, List.of(text));
            report.accept(source);
        }
        if (step % 3 == 1) {
            Path tree = tree(scratch.resolve("nar"), "nar " + tag);
            ByteArrayOutputStream nar = new ByteArrayOutputStream();
            new NarDumper().dump(tree, nar);
            Hash narHash = Hash.ofNar(tree, HashAlgorithm.SHA256);
            StorePath path = paths.source("nar-" + tag, narHash, List.of(text), false);
            PathInfo added = store.addFromNar(new ByteArrayInputStream(nar.toByteArray()),
                PathInfo.of(path, narHash, nar.size(), List.of(text), 0));
            report.accept(added.path());
        }
        if (step % 4 == 2) {
            byte[] export = export(paths, scratch.resolve("export"), tag, text);
            for (StorePath imported : store.importPaths(new BufferedInputStream(new ByteArrayInputStream(export)))) {
                report.accept(imported);
            }
        }
    }

    private static String textOf(int generation, int step) {
        return "item " + step + " of generation " + generation + "\n";
    }

    private static StorePath textPath(StorePaths paths, int generation, int step) {
        byte[] bytes = textOf(generation, step).getBytes(StandardCharsets.UTF_8);
        Hash contents = Hash.of(HashAlgorithm.SHA256, HashAlgorithm.SHA256.newDigest().digest(bytes));
        List<StorePath> references = new ArrayList<>();
        for (int back = 1; back <= 2 && step - back >= 0; back++) {
            references.add(textPath(paths, generation, step - back));
        }
        return paths.text("text-" + generation + "-" + step, contents, references);
    }

    /** A small tree: a few files (one executable), a subdirectory and a symlink, with contents from {@code tag}. */
    private static Path tree(Path root, String tag) throws IOException {
        FileTrees.deleteTree(root);
        Files.createDirectories(root.resolve("sub"));
        Files.writeString(root.resolve("a.txt"), "a of " + tag + "\n");
        Path run = Files.writeString(root.resolve("run.sh"), "#!/bin/sh\necho " + tag + "\n");
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.write(root.resolve("sub/data"), (tag + "\n").repeat(2000).getBytes(StandardCharsets.UTF_8));
        Files.createSymbolicLink(root.resolve("sub/link"), Path.of("../a.txt"));
        return root;
    }

    /** An export of two text items, the second referring to the first and to {@code text}. */
    private static byte[] export(StorePaths paths, Path dir, String tag, StorePath text) throws IOException {
        FileTrees.deleteTree(dir);
        Files.createDirectories(dir);
        String first = "exported first of " + tag + "\n";
        String second = "exported second of " + tag + " after " + text + "\n";
        Path firstFile = Files.writeString(dir.resolve("first"), first);
        Path secondFile = Files.writeString(dir.resolve("second"), second);
        StorePath firstPath = paths.text("exp-a-" + tag, sha256(first), List.of());
        List<StorePath> secondReferences = List.of(firstPath, text);
        StorePath secondPath = paths.text("exp-b-" + tag, sha256(second), secondReferences);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ExportWriter writer = new ExportWriter(out);
        writer.write(firstPath, firstFile, List.of(), Optional.empty());
        writer.write(secondPath, secondFile, secondReferences, Optional.empty());
        writer.finish();
        return out.toByteArray();
    }

    private static Hash sha256(String text) {
        return Hash.of(HashAlgorithm.SHA256,
            HashAlgorithm.SHA256.newDigest().digest(text.getBytes(StandardCharsets.UTF_8)));
    }
}
