package org.granary.verify;

import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The result of a verification: every finding, in the order of the checks (database, items, contents,
 * leftovers) and within a check in store-path order, and a summary. Immutable; safe to share between
 * threads.
 *
 * @param findings what was found and what was done about each
 * @param summary the figures of the run
 */
public record Report(List<Finding> findings, Summary summary) {

    /**
     * Copies the findings.
     *
     * @param findings the findings
     * @param summary the summary
     */
    public Report {
        findings = List.copyOf(findings);
        Objects.requireNonNull(summary, "summary");
    }

    /**
     * Says whether the store is sound: no damage remains (it had none, or all of it was repaired or
     * invalidated). Leftovers do not count.
     *
     * @return whether no finding {@link Finding#remains() remains}
     */
    public boolean sound() {
        return summary.remaining() == 0;
    }

    /**
     * The figures of a run. Immutable; safe to share between threads.
     *
     * @param items valid items checked
     * @param itemsHashed items whose NAR was hashed (0 without the contents check)
     * @param bytesHashed NAR bytes hashed
     * @param byKind how many findings of each kind (every kind present, zero included)
     * @param repaired findings repaired
     * @param invalidated findings resolved by invalidating a missing item
     * @param failed findings whose repair was tried and failed
     * @param remaining findings that are damage and remain
     * @param elapsed wall-clock time of the run
     * @param jobs how many items were hashed at once
     * @param contents whether contents were checked
     * @param repair whether repair was asked for
     * @param atomicExchange whether repairs of directories swap in one step (see {@link VerifyOptions})
     */
    public record Summary(long items, long itemsHashed, long bytesHashed, Map<Finding.Kind, Integer> byKind,
            int repaired, int invalidated, int failed, int remaining, Duration elapsed, int jobs,
            boolean contents, boolean repair, boolean atomicExchange) {

        /**
         * Copies the counts, filling in kinds not given with zero.
         *
         * @param items valid items checked
         * @param itemsHashed items hashed
         * @param bytesHashed bytes hashed
         * @param byKind counts by kind
         * @param repaired repaired
         * @param invalidated invalidated
         * @param failed failed
         * @param remaining remaining
         * @param elapsed time
         * @param jobs parallel hashes
         * @param contents contents checked
         * @param repair repair asked
         * @param atomicExchange one-step swaps available
         */
        public Summary {
            EnumMap<Finding.Kind, Integer> all = new EnumMap<>(Finding.Kind.class);
            for (Finding.Kind kind : Finding.Kind.values()) {
                all.put(kind, byKind.getOrDefault(kind, 0));
            }
            byKind = Map.copyOf(all);
            Objects.requireNonNull(elapsed, "elapsed");
        }

        /**
         * Counts the findings of a report.
         */
        static Summary of(List<Finding> findings, long items, long itemsHashed, long bytesHashed, Duration elapsed,
                int jobs, boolean contents, boolean repair) {
            EnumMap<Finding.Kind, Integer> byKind = new EnumMap<>(Finding.Kind.class);
            int repaired = 0;
            int invalidated = 0;
            int failed = 0;
            int remaining = 0;
            for (Finding finding : findings) {
                byKind.merge(finding.kind(), 1, Integer::sum);
                switch (finding.action()) {
                    case REPAIRED -> repaired++;
                    case INVALIDATED -> invalidated++;
                    case FAILED -> failed++;
                    default -> { }
                }
                if (finding.remains()) {
                    remaining++;
                }
            }
            return new Summary(items, itemsHashed, bytesHashed, byKind, repaired, invalidated, failed, remaining,
                elapsed, jobs, contents, repair, AtomicExchange.available());
        }
    }
}
