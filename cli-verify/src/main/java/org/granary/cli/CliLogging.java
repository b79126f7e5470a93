package org.granary.cli;

/**
 * The level of the library's log messages for one run of the command, given to the SLF4J simple binding
 * (the only binding, and only in this module: embedders bring their own). The format is in
 * {@code simplelogger.properties}; the level comes from {@code --verbose} and {@code --quiet}.
 *
 * <p>The binding reads its configuration once, when the first logger is made, so the level holds for the
 * whole JVM: {@link Granary#main} runs one command line per JVM. A level the user set with
 * {@code -Dorg.slf4j.simpleLogger.defaultLogLevel} (through {@code GRANARY_JAVA_OPTS}) is kept.
 */
final class CliLogging {
    static final String LEVEL_PROPERTY = "org.slf4j.simpleLogger.defaultLogLevel";

    private CliLogging() {
    }

    /** Warnings by default, down to debug with {@code --verbose}, errors only with {@code --quiet}. */
    static void configure(boolean verbose, boolean quiet) {
        if (System.getProperty(LEVEL_PROPERTY) == null) {
            System.setProperty(LEVEL_PROPERTY, verbose ? "debug" : quiet ? "error" : "warn");
        }
    }
}
