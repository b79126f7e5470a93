package org.granary.verify;

/**
 * Every test of {@link StoreVerifierTest} again with contents hashed in Java ({@link org.granary.nar.NarDumper}),
 * the path taken where the {@link org.granary.store.NativeNarHasher} is not available and, item by item, wherever it gives up.
 */
class StoreVerifierJavaHashingTest extends StoreVerifierTest {
    @Override
    StoreVerifier verifier() {
        return new StoreVerifier(store().config, false);
    }
}
