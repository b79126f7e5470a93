package org.granary.store;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.granary.nar.NarDumper;

/** Builds export streams byte by byte, valid or not, for the tests of {@link ExportReader}. */
final class ExportBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    ExportBytes num(long value) {
        ExportWire.putLong(out, value);
        return this;
    }

    ExportBytes str(String text) {
        ExportWire.putString(out, text);
        return this;
    }

    ExportBytes raw(byte[] bytes) {
        out.write(bytes, 0, bytes.length);
        return this;
    }

    /** The NAR of a one-file tree holding {@code contents}. */
    ExportBytes nar(Path scratch, String contents) {
        try {
            Path file = Files.createTempFile(scratch, "nar-", ".txt");
            Files.writeString(file, contents);
            new NarDumper().dump(file, out);
            Files.delete(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    int size() {
        return out.size();
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
