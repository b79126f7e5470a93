package org.granary.nar.testing;

import java.lang.management.ManagementFactory;

/**
 * Measures the heap bytes the current thread allocates while it runs something, through HotSpot's
 * per-thread allocation counter: to show that a parser allocates nothing in proportion to a length
 * field it reads. Not a timing: the count is exact up to the JVM's bookkeeping.
 */
public final class Allocation {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private Allocation() {}

    /** Something to measure, which may throw anything. */
    @FunctionalInterface
    public interface Action {
        /** Runs it. */
        void run() throws Throwable;
    }

    /**
     * Runs {@code action} and returns the bytes this thread allocated meanwhile; whatever it throws is
     * handed to {@code failure} (null to rethrow), so that a rejected input is measured too.
     */
    public static long bytesAllocatedBy(Action action, java.util.function.Consumer<Throwable> failure) throws Throwable {
        long thread = Thread.currentThread().getId();
        long before = THREADS.getThreadAllocatedBytes(thread);
        try {
            action.run();
        } catch (Throwable t) {
            if (failure == null) {
                throw t;
            }
            failure.accept(t);
        }
        return THREADS.getThreadAllocatedBytes(thread) - before;
    }
}
