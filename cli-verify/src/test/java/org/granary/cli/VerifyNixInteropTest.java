package org.granary.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.granary.nar.FileTrees;
import org.granary.nar.testing.NixOracle;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code granary verify --contents} against {@code nix-store --verify --check-contents} on one store made
 * by Nix under a temporary root, imported with {@code granary db import} and then damaged in each way a
 * disk or a person can: both must name the same damaged items, and Granary adds the metadata findings
 * that Nix does not make.
 */
class VerifyNixInteropTest {
    @TempDir
    Path tmp;

    /** A private Nix store under {@code tmp}, made afresh for each test, and its items by role. */
    private NixOracle nix;
    private Map<String, String> items;

    @BeforeEach
    void makeNixStore() throws IOException {
        NixOracle.assumeAvailable();
        nix = NixOracle.open(tmp.resolve("nix"));
        items = makeStore(nix);
    }

    private static final Pattern NIX_DAMAGE =
        Pattern.compile("path '(" + Pattern.quote(NixOracle.STORE_DIR) + "/[^']+)' (was modified|disappeared)");

    @Test
    void granaryReportsTheItemsNixReportsPlusTheMetadataNixIgnores() throws IOException {
        Path root = nix.root();
        importInto(nix);
        GranaryCommandTest.Run before = GranaryCommandTest.run("verify", "--root", root.toString(), "--contents");
        assertEquals(0, before.status(), before.out() + before.stderr());
        assertEquals(Set.of(), nixDamage(nix), "Nix finds the fresh store sound too");

        damage(nix, items);
        GranaryCommandTest.Run after = GranaryCommandTest.run("verify", "--root", root.toString(), "--contents");
        assertEquals(1, after.status(), after.out() + after.stderr());
        Map<String, Set<String>> granary = findingsByKind(after.lines());
        Set<String> granaryDamage = new TreeSet<>(granary.getOrDefault("contents", Set.of()));
        granaryDamage.addAll(granary.getOrDefault("missing", Set.of()));

        Set<String> expected = new TreeSet<>();
        for (String name : List.of("changed", "truncated", "file-deleted", "made-executable", "added",
                "whole-deleted")) {
            expected.add(items.get(name));
        }
        assertEquals(expected, granaryDamage, after.out());
        assertEquals(expected, nixDamage(nix), "nix-store --verify --check-contents names the same items");
        assertEquals(Set.of(items.get("whole-deleted")), granary.get("missing"));
        Set<String> metadata = granary.getOrDefault("metadata", Set.of());
        assertTrue(metadata.contains(items.get("writable")), "a write bit changes no NAR, so Nix does not see it: "
            + after.out());
        assertFalse(granaryDamage.contains(items.get("writable")));
        assertFalse(metadata.contains(items.get("clean")) || granaryDamage.contains(items.get("clean")));
    }

    @Test
    void repairFromACacheWrittenByNixCopyRestoresEverythingAndNixFindsTheStoreSound() throws IOException {
        Path secret = tmp.resolve("secret");
        Path pub = tmp.resolve("public");
        nix.nixStore("--generate-binary-cache-key", "nix-cache-1", secret.toString(), pub.toString());
        Path cache = tmp.resolve("cache");
        List<String> copy = new java.util.ArrayList<>(List.of("copy", "--to",
            "file://" + cache + "?compression=xz&secret-key=" + secret));
        copy.addAll(items.values());
        nix.nix(copy.toArray(String[]::new));
        repairAndCheck(nix, items, "file://" + cache, Files.readString(pub).strip());
    }

    @Test
    void repairFromACacheWrittenByGranaryCachePushRestoresEverything() throws IOException {
        Path root = nix.root();
        importInto(nix);
        Path secret = tmp.resolve("granary.sec");
        Path pub = tmp.resolve("granary.pub");
        GranaryCommandTest.Run keygen = GranaryCommandTest.run("cache", "keygen", "granary-cache-1", secret.toString(),
            pub.toString());
        assertEquals(0, keygen.status(), keygen.stderr());
        Path cache = tmp.resolve("pushed");
        List<String> push = new java.util.ArrayList<>(List.of("cache", "push", "--root", root.toString(), "--key",
            secret.toString(), cache.toString()));
        push.addAll(items.values());
        GranaryCommandTest.Run pushed = GranaryCommandTest.run(push.toArray(String[]::new));
        assertEquals(0, pushed.status(), pushed.stderr());
        Path otherSecret = tmp.resolve("other.sec");
        Path otherPub = tmp.resolve("other.pub");
        assertEquals(0, GranaryCommandTest.run("cache", "keygen", "granary-cache-1", otherSecret.toString(),
            otherPub.toString()).status());

        // Trusting another key of the same name: every substitute is refused and the items stay as they were.
        damage(nix, items);
        Path truncated = nix.physicalPath(items.get("truncated")).resolve("data");
        GranaryCommandTest.Run refused = GranaryCommandTest.run("verify", "--root", root.toString(), "--contents",
            "--repair", "--substituter", cache.toUri().toString(), "--trusted-key", Files.readString(otherPub).strip());
        assertEquals(1, refused.status(), refused.out() + refused.stderr());
        assertTrue(refused.out().contains("refused"), refused.out());
        assertEquals(0, Files.size(truncated));
        assertFalse(Files.exists(nix.physicalPath(items.get("whole-deleted"))));

        GranaryCommandTest.Run repair = GranaryCommandTest.run("verify", "--root", root.toString(), "--contents",
            "--repair", "--substituter", cache.toUri().toString(), "--trusted-key", Files.readString(pub).strip());
        assertEquals(0, repair.status(), repair.out() + repair.stderr());
        assertEquals(0, GranaryCommandTest.run("verify", "--root", root.toString(), "--contents").status());
        assertEquals(Set.of(), nixDamage(nix), "nix-store --verify --check-contents finds the repaired store sound");
    }

    /**
     * Damages the store every way, repairs it from the cache with the key, and checks that Granary repaired
     * every finding and that both Granary and Nix then find every item intact.
     */
    private void repairAndCheck(NixOracle nix, Map<String, String> items, String cache, String key) throws IOException {
        Path root = nix.root();
        if (!Files.exists(root.resolve("var/guix/db/lmdb"))) {
            importInto(nix);
        }
        damage(nix, items);
        GranaryCommandTest.Run repair = GranaryCommandTest.run("verify", "--root", root.toString(), "--contents",
            "--repair", "--substituter", cache, "--trusted-key", key);
        assertEquals(0, repair.status(), repair.out() + repair.stderr());
        Map<String, Set<String>> found = findingsByKind(repair.lines());
        assertEquals(Set.of(items.get("whole-deleted")), found.get("missing"), repair.out());
        assertEquals(5, found.get("contents").size(), repair.out());
        for (String line : repair.lines()) {
            if (line.isEmpty()) {
                break;
            }
            assertTrue(line.contains("[repaired]"), line);
        }
        GranaryCommandTest.Run after = GranaryCommandTest.run("verify", "--root", root.toString(), "--contents");
        assertEquals(0, after.status(), after.out());
        assertEquals(Set.of(), nixDamage(nix), "nix-store --verify --check-contents finds the repaired store sound");
    }

    private static void importInto(NixOracle nix) {
        GranaryCommandTest.Run imported = GranaryCommandTest.run("db", "import", "--root", nix.root().toString(),
            "--sqlite", nix.stateDir().resolve("db/db.sqlite").toString());
        assertEquals(0, imported.status(), imported.stderr());
    }

    /** Trees and text items made by Nix: one per kind of damage, a clean one, and a leaf with a referrer. */
    private Map<String, String> makeStore(NixOracle nix) throws IOException {
        Map<String, String> items = new LinkedHashMap<>();
        for (String name : List.of("changed", "truncated", "file-deleted", "writable", "made-executable", "added",
                "clean")) {
            Path dir = Files.createDirectories(tmp.resolve("src/" + name + "/sub"));
            Files.writeString(dir.resolveSibling("data"), name + " data\n".repeat(50));
            Files.writeString(dir.resolve("other"), "other file of " + name + "\n");
            items.put(name, nix.addSource(dir.getParent()));
        }
        items.put("leaf", nix.toFile("leaf", "a leaf"));
        items.put("whole-deleted", nix.toFile("whole-deleted", "nothing refers to this"));
        items.put("user", nix.toFile("user", "uses " + items.get("leaf"), items.get("leaf")));
        return items;
    }

    /** One damage per item, as a failing disk, a crash or a person with root can do it. */
    private static void damage(NixOracle nix, Map<String, String> items) throws IOException {
        Path changed = writable(nix, items.get("changed")).resolve("data");
        byte[] bytes = Files.readAllBytes(changed);
        bytes[3] ^= 1;
        Files.write(changed, bytes);
        Files.newOutputStream(writable(nix, items.get("truncated")).resolve("data"),
            StandardOpenOption.TRUNCATE_EXISTING).close();
        Files.delete(writable(nix, items.get("file-deleted")).resolve("sub/other"));
        Files.setPosixFilePermissions(nix.physicalPath(items.get("writable")).resolve("data"),
            PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(nix.physicalPath(items.get("made-executable")).resolve("data"),
            PosixFilePermissions.fromString("r-xr-xr-x"));
        Files.writeString(writable(nix, items.get("added")).resolve("sub/new"), "added\n");
        FileTrees.deleteTree(nix.physicalPath(items.get("whole-deleted")));
    }

    /** Makes an item's directories and files writable (they are 0555/0444) and returns its path. */
    private static Path writable(NixOracle nix, String item) throws IOException {
        Path top = nix.physicalPath(item);
        try (var walk = Files.walk(top)) {
            for (Path p : walk.toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p)
                    ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        return top;
    }

    /** The items {@code nix-store --verify --check-contents} calls modified or disappeared. */
    private static Set<String> nixDamage(NixOracle nix) throws IOException {
        NixOracle.Outcome outcome = nix.nixStoreOutcome("--verify", "--check-contents");
        Set<String> damaged = new TreeSet<>();
        Matcher matcher = NIX_DAMAGE.matcher(outcome.stderr());
        while (matcher.find()) {
            damaged.add(matcher.group(1));
        }
        assertEquals(damaged.isEmpty() ? 0 : 1, outcome.status(), outcome.stderr());
        return damaged;
    }

    /** The paths of {@code granary verify}'s finding lines ({@code KIND PATH …}), by kind. */
    private static Map<String, Set<String>> findingsByKind(List<String> lines) {
        Map<String, Set<String>> byKind = new LinkedHashMap<>();
        for (String line : lines) {
            if (line.isEmpty()) {
                break; // the summary table follows
            }
            String[] words = line.split(" ", 3);
            String path = words[1].endsWith(":") ? words[1].substring(0, words[1].length() - 1) : words[1];
            byKind.computeIfAbsent(words[0], k -> new TreeSet<>()).add(path);
        }
        return byKind;
    }
}
