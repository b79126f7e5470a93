package org.granary.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.granary.cli.GranaryCommandTest.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * What every command of the tree promises, checked on the whole tree as the definitions give it (so a
 * command added later is held to it too): help with examples, the global options, one-line errors, and a
 * completion script that completes the commands and options in a real bash.
 */
class CommandConventionsTest {
    @TempDir
    Path tmp;

    /** Every command and subcommand, as the words a user types, the root first. */
    static List<List<String>> allCommands() {
        List<List<String>> commands = new ArrayList<>();
        collect(Granary.commandLine(new Granary(null, null), new String[0]), new ArrayList<>(), commands);
        return commands;
    }

    private static void collect(CommandLine command, List<String> words, List<List<String>> into) {
        into.add(List.copyOf(words));
        for (var sub : command.getSubcommands().entrySet()) {
            words.add(sub.getKey());
            collect(sub.getValue(), words, into);
            words.remove(words.size() - 1);
        }
    }

    private static Run run(List<String> words, String... more) {
        List<String> args = new ArrayList<>(words);
        args.addAll(Arrays.asList(more));
        return GranaryCommandTest.run(args.toArray(String[]::new));
    }

    @Test
    void everyCommandHasHelpWithExamplesAndTheGlobalOptions() {
        List<List<String>> commands = allCommands();
        assertTrue(commands.size() > 15, commands.toString());
        for (List<String> command : commands) {
            for (String help : List.of("--help", "-h")) {
                Run run = run(command, help);
                assertEquals(0, run.status(), command + " " + help + ": " + run.stderr());
                String text = run.out();
                assertTrue(text.contains("Usage:"), text);
                assertTrue(text.contains("Example"), "no example in the help of " + command);
                for (String option : List.of("-v, --verbose", "-q, --quiet", "-h, --help")) {
                    assertTrue(text.contains(option), command + " lacks " + option + ":\n" + text);
                }
            }
        }
    }

    @Test
    void theGlobalOptionsGoBeforeOrAfterTheCommand() throws IOException {
        Path file = Files.writeString(tmp.resolve("hello.txt"), "hello\n");
        String hash = "04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw";
        for (String[] args : List.of(
                new String[] {"-q", "hash", "path", file.toString()},
                new String[] {"hash", "-v", "path", file.toString()},
                new String[] {"hash", "path", "--quiet", file.toString()},
                new String[] {"hash", "path", file.toString(), "--verbose"})) {
            Run run = GranaryCommandTest.run(args);
            assertEquals(0, run.status(), String.join(" ", args) + ": " + run.stderr());
            assertEquals(List.of(hash), run.lines(), String.join(" ", args));
        }
    }

    @Test
    void verboseAndQuietTogetherAreAUsageErrorOnOneLine() {
        Run run = GranaryCommandTest.run("-v", "hash", "path", "-q", tmp.toString());
        assertEquals(Granary.EXIT_USAGE, run.status());
        assertEquals(1, run.stderr().lines().count(), run.stderr());
        assertTrue(run.stderr().startsWith("granary: --verbose and --quiet"), run.stderr());
        assertTrue(run.stderr().contains("'granary hash path --help'"), run.stderr());
    }

    @Test
    void usageErrorsAreOneLineNamingTheHelpToRead() {
        for (String[] args : List.of(new String[] {"no-such-command"}, new String[] {"query", "--bogus"},
                new String[] {"nar", "dump"}, new String[] {})) {
            Run run = GranaryCommandTest.run(args);
            assertEquals(Granary.EXIT_USAGE, run.status(), String.join(" ", args));
            assertEquals(1, run.stderr().lines().count(), run.stderr());
            assertTrue(run.stderr().matches("granary: .* \\(see 'granary[a-z -]* --help'\\)\\R"), run.stderr());
        }
    }

    @Test
    void failuresAreOneLineAndTheStackTraceComesOnlyWithVerbose() {
        String missing = tmp.resolve("missing").toString();
        Run plain = GranaryCommandTest.run("nar", "dump", missing);
        assertEquals(Granary.EXIT_FAILURE, plain.status());
        assertEquals(List.of("granary: " + missing + ": no such file or directory"), plain.stderr().lines().toList());
        Run verbose = GranaryCommandTest.run("-v", "nar", "dump", missing);
        assertEquals(Granary.EXIT_FAILURE, verbose.status());
        assertTrue(verbose.stderr().lines().count() > 2, verbose.stderr());
        assertTrue(verbose.stderr().contains("\tat "), verbose.stderr());
    }

    @Test
    void versionNeedsNoSubcommandAndHelpStillListsThemAll() {
        Run version = GranaryCommandTest.run("-V");
        assertEquals(0, version.status());
        assertTrue(version.out().startsWith("granary "), version.out());
        Run help = GranaryCommandTest.run("--version", "--help");
        assertEquals(0, help.status());
        for (List<String> command : allCommands()) {
            if (command.size() == 1) {
                assertTrue(help.out().contains("  " + command.get(0) + " "), command + "\n" + help.out());
            }
        }
    }

    @Test
    void theCompletionScriptCompletesCommandsAndOptionsInBash() throws Exception {
        Run script = GranaryCommandTest.run("completion", "bash");
        assertEquals(0, script.status(), script.stderr());
        Path file = Files.write(tmp.resolve("granary.bash"), script.stdout());
        assertEquals(script.out(), GranaryCommandTest.run("completion").out(), "bash is the default");
        assertEquals(List.of("query"), complete(file, "granary", "qu"));
        assertEquals(List.of("store-path"), complete(file, "granary", "st"));
        assertEquals(List.of("--references", "--referrers", "--referrers-closure", "--requisites"),
            complete(file, "granary", "query", "--re").stream().sorted().toList());
        assertEquals(List.of("dump"), complete(file, "granary", "nar", "du"));
        assertTrue(complete(file, "granary", "").containsAll(
            allCommands().stream().filter(c -> c.size() == 1).map(c -> c.get(0)).toList()));
    }

    @Test
    void completionForAnotherShellIsAUsageError() {
        Run run = GranaryCommandTest.run("completion", "fish");
        assertEquals(Granary.EXIT_USAGE, run.status());
        assertTrue(run.stderr().contains("fish"), run.stderr());
    }

    /** What bash offers for the last word, with the script loaded as bash-completion would load it. */
    private static List<String> complete(Path script, String... words) throws Exception {
        String line = String.join(" ", words);
        StringBuilder array = new StringBuilder();
        for (String word : words) {
            array.append(" '").append(word).append('\'');
        }
        String program = "source '" + script + "'\n"
            + "COMP_WORDS=(" + array + ")\n"
            + "COMP_CWORD=" + (words.length - 1) + "\n"
            + "COMP_LINE='" + line + "'\n"
            + "COMP_POINT=" + line.length() + "\n"
            + "_complete_granary granary '" + words[words.length - 1] + "' '" + words[words.length - 2] + "'\n"
            + "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
        Process bash = new ProcessBuilder("bash", "-c", program).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, bash.waitFor(), out);
        return out.lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
    }
}
