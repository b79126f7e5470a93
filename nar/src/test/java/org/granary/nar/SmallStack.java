package org.granary.nar;

import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a task on a thread with a small stack (256 KiB), so that code recursing once per level of a
 * tree a few thousand levels deep would overflow it: proof that a walk uses an explicit stack.
 */
final class SmallStack {
    private static final long STACK_BYTES = 256 * 1024;

    private SmallStack() {}

    interface Task {
        void run() throws Exception;
    }

    static void run(Task task) throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread thread = new Thread(null, () -> {
            try {
                task.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "small-stack", STACK_BYTES);
        thread.start();
        thread.join();
        Throwable e = failure.get();
        if (e instanceof Exception exception) {
            throw exception;
        }
        if (e instanceof Error error) {
            throw error;
        }
    }
}
