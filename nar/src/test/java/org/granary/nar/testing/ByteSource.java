package org.granary.nar.testing;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Something that writes a byte stream, such as {@code out -> new NarDumper().dump(tree, out)}: the push
 * side of {@link StreamAssertions#assertSameBytes}.
 */
@FunctionalInterface
public interface ByteSource {

    /** Writes the whole stream to {@code out} (without closing it). */
    void writeTo(OutputStream out) throws IOException;
}
