package org.granary.nar.testing;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.granary.nar.FileTrees;

/**
 * A directory for hostile-input tests: {@code work/}, where the code under test may write, next to
 * {@code canary/}, which hostile inputs aim at (symlinks to it, names climbing to it) and which must never
 * change. {@link #assertUntouched()} compares the canary and the sandbox's own entries with their state
 * at creation, without following symlinks.
 *
 * <p>Not thread-safe.
 */
public final class Sandbox implements AutoCloseable {
    private final Path root;
    private final Map<String, String> canaryState;

    private Sandbox(Path root) throws IOException {
        this.root = root;
        Files.createDirectories(root.resolve("work"));
        Path canary = Files.createDirectories(root.resolve("canary").resolve("dir"));
        Files.writeString(canary.getParent().resolve("secret"), "must not change\n");
        Files.writeString(canary.resolve("inner"), "must not change either\n");
        Files.createSymbolicLink(canary.getParent().resolve("link"), Path.of("secret"));
        this.canaryState = state();
    }

    /**
     * Creates a sandbox in a new temporary directory.
     *
     * @return the sandbox; close it to delete it
     * @throws IOException if it cannot be created
     */
    public static Sandbox create() throws IOException {
        return new Sandbox(Files.createTempDirectory("granary-sandbox").toRealPath());
    }

    /** The directory the code under test may write in. */
    public Path work() {
        return root.resolve("work");
    }

    /** The canary directory, which must never change. */
    public Path canary() {
        return root.resolve("canary");
    }

    /** The names in {@code work/}, sorted. */
    public List<String> workEntries() throws IOException {
        try (Stream<Path> entries = Files.list(work())) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Deletes everything in {@code work/}, never following a symlink. */
    public void clearWork() throws IOException {
        try (Stream<Path> entries = Files.list(work())) {
            for (Path entry : entries.toList()) {
                FileTrees.deleteTree(entry);
            }
        }
    }

    /**
     * Throws an {@link AssertionError} naming the difference if the canary or the sandbox's own entries
     * changed (a name, type, size, mode, mtime, owner, link target or file contents).
     */
    public void assertUntouched() throws IOException {
        Map<String, String> now = state();
        if (!now.equals(canaryState)) {
            throw new AssertionError("written outside the target: the sandbox was " + canaryState + " and is " + now);
        }
    }

    private Map<String, String> state() throws IOException {
        Map<String, String> state = new TreeMap<>();
        try (Stream<Path> top = Files.list(root)) {
            state.put("/", top.map(p -> p.getFileName().toString()).sorted().toList().toString());
        }
        try (Stream<Path> walk = Files.walk(canary())) {
            for (Path path : walk.toList()) {
                PosixFileAttributes a = Files.readAttributes(path, PosixFileAttributes.class, NOFOLLOW_LINKS);
                String contents = a.isRegularFile() ? Files.readString(path, StandardCharsets.UTF_8)
                        : a.isSymbolicLink() ? "-> " + Files.readSymbolicLink(path) : "";
                state.put(root.relativize(path).toString(), a.permissions() + " " + a.size() + " "
                        + a.lastModifiedTime() + " " + a.owner() + " " + contents);
            }
        }
        return state;
    }

    @Override
    public void close() throws IOException {
        FileTrees.deleteTree(root);
    }
}
