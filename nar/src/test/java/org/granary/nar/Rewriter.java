package org.granary.nar;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayDeque;

/** Replays a reader's events into a {@link NarWriter}: the reader and writer must agree on every NAR. */
final class Rewriter implements NarVisitor {
    private final ArrayDeque<NarWriter.Directory> directories = new ArrayDeque<>();
    private NarWriter.Node next;

    Rewriter(NarWriter.Node root) {
        next = root;
    }

    /** Parses {@code nar} and writes its events back out; returns the bytes written. */
    static byte[] rewrite(byte[] nar) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(nar.length);
        NarReader.read(new ByteArrayInputStream(nar), new Rewriter(NarWriter.begin(out)));
        return out.toByteArray();
    }

    @Override
    public void regular(boolean executable, long size, InputStream contents) throws IOException {
        try (OutputStream out = next.regular(executable, size)) {
            contents.transferTo(out);
        }
    }

    @Override
    public void symlink(byte[] target) throws IOException {
        next.symlink(target);
    }

    @Override
    public void directoryStart() throws IOException {
        directories.push(next.directory());
    }

    @Override
    public void entry(byte[] name) throws IOException {
        next = directories.element().entry(name);
    }

    @Override
    public void directoryEnd() throws IOException {
        directories.pop().close();
    }
}
