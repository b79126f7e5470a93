#!/usr/bin/env bash
# The stress test at full length (issue 7): two processes of four threads each add, import, query, take
# temporary roots, collect garbage and check contents on one store at once for SECONDS; afterwards
# nothing rooted, temporarily rooted or added is gone and verify --contents finds nothing (see
# verify/src/test/java/org/granary/verify/StressTest.java).
#
#   bench/stress.sh [SECONDS]      default: 60
#
# Prints operations per second (by operation and process), the paths kept valid, the garbage collected
# and the peak RSS of a process (VmHWM).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-60}
start=$(date +%s)
# -am builds the modules below in the same reactor, so nothing is installed into ~/.m2.
log=$(mktemp)
status=0
mvn -B -q -o verify -pl verify -am -Dtest='StressTest' -Dsurefire.failIfNoSpecifiedTests=false \
    -Dgranary.stress.seconds="$SECONDS_TO_RUN" >"$log" 2>&1 || status=$?
grep -v -e 'junit-platform.properties' -e 'LauncherConfigurationParameters' -e '^- ' "$log" || true
rm -f "$log"
echo "wall time: $(( $(date +%s) - start )) s, exit status $status"
exit "$status"
