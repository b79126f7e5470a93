package org.granary.nar;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Records a reader's events as short strings, for example {@code entry a}, {@code file x 5 hello}. */
final class EventLog implements NarVisitor {
    final List<String> events = new ArrayList<>();

    /** The events of {@code nar}, which must be valid and have nothing after it. */
    static List<String> of(byte[] nar) throws IOException {
        EventLog log = new EventLog();
        long size = NarReader.read(new ByteArrayInputStream(nar), log);
        if (size != nar.length) {
            throw new AssertionError("read " + size + " of " + nar.length + " bytes");
        }
        return log.events;
    }

    @Override
    public void regular(boolean executable, long size, InputStream contents) throws IOException {
        events.add((executable ? "exec " : "file ") + size + " " + utf8(contents.readAllBytes()));
    }

    @Override
    public void symlink(byte[] target) {
        events.add("symlink " + utf8(target));
    }

    @Override
    public void directoryStart() {
        events.add("{");
    }

    @Override
    public void entry(byte[] name) {
        events.add("entry " + utf8(name));
    }

    @Override
    public void directoryEnd() {
        events.add("}");
    }

    private static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
