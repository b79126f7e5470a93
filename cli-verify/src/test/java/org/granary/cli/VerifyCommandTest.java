package org.granary.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.granary.cli.GranaryCommandTest.Run;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code granary verify}: output, JSON, exit status, usage errors. */
class VerifyCommandTest {
    @TempDir
    Path tmp;

    private Path root;
    private String item;

    @BeforeEach
    void makeStore() throws IOException {
        root = tmp.resolve("root");
        Path source = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(source.resolve("a \"quoted\" name"), "text\n");
        Run added = GranaryCommandTest.run("add", "--root", root.toString(), source.toString());
        assertEquals(0, added.status(), added.stderr());
        item = added.lines().get(0);
    }

    private Path physical() {
        return root.resolve(item.substring(1));
    }

    @Test
    void aSoundStoreExitsZeroWithASummaryTable() {
        Run run = GranaryCommandTest.run("verify", "--root", root.toString(), "--contents");
        assertEquals(0, run.status(), run.stderr());
        List<String> lines = run.lines();
        assertEquals("", lines.get(0));
        assertTrue(lines.get(1).startsWith("check ") && lines.get(1).contains("remaining"), run.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("1 items checked, 1 hashed")), run.out());
        assertEquals("the store is sound", lines.get(lines.size() - 1));
    }

    @Test
    void damageExitsOneAndJsonHasEveryFieldEscaped() throws IOException {
        Path file = physical().resolve("a \"quoted\" name");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        Files.writeString(root.resolve("gnu/store/leftover\tname"), "x");
        Run run = GranaryCommandTest.run("verify", "--root", root.toString(), "--contents", "--json");
        assertEquals(1, run.status(), run.stderr());
        @SuppressWarnings("unchecked")
        Map<String, Object> json = (Map<String, Object>) JsonReader.parse(run.out());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> findings = (List<Map<String, Object>>) json.get("findings");
        assertEquals(2, findings.size(), run.out());
        Map<String, Object> metadata = findings.get(0);
        assertEquals("metadata", metadata.get("kind"));
        assertEquals(item, metadata.get("path"));
        assertEquals(file.toString(), metadata.get("file"));
        assertEquals("mode 0444", metadata.get("expected"));
        assertEquals("mode 0644", metadata.get("actual"));
        assertEquals(true, metadata.get("damage"));
        assertEquals("none", metadata.get("action"));
        Map<String, Object> leftover = findings.get(1);
        assertEquals("leftover", leftover.get("kind"));
        assertEquals("/gnu/store/leftover\tname", leftover.get("path"));
        assertEquals(false, leftover.get("damage"));
        assertFalse(leftover.containsKey("expected"));
        @SuppressWarnings("unchecked")
        Map<String, Object> summary = (Map<String, Object>) json.get("summary");
        assertEquals(false, summary.get("sound"));
        assertEquals(1.0, summary.get("items"));
        assertEquals(1.0, summary.get("remaining"));
        assertEquals(Map.of("missing", 0.0, "contents", 0.0, "metadata", 1.0, "reference", 0.0, "leftover", 1.0),
            summary.get("findings"));
    }

    @Test
    void repairFixesMetadataAndExitsZero() throws IOException {
        Files.setPosixFilePermissions(physical().resolve("a \"quoted\" name"), PosixFilePermissions.fromString("rw-rw-rw-"));
        Run run = GranaryCommandTest.run("verify", "--root", root.toString(), "--repair");
        assertEquals(0, run.status(), run.out() + run.stderr());
        assertTrue(run.lines().get(0).startsWith("metadata " + item) && run.lines().get(0).contains("[repaired]"),
            run.out());
        assertEquals("the store is sound (after repair)", run.lines().get(run.lines().size() - 1));
        assertEquals(0, GranaryCommandTest.run("verify", "--root", root.toString()).status());
    }

    @Test
    void aMissingStoreOrABadOptionExitsTwo() {
        Run missing = GranaryCommandTest.run("verify", "--root", tmp.resolve("nothing").toString());
        assertEquals(2, missing.status());
        assertTrue(missing.stderr().startsWith("granary: ") && missing.stderr().contains("no store dir here"),
            missing.stderr());
        Run jobs = GranaryCommandTest.run("verify", "--root", root.toString(), "--jobs", "0");
        assertEquals(2, jobs.status(), jobs.stderr());
        Run unkeyed = GranaryCommandTest.run("verify", "--root", root.toString(), "--repair", "--substituter",
            "file:///srv/cache");
        assertEquals(2, unkeyed.status());
        assertTrue(unkeyed.stderr().contains("needs --trusted-key"), unkeyed.stderr());
        Run badKey = GranaryCommandTest.run("verify", "--root", root.toString(), "--repair", "--substituter",
            "file:///srv/cache", "--trusted-key", "no-colon");
        assertEquals(2, badKey.status(), badKey.stderr());
        Run scheme = GranaryCommandTest.run("verify", "--root", root.toString(), "--repair", "--substituter",
            "ftp://host/cache", "--allow-unsigned");
        assertEquals(2, scheme.status(), scheme.stderr());
    }

    @Test
    void theProgressBarShowsItemsBytesRateAndTimeLeft() {
        String line = ProgressBar.line(new org.granary.verify.Progress(org.granary.verify.Progress.Phase.CONTENTS,
            5, 10, 500_000_000, 1_000_000_000), 2.0);
        assertEquals("hashing  [############............] 5/10 items  500.0 MB/1.0 GB  250.0 MB/s  ETA 0:02", line);
        String items = ProgressBar.line(new org.granary.verify.Progress(org.granary.verify.Progress.Phase.ITEMS,
            10, 10, 0, 0), 0.5);
        assertEquals("items    [########################] 10/10 items  20 items/s", items);
    }

    @Test
    void anEmptyDatabaseBesideAFullStoreDirIsWarnedAbout() {
        Run other = GranaryCommandTest.run("verify", "--root", root.toString(), "--state-dir", "/var/other");
        assertEquals(2, other.status(), "no database there: " + other.stderr());
        assertEquals(0, GranaryCommandTest.run("init", "--root", root.toString(), "--state-dir", "/var/other").status());
        Run empty = GranaryCommandTest.run("verify", "--root", root.toString(), "--state-dir", "/var/other");
        assertEquals(0, empty.status(), empty.stderr());
        assertTrue(empty.stderr().contains("the database has no valid path"), empty.stderr());
    }

    @Test
    void helpExplainsEachCheck() {
        Run help = GranaryCommandTest.run("verify", "--help");
        assertEquals(0, help.status());
        for (String word : List.of("reference", "missing", "metadata", "contents", "leftover", "--repair", "--json",
                "Exit status")) {
            assertTrue(help.out().contains(word), word + " in " + help.out());
        }
    }
}
