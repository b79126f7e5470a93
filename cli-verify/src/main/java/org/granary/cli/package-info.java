/**
 * The {@code granary} command line: it parses arguments (picocli), calls the library modules and prints;
 * it holds no store logic of its own. Its public API is {@link org.granary.cli.Granary#main}; the
 * commands are package-private and documented by their {@code --help}. This module alone binds SLF4J
 * (to the simple binding, on stderr: warnings by default, debug with {@code --verbose}, errors only with
 * {@code --quiet}).
 */
package org.granary.cli;
