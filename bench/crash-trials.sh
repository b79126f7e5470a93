#!/usr/bin/env bash
# The crash harness at full count (issue 7): a child JVM runs a seeded random workload of every store
# operation (adds of text, source trees, fixed-output items and NARs, imports of exports, reg-info and
# dump-db registrations, invalidations) and is killed with SIGKILL at TRIALS random moments; after each
# kill the store is checked whole (see store-core/src/test/java/org/granary/store/CrashHarness.java).
# Then the same with collections and repairs in the workload (CollectRepairCrashTest in verify): after
# each kill verify --contents finds only leftovers, and a collection rooting every valid path removes them.
#
#   bench/crash-trials.sh [TRIALS [SEED]]      defaults: 200 trials, a seed from the clock
#
# Prints the harness's summary (steps by operation, paths reported valid, leftovers) with the seed; a
# failure names the seed and the trial, and the same seed replays the same workload.
set -euo pipefail
cd "$(dirname "$0")/.."
TRIALS=${1:-200}
SEED=${2:-$(date +%s%N)}
echo "crash harness: $TRIALS trials, seed $SEED"
start=$(date +%s)
# -am builds nar in the same reactor, so nothing is installed into ~/.m2.
log=$(mktemp)
status=0
mvn -B -q -o verify -pl store-core,verify -am -Dtest='LocalStoreCrashTest#aProcessKilled*,CollectRepairCrashTest' \
    -Dsurefire.failIfNoSpecifiedTests=false \
    -Dgranary.crash.trials="$TRIALS" -Dgranary.crash.seed="$SEED" >"$log" 2>&1 || status=$?
grep -v -e 'junit-platform.properties' -e 'LauncherConfigurationParameters' -e '^- ' "$log" || true
rm -f "$log"
echo "wall time: $(( $(date +%s) - start )) s, exit status $status"
exit "$status"
