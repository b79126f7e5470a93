package org.granary.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.granary.cli.GranaryCommandTest.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code granary gc} on a root of its own, run in-process. */
class GcCommandTest {
    @TempDir
    Path tmp;

    private Run run(String... args) {
        List<String> all = new ArrayList<>(List.of("gc", "--root", tmp.resolve("r").toString()));
        all.addAll(Arrays.asList(args));
        return GranaryCommandTest.run(all.toArray(String[]::new));
    }

    private String add(String name, String text, String... refs) throws Exception {
        Path file = Files.writeString(tmp.resolve(name + ".txt"), text);
        List<String> args = new ArrayList<>(List.of("add", "--root", tmp.resolve("r").toString(), "--text", "--name", name));
        for (String ref : refs) {
            args.add("--ref");
            args.add(ref);
        }
        args.add(file.toString());
        Run run = GranaryCommandTest.run(args.toArray(String[]::new));
        assertEquals(0, run.status(), run.stderr());
        return run.lines().get(0);
    }

    @Test
    void listsDeletesAndCollectsAsGuixGc() throws Exception {
        String a = add("a", "a");
        String b = add("b", "b " + a, a);
        String c = add("c", "c");
        Path result = Files.createSymbolicLink(tmp.resolve("result"), Path.of(b));
        Files.createSymbolicLink(tmp.resolve("r/var/guix/gcroots/auto/x"), result);

        assertEquals(List.of(c), run("--list-dead").lines());
        assertEquals(sorted(a, b), run("--list-live").lines());
        assertEquals(List.of(result + " -> " + b), run("--list-roots").lines());
        assertEquals(sorted(a, b), run("--requisites", result.toString()).lines());
        assertEquals(List.of(b), run("--referrers", a).lines());

        Run refused = run("-D", a);
        assertEquals(1, refused.status());
        assertTrue(refused.stderr().contains("still alive") && refused.stderr().contains(b), refused.stderr());

        Run collected = run("-C", "1MiB");
        assertEquals(0, collected.status(), collected.stderr());
        assertEquals(1, collected.lines().size(), collected.out());
        assertTrue(collected.lines().get(0).equals("freed 1 bytes (0.00 MiB) in 1 items"), collected.out());
        assertEquals(List.of(), run("--list-dead").lines());
        assertTrue(Files.exists(tmp.resolve("r" + a)));

        Files.delete(result);
        Run stale = run("--list-dead");
        assertEquals(sorted(a, b), stale.lines());
        assertTrue(stale.stderr().contains("stale root"), stale.stderr());
        assertEquals(0, run("-D", b + "/some/file").status(), "a path in an item names the item");
        assertEquals(List.of(a), run("--list-dead").lines());
    }

    @Test
    void verifyIsGuixsHabitForGranaryVerify() throws Exception {
        String a = add("a", "a");
        Run sound = run("--verify=contents,repair");
        assertEquals(0, sound.status(), sound.stderr());
        assertTrue(sound.out().contains("the store is sound"), sound.out());

        Path file = tmp.resolve("r" + a);
        file.toFile().setWritable(true);
        Files.writeString(file, "b");
        file.toFile().setWritable(false, false);
        Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(1000));
        Run damaged = run("--verify=contents");
        assertEquals(1, damaged.status(), damaged.out());
        assertTrue(damaged.out().contains(a), damaged.out());
        assertEquals(0, run("--verify").status(), "without contents, a changed byte is not looked for");

        assertEquals(2, run("--verify=contents,fast").status());
        assertEquals(2, run("--verify", "--list-dead").status(), "one action at a time");
    }

    private static List<String> sorted(String... paths) {
        return Arrays.stream(paths).sorted().toList();
    }

    @Test
    void freeSpaceWithEnoughFreeDoesNothing() {
        Run run = run("-F", "1K");
        assertEquals(0, run.status(), run.stderr());
        assertTrue(run.out().contains("nothing to do"), run.out());
    }

    @Test
    void usageErrors() {
        assertEquals(2, run("-D").status());
        assertEquals(2, run("--list-dead", "/gnu/store/x").status());
        assertEquals(2, run("--list-dead", "--list-live").status());
        assertEquals(2, run("-C", "12 parsecs").status());
    }

    @Test
    void amountsAsGuixSpellsThem() {
        assertEquals(500L << 20, Amounts.parse("500MiB"));
        assertEquals(2L << 30, Amounts.parse("2G"));
        assertEquals(1536, Amounts.parse("1.5K"));
        assertEquals(2_000_000_000L, Amounts.parse("2GB"));
        assertEquals(4096, Amounts.parse("4096"));
        assertThrows(CommandLine.TypeConversionException.class, () -> Amounts.parse("2X"));
        assertThrows(CommandLine.TypeConversionException.class, () -> Amounts.parse("MiB"));
    }
}
