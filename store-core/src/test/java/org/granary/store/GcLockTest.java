package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GcLockTest {
    @TempDir
    Path stateDir;

    @Test
    void sharedHoldersCoexistAndExcludeTheCollector() throws Exception {
        GcLock lock = GcLock.at(stateDir);
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            GcLock.Held first = lock.lockShared();
            GcLock.Held second = other.submit(() -> GcLock.at(stateDir).lockShared()).get(5, TimeUnit.SECONDS);
            assertFalse(second.exclusive());
            assertEquals(Optional.empty(), lock.tryLockExclusive());
            first.close();
            assertEquals(Optional.empty(), lock.tryLockExclusive());
            second.close();
            second.close();
            GcLock.Held collector = lock.tryLockExclusive().orElseThrow();
            assertTrue(collector.exclusive());
            Future<GcLock.Held> reader = other.submit(lock::lockShared);
            assertThrows(TimeoutException.class, () -> reader.get(200, TimeUnit.MILLISECONDS));
            collector.close();
            reader.get(5, TimeUnit.SECONDS).close();
        } finally {
            other.shutdownNow();
        }
    }
}
