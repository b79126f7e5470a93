package org.granary.nar.testing;

import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * A jqwik hook for the hostile-input properties: their {@code @Property(tries = …)} is the small count of
 * a plain build; the system property {@value #PROPERTY} (set by the Maven profile
 * {@code full-reliability}, for example to 100,000) replaces it. Add it with
 * {@code @AddLifecycleHook(FullTries.class)}.
 */
public final class FullTries implements AroundPropertyHook {
    /** The system property giving the tries of every hostile-input property. */
    public static final String PROPERTY = "granary.hostile.tries";

    @Override
    public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
        Integer tries = Integer.getInteger(PROPERTY);
        if (tries != null) {
            context.attributes().setTries(tries);
        }
        return property.execute();
    }
}
