package org.granary.store;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * Valid inputs for the hostile-input properties of the store's parsers, which mutate them: store paths,
 * export streams (NARs encoded by hand: files, symlinks, small directories) and registration texts.
 */
final class HostileSeeds {
    static final String STORE = "/gnu/store";
    private static final String NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-._?=";

    private HostileSeeds() {
    }

    static Arbitrary<StorePath> paths() {
        Arbitrary<String> hashParts = Arbitraries.strings().withChars(NixBase32.ALPHABET.toCharArray()).ofLength(32);
        Arbitrary<String> names = Arbitraries.strings().withChars(NAME_CHARS.toCharArray())
            .ofMinLength(1).ofMaxLength(30).filter(n -> n.charAt(0) != '.');
        return Combinators.combine(hashParts, names).as((h, n) -> new StorePath(STORE, h, n));
    }

    /** Export streams of one to three items, each a small NAR, with references among them and a deriver. */
    static Arbitrary<byte[]> exports() {
        Arbitrary<byte[]> nars = Arbitraries.oneOf(
            Combinators.combine(Arbitraries.of(true, false), Arbitraries.bytes().array(byte[].class).ofMaxSize(24))
                .as(HostileSeeds::fileNar),
            Arbitraries.strings().withChars("ab./").ofMinLength(1).ofMaxLength(12).map(HostileSeeds::symlinkNar),
            Arbitraries.bytes().array(byte[].class).ofMaxSize(24).map(HostileSeeds::directoryNar));
        Arbitrary<Item> item = Combinators.combine(paths(), nars, paths().injectNull(0.6), Arbitraries.of(true, false))
            .as(Item::new);
        return item.list().ofMinSize(1).ofMaxSize(3).map(HostileSeeds::export);
    }

    /** The reg-info (or, with {@code hashGiven}, dump-db) text of up to four items. */
    static Arbitrary<byte[]> registrations(boolean hashGiven) {
        Arbitrary<PathInfo> info = Combinators.combine(paths(), Arbitraries.bytes().array(byte[].class).ofSize(32),
                Arbitraries.longs().between(0, Long.MAX_VALUE), paths().list().ofMaxSize(3), paths().injectNull(0.5))
            .as((p, h, size, refs, deriver) -> PathInfo.of(p, Hash.of(HashAlgorithm.SHA256, h), size, refs, 0)
                .withDeriver(deriver));
        return info.list().ofMaxSize(4).map(infos -> {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (Writer out = new OutputStreamWriter(bytes, StandardCharsets.UTF_8)) {
                RegistrationWriter writer = new RegistrationWriter(out, hashGiven);
                for (PathInfo i : infos) {
                    writer.write(i);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return bytes.toByteArray();
        });
    }

    /** The tokens of exports and NARs, encoded, for the mutator to insert and write over. */
    static List<byte[]> exportDictionary() {
        List<byte[]> tokens = new ArrayList<>();
        for (String token : List.of("(", ")", "type", "regular", "contents", "symlink", "target", "directory", "entry",
                "name", "node", "nix-archive-1", "..", "", STORE + "/" + "0".repeat(32) + "-a", STORE + "/../etc",
                "/nix/store/" + "1".repeat(32) + "-b", "NIXE")) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ExportWire.putString(out, token);
            tokens.add(out.toByteArray());
        }
        for (long word : new long[] {ExportWire.ITEM, ExportWire.END, ExportWire.MAGIC, 1L << 62}) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ExportWire.putLong(out, word);
            tokens.add(out.toByteArray());
        }
        return tokens;
    }

    /** Lines and pieces of lines of the registration texts. */
    static List<byte[]> registrationDictionary() {
        return List.of("\n", "\r\n", "0\n", "1\n", "01\n", "-1\n", "+1\n", "99999999999999999999\n", "16777216\n",
                "9223372036854775807\n", STORE + "/", STORE + "/" + "0".repeat(32) + "-a\n", "/nix/store/", "sha256:",
                "md5:", "\u0661", "\0", "e", "/../", "a".repeat(300))
            .stream().map(s -> s.getBytes(StandardCharsets.UTF_8)).toList();
    }

    private record Item(StorePath path, byte[] nar, StorePath deriver, boolean signed) {
    }

    private static byte[] export(List<Item> items) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<StorePath> earlier = new ArrayList<>();
        for (Item item : items) {
            ExportWire.putLong(out, ExportWire.ITEM);
            out.writeBytes(item.nar());
            ExportWire.putLong(out, ExportWire.MAGIC);
            ExportWire.putString(out, item.path().toString());
            List<StorePath> refs = new ArrayList<>(new java.util.TreeSet<>(earlier));
            refs.remove(item.path());
            ExportWire.putLong(out, refs.size());
            refs.forEach(r -> ExportWire.putString(out, r.toString()));
            ExportWire.putString(out, item.deriver() == null ? "" : item.deriver().toString());
            ExportWire.putLong(out, item.signed() ? ExportWire.SIGNED : ExportWire.UNSIGNED);
            if (item.signed()) {
                ExportWire.putString(out, "cache.example.org-1:c2lnbmF0dXJl");
            }
            earlier.add(item.path());
        }
        ExportWire.putLong(out, ExportWire.END);
        return out.toByteArray();
    }

    static byte[] fileNar(boolean executable, byte[] contents) {
        ByteArrayOutputStream out = tokens("nix-archive-1", "(", "type", "regular");
        if (executable) {
            put(out, "executable", "");
        }
        put(out, "contents");
        putBytes(out, contents);
        put(out, ")");
        return out.toByteArray();
    }

    static byte[] symlinkNar(String target) {
        ByteArrayOutputStream out = tokens("nix-archive-1", "(", "type", "symlink", "target", target, ")");
        return out.toByteArray();
    }

    /** A directory with a file {@code f} holding {@code contents} and a symlink {@code l} to it. */
    static byte[] directoryNar(byte[] contents) {
        ByteArrayOutputStream out = tokens("nix-archive-1", "(", "type", "directory", "entry", "(", "name", "f",
            "node", "(", "type", "regular", "contents");
        putBytes(out, contents);
        put(out, ")", ")", "entry", "(", "name", "l", "node", "(", "type", "symlink", "target", "f", ")", ")", ")");
        return out.toByteArray();
    }

    private static ByteArrayOutputStream tokens(String... tokens) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        put(out, tokens);
        return out;
    }

    private static void put(ByteArrayOutputStream out, String... tokens) {
        Arrays.stream(tokens).forEach(t -> ExportWire.putString(out, t));
    }

    private static void putBytes(ByteArrayOutputStream out, byte[] bytes) {
        ExportWire.putLong(out, bytes.length);
        out.writeBytes(bytes);
        out.writeBytes(new byte[ExportWire.padding(bytes.length)]);
    }
}
