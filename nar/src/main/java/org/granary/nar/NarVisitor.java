package org.granary.nar;

import java.io.IOException;
import java.io.InputStream;

/**
 * The events of a NAR parsed by {@link NarReader#read}, in the order of the NAR. A directory gives
 * {@link #directoryStart()}, then for each entry {@link #entry} followed by that entry's own events, then
 * {@link #directoryEnd()}. Every event comes after the reader has checked the bytes it stands for (names
 * and targets valid, entries sorted), but before the rest of the NAR has been read: a NAR can still turn
 * out malformed after many events.
 *
 * <p>The default methods do nothing, so a visitor overrides only what it needs (contents it does not read
 * are skipped). An exception thrown by a method stops the reader and reaches its caller unchanged.
 * Thread safety is up to the implementation; the reader calls it from the reading thread only.
 */
public interface NarVisitor {

    /**
     * A regular file of {@code size} bytes. {@code contents} yields exactly {@code size} bytes (it throws
     * {@link NarFormatException} if the NAR ends first); the visitor may read fewer and the reader skips
     * the rest. The stream is valid only during this call, and closing it does nothing.
     *
     * @param executable whether the file is executable
     * @param size the file's length in bytes
     * @param contents the file's bytes
     * @throws IOException to stop the reader
     */
    default void regular(boolean executable, long size, InputStream contents) throws IOException {}

    /**
     * A symlink; {@code target} is 1 to 4095 bytes without NUL, a fresh array the visitor may keep.
     *
     * @param target the link's target
     * @throws IOException to stop the reader
     */
    default void symlink(byte[] target) throws IOException {}

    /**
     * The start of a directory; its entries follow.
     *
     * @throws IOException to stop the reader
     */
    default void directoryStart() throws IOException {}

    /**
     * The name of the next entry of the current directory, followed by the events of its node.
     * {@code name} is 1 to 255 bytes, not {@code .} or {@code ..}, without {@code /} or NUL, after the
     * previous entry in unsigned byte order; a fresh array the visitor may keep.
     *
     * @param name the entry's name
     * @throws IOException to stop the reader
     */
    default void entry(byte[] name) throws IOException {}

    /**
     * The end of the current directory.
     *
     * @throws IOException to stop the reader
     */
    default void directoryEnd() throws IOException {}
}
