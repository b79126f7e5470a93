package org.granary.store;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import org.granary.nar.testing.Allocation;
import org.granary.nar.testing.FullTries;
import org.granary.nar.testing.Mutator;
import org.granary.nar.testing.OwnExceptions;

/**
 * Hostile registration texts (issue 7): mutations of generated reg-info and dump-db texts, read by
 * {@link RegistrationReader} in both forms. Each is read to its end or refused with a
 * {@link RegistrationFormatException}, and nothing is allocated in proportion to a count or a line.
 * The tries are a plain build's; {@code -Pfull-reliability} runs 100,000 of each.
 */
class RegistrationHostileInputTest {
    private static final long ALLOCATION_ALLOWANCE = 1 << 20;
    private static final Mutator MUTATOR = new Mutator(HostileSeeds.registrationDictionary());

    @Provide
    Arbitrary<byte[]> hostileRegInfo() {
        return mutations(HostileSeeds.registrations(false));
    }

    @Provide
    Arbitrary<byte[]> hostileDumpDb() {
        return mutations(HostileSeeds.registrations(true));
    }

    private static Arbitrary<byte[]> mutations(Arbitrary<byte[]> seeds) {
        return Arbitraries.frequencyOf(Tuple.of(1, seeds), Tuple.of(6, MUTATOR.mutationsOf(seeds)));
    }

    @Property(tries = 200, edgeCases = EdgeCasesMode.NONE)
    @AddLifecycleHook(FullTries.class)
    void regInfoIsReadOrRefusedWithItsOwnException(@ForAll("hostileRegInfo") byte[] text) throws Throwable {
        check(text, false);
    }

    @Property(tries = 200, edgeCases = EdgeCasesMode.NONE)
    @AddLifecycleHook(FullTries.class)
    void dumpDbIsReadOrRefusedWithItsOwnException(@ForAll("hostileDumpDb") byte[] text) throws Throwable {
        check(text, true);
    }

    private static void check(byte[] text, boolean hashGiven) throws Throwable {
        InputStream in = new ByteArrayInputStream(text);
        Throwable[] thrown = {null};
        long allocated = Allocation.bytesAllocatedBy(() -> {
            RegistrationReader reader = hashGiven ? RegistrationReader.hashGiven(in, HostileSeeds.STORE)
                : RegistrationReader.regInfo(in, HostileSeeds.STORE);
            reader.readAll();
        }, t -> thrown[0] = t);
        OwnExceptions.expect(thrown[0], text, RegistrationFormatException.class);
        // The reader's own 64 KiB buffer, plus what the items read hold.
        assertTrue(allocated < ALLOCATION_ALLOWANCE + 64L * text.length,
            "reading " + text.length + " bytes allocated " + allocated + " bytes");
    }
}
