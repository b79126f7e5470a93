package org.granary.store;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Builds the input a recipe of nix-store-paths.tsv describes; the grammar is in the header of
 * scripts/store-path-vectors.sh, which builds the same inputs for Nix.
 */
final class InputRecipe {
    private InputRecipe() {
    }

    /** Creates the file, symlink or directory {@code recipe} describes at {@code target}. */
    static void materialise(String recipe, Path target) throws IOException {
        int colon = recipe.indexOf(':');
        String kind = recipe.substring(0, colon + 1);
        String rest = recipe.substring(colon + 1);
        switch (kind) {
            case "file:" -> Files.write(target, unescape(rest));
            case "exec:" -> {
                Files.write(target, unescape(rest));
                Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            case "repeat:" -> {
                int count = Integer.parseInt(rest.substring(0, rest.indexOf(':')));
                byte[] unit = unescape(rest.substring(rest.indexOf(':') + 1));
                try (var out = Files.newOutputStream(target)) {
                    for (int i = 0; i < count; i++) {
                        out.write(unit);
                    }
                }
            }
            case "link:" -> Files.createSymbolicLink(target, Path.of(text(rest)));
            case "dir:" -> Files.createDirectory(target);
            case "tree:" -> {
                Files.createDirectory(target);
                for (String entry : rest.split(";")) {
                    Path path = target.resolve(text(entry.substring(0, entry.indexOf('='))));
                    Files.createDirectories(path.getParent());
                    materialise(entry.substring(entry.indexOf('=') + 1), path);
                }
            }
            default -> throw new IllegalArgumentException("unknown recipe " + recipe);
        }
    }

    /** The bytes a BYTES field stands for: {@code \n}, {@code \t}, {@code \\}, {@code \xHH}, else ASCII. */
    static byte[] unescape(String escaped) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < escaped.length(); i++) {
            char c = escaped.charAt(i);
            if (c != '\\') {
                if (c < 0x20 || c > 0x7e) {
                    throw new IllegalArgumentException("raw character U+" + Integer.toHexString(c) + " in " + escaped);
                }
                out.write(c);
                continue;
            }
            char next = escaped.charAt(++i);
            switch (next) {
                case 'n' -> out.write('\n');
                case 't' -> out.write('\t');
                case '\\' -> out.write('\\');
                case 'x' -> {
                    out.write(Integer.parseInt(escaped.substring(i + 1, i + 3), 16));
                    i += 2;
                }
                default -> throw new IllegalArgumentException("unknown escape \\" + next + " in " + escaped);
            }
        }
        return out.toByteArray();
    }

    /** A file name or symlink target: its bytes read as UTF-8, the charset the tests run with. */
    private static String text(String escaped) {
        return new String(unescape(escaped), UTF_8);
    }
}
