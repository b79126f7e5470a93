package org.granary.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.granary.cli.GranaryCommandTest.Run;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code granary demo} on small generated trees: both damages found, both repaired, the store sound. */
class DemoCommandTest {
    private static final Pattern FINDING = Pattern.compile("^(missing|contents|metadata|reference|leftover) (/gnu/store/[^\\s:]+).*");

    @TempDir
    Path tmp;

    private Path docs;
    private Path tools;

    @BeforeEach
    void makeSources() throws IOException {
        docs = Files.createDirectories(tmp.resolve("src/docs"));
        Files.writeString(docs.resolve("README"), "read me\n".repeat(100));
        Files.createDirectories(docs.resolve("examples"));
        Files.writeString(docs.resolve("examples/one.txt"), "one\n");
        Files.createSymbolicLink(docs.resolve("link"), Path.of("README"));
        tools = Files.createDirectories(tmp.resolve("src/tools"));
        Path run = Files.writeString(tools.resolve("run"), "#!/bin/sh\necho run\n");
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(tools.resolve("settings"), "a = 1\n");
    }

    /** The lines of step {@code number}: from its heading to the next one (or the end). */
    private static List<String> step(Run run, int number) {
        List<String> lines = run.lines();
        int start = -1;
        int end = lines.size();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("[" + number + "/7] ")) {
                start = i;
            } else if (start >= 0 && lines.get(i).startsWith("[" + (number + 1) + "/7] ")) {
                end = i;
                break;
            }
        }
        assertTrue(start >= 0, "no step " + number + " in\n" + run.out());
        return lines.subList(start, end);
    }

    /** The finding lines among the lines: kind and item. */
    private static List<String> findings(List<String> lines) {
        List<String> found = new ArrayList<>();
        for (String line : lines) {
            Matcher matcher = FINDING.matcher(line);
            if (matcher.matches()) {
                found.add(matcher.group(1) + " " + matcher.group(2) + (line.contains("[repaired]") ? " repaired" : ""));
            }
        }
        return found;
    }

    @Test
    void theFirstVerifyFindsExactlyTheTwoDamagesTheRepairFixesThemAndTheSecondIsClean() throws IOException {
        Path dir = tmp.resolve("demo");
        Run run = GranaryCommandTest.run("demo", dir.toString(), "--source", docs.toString(), "--source",
            tools.toString());
        assertEquals(0, run.status(), run.out() + run.stderr());

        List<String> first = findings(step(run, 5));
        assertEquals(2, first.size(), run.out());
        assertTrue(first.get(0).startsWith("contents /gnu/store/") && first.get(0).endsWith("-docs"), first.toString());
        assertTrue(first.get(1).startsWith("metadata /gnu/store/") && first.get(1).endsWith("-tools"), first.toString());
        assertTrue(step(run, 5).contains("2 findings of damage remain (--repair may fix them)"), run.out());

        List<String> repaired = findings(step(run, 6));
        assertEquals(List.of(first.get(0) + " repaired", first.get(1) + " repaired"), repaired, run.out());
        assertTrue(step(run, 6).contains("the store is sound (after repair)"), run.out());

        List<String> last = step(run, 7);
        assertEquals(List.of(), findings(last), run.out());
        assertTrue(last.contains("the store is sound"), run.out());
        assertTrue(run.out().contains("--root " + dir.resolve("root") + " --contents"), "the next commands: " + run.out());

        // Independently of the demo's own report: the store is sound and the damaged file is whole again.
        assertEquals(0, GranaryCommandTest.run("verify", "--root", dir.resolve("root").toString(), "--contents").status());
        Path item = dir.resolve("root" + first.get(0).substring("contents ".length()));
        assertArrayEquals(Files.readAllBytes(docs.resolve("README")), Files.readAllBytes(item.resolve("README")));
        Run requisites = GranaryCommandTest.run("query", "--root", dir.resolve("root").toString(), "--requisites",
            manifest(run));
        assertEquals(3, requisites.lines().size(), "the manifest refers to both items: " + requisites.out());
    }

    private static String manifest(Run run) {
        for (String line : step(run, 2)) {
            if (line.strip().startsWith("/gnu/store/") && line.contains("-granary-demo-manifest ")) {
                return line.strip().split(" ")[0];
            }
        }
        throw new AssertionError("no manifest in " + run.out());
    }

    @Test
    void cleanRemovesTheDirectoryEvenItsReadOnlyStore() {
        Path dir = tmp.resolve("gone");
        Run run = GranaryCommandTest.run("demo", "--clean", dir.toString(), "--source", docs.toString(), "--source",
            tools.toString());
        assertEquals(0, run.status(), run.out() + run.stderr());
        assertFalse(Files.exists(dir), run.out());
        assertFalse(run.out().contains("Try next"), run.out());
    }

    @Test
    void aNonEmptyDirectoryOrAMissingSourceIsAUsageError() throws IOException {
        Run full = GranaryCommandTest.run("demo", docs.toString(), "--source", docs.toString());
        assertEquals(2, full.status(), full.out());
        assertTrue(full.stderr().contains("not an empty directory"), full.stderr());
        Run missing = GranaryCommandTest.run("demo", tmp.resolve("d").toString(), "--source",
            tmp.resolve("nothing").toString());
        assertEquals(2, missing.status(), missing.out());
        assertTrue(missing.stderr().contains("no such file or directory"), missing.stderr());
    }

    @Test
    void oneItemIsTooFewToDamageTwo() {
        Run run = GranaryCommandTest.run("demo", "--clean", tmp.resolve("one").toString(), "--source", docs.toString());
        assertEquals(2, run.status(), run.out());
        assertTrue(run.out().contains("fewer than two items hold a regular file"), run.out());
        assertFalse(Files.exists(tmp.resolve("one")));
    }

    @Test
    void helpSaysEachStepWithExamples() {
        Run help = GranaryCommandTest.run("demo", "--help");
        assertEquals(0, help.status());
        for (String word : List.of("verify --contents", "repair", "--clean", "--source", "Examples:", "granary demo")) {
            assertTrue(help.out().contains(word), word + " in " + help.out());
        }
    }
}
