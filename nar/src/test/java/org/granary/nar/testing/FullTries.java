package org.granary.nar.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * A jqwik hook for the hostile-input properties: their {@code @Property(tries = …)} is the small count of
 * a plain build; the system property {@value #PROPERTY} (set by the Maven profile
 * {@code full-reliability}, for example to 100,000) replaces it. Add it with
 * {@code @AddLifecycleHook(FullTries.class)}. A property whose every try is costly (a restore or an
 * import writing and syncing files, a compression) and is marked {@link Costly} runs a tenth of that.
 */
public final class FullTries implements AroundPropertyHook {
    /** The system property giving the tries of every hostile-input property. */
    public static final String PROPERTY = "granary.hostile.tries";

    /** Marks a property whose tries are costly: the full count is a tenth of the others'. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.METHOD)
    public @interface Costly {
    }

    @Override
    public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
        Integer tries = Integer.getInteger(PROPERTY);
        if (tries != null) {
            boolean costly = context.targetMethod().isAnnotationPresent(Costly.class);
            context.attributes().setTries(costly ? Math.max(1, tries / 10) : tries);
        }
        return property.execute();
    }
}
