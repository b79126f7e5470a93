package org.granary.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.granary.nar.NarDigest;
import org.granary.nar.NarDumper;
import org.granary.nar.NarRestorer;
import org.granary.store.Hash;
import org.granary.store.HashAlgorithm;
import org.granary.store.HashFormat;
import org.granary.store.LocalStore;
import org.granary.store.StoreConfig;
import org.granary.store.StoreDir;
import org.granary.store.StorePath;
import org.granary.store.StorePaths;
import org.granary.verify.Finding;
import org.granary.verify.Report;
import org.granary.verify.StoreVerifier;
import org.granary.verify.VerifyOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedding examples of README.md, kept compiling and true: the code below is the README's, with
 * the paths moved under a temporary directory and the printing checked; every line the README shows must
 * be in this file.
 */
class EmbeddingExampleTest {
    private static final Path SOURCE = Path.of("src/test/java/org/granary/cli/EmbeddingExampleTest.java");
    private static final Path README = Path.of("../README.md");

    @TempDir
    Path tmp;

    @Test
    void theReadmeExampleWorks() throws Exception {
        Path tree = Files.createDirectory(tmp.resolve("doc"));
        Files.writeString(tree.resolve("README"), "bash\n");

        Hash nar = Hash.ofNar(tree, HashAlgorithm.SHA256);              // as nix-hash --type sha256
        StorePath path = new StorePaths(StoreDir.DEFAULT).source("bash-doc", nar, List.of(), false);
        assertEquals("bash-doc", path.name());

        Path file = tmp.resolve("bash-doc.nar");
        try (OutputStream out = Files.newOutputStream(file)) {
            NarDigest digest = new NarDumper().dump(tree, out, MessageDigest.getInstance("SHA-256"));
            assertEquals(nar.format(HashFormat.BASE16), java.util.HexFormat.of().formatHex(digest.digest()));
        }                                                               // NAR written and hashed in one pass
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            NarRestorer.restore(in, tmp.resolve("copy"));                   // strict; all or nothing
        }
        assertEquals(nar, Hash.ofNar(tmp.resolve("copy"), HashAlgorithm.SHA256));
    }

    @Test
    void theReadmeStoreExampleWorks() throws Exception {
        Path tree = Files.createDirectory(tmp.resolve("doc"));
        Files.writeString(tree.resolve("README"), "bash\n");
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);

        try (LocalStore store = LocalStore.open(StoreConfig.under(tmp.resolve("my-root")))) {
            StorePath doc = store.addToStore("bash-doc", tree, true, HashAlgorithm.SHA256, List.of());
            StorePath note = store.addTextToStore("note", "see " + doc + "\n", List.of(doc));
            SortedSet<StorePath> closure = store.queryRequisites(List.of(note));   // [doc, note]
            Hash recorded = store.queryPathInfo(doc).orElseThrow().narHash();
            Hash onDisk = Hash.ofNar(store.config().storeDir().physicalPath(doc), HashAlgorithm.SHA256);
            out.println(closure + (recorded.equals(onDisk) ? " intact" : " damaged"));

            assertEquals(java.util.Set.of(doc, note), closure);
            assertEquals(closure + " intact", printed.toString(StandardCharsets.UTF_8).strip());
            // The check can fail: a file changed behind the store's back no longer hashes as recorded.
            Path readme = store.config().storeDir().physicalPath(doc).resolve("README");
            readme.toFile().setWritable(true);
            Files.writeString(readme, "bosh\n");
            assertNotEquals(recorded, Hash.ofNar(store.config().storeDir().physicalPath(doc), HashAlgorithm.SHA256));
        }
    }

    @Test
    void theReadmeVerifyExampleWorks() throws Exception {
        Path tree = Files.createDirectory(tmp.resolve("doc"));
        Files.writeString(tree.resolve("README"), "bash\n");
        StorePath doc;
        try (LocalStore store = LocalStore.open(StoreConfig.under(tmp.resolve("my-root")))) {
            doc = store.addToStore("bash-doc", tree, true, HashAlgorithm.SHA256, List.of());
        }

        Report report = new StoreVerifier(StoreConfig.under(tmp.resolve("my-root")))
            .verify(VerifyOptions.defaults().withContents(true));
        assertTrue(report.sound(), report.findings().toString());

        // It can fail: a file changed behind the store's back (mode and mtime put back) is found.
        Path readme = StoreConfig.under(tmp.resolve("my-root")).storeDir().physicalPath(doc).resolve("README");
        readme.toFile().setWritable(true);
        Files.writeString(readme, "bosh\n");
        readme.toFile().setWritable(false, false);
        Files.setLastModifiedTime(readme, java.nio.file.attribute.FileTime.fromMillis(1000));
        Report damaged = new StoreVerifier(StoreConfig.under(tmp.resolve("my-root")))
            .verify(VerifyOptions.defaults().withContents(true));
        assertEquals(List.of(Finding.Kind.CONTENTS), damaged.findings().stream().map(Finding::kind).toList());
        assertEquals(doc.toString(), damaged.findings().get(0).path());
    }

    @Test
    void everyLineOfTheReadmesJavaExamplesIsInThisTest() throws IOException {
        List<String> tested = Files.readAllLines(SOURCE).stream().map(EmbeddingExampleTest::code).toList();
        Matcher blocks = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(Files.readString(README));
        List<String> shown = new ArrayList<>();
        while (blocks.find()) {
            blocks.group(1).lines().map(EmbeddingExampleTest::code).filter(line -> !line.isEmpty()).forEach(shown::add);
        }
        assertTrue(shown.size() > 15, "the README shows its Java examples: " + shown);
        for (String line : shown) {
            // The README's file names are relative; here they live under the temporary directory.
            String moved = line.replace("Path.of(\"bash-doc.nar\")", "file").replace("Path.of(\"copy\")", "tmp.resolve(\"copy\")")
                .replace("Path.of(\"my-root\")", "tmp.resolve(\"my-root\")");
            assertTrue(tested.contains(moved) || isAdaptedHere(line), "README line not tested here: " + line);
        }
    }

    /** The README's lines that this test necessarily writes otherwise (a real tree, checked printing). */
    private static boolean isAdaptedHere(String line) {
        return line.equals("Path tree = Path.of(\"/usr/share/doc/bash\");")
            || line.startsWith("System.out.println(")
            || line.equals("}");
    }

    /** A line without its indentation and trailing comment. */
    private static String code(String line) {
        int comment = line.indexOf("  //");
        return (comment < 0 ? line : line.substring(0, comment)).strip();
    }
}
