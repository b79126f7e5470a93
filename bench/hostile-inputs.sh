#!/usr/bin/env bash
# The hostile-input properties at full count (issue 7): mutations of valid NARs, exports, reg-info and
# dump-db texts, store paths, hashes in every format, nix-base32 strings, narinfo files, keys, signatures
# and compressed NARs, TRIES per parser (a tenth of that for the properties whose every try is costly: NAR
# restores, imports into a store, compressions), then the corpus of the nastiest cases.
#
#   bench/hostile-inputs.sh [TRIES]      default 100000
#
# Prints each property's tries and seed (jqwik's report) and the wall time. A failure prints the input
# in hex; add it to scripts/hostile-corpus.py once the parser is fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
TRIES=${1:-100000}
echo "hostile inputs: $TRIES tries per parser ($((TRIES / 10)) for restores, imports and codecs)"
start=$(date +%s)
log=$(mktemp)
status=0
# -am builds nar in the same reactor, so nothing is installed into ~/.m2.
mvn -B -o verify -pl store-core,verify -am \
    -Dtest='*HostileInputTest,*HostileCorpusTest' -Dsurefire.failIfNoSpecifiedTests=false \
    -Dgranary.hostile.tries="$TRIES" >"$log" 2>&1 || status=$?
grep -E -e '^tries =|^seed =|HostileInputTest:|Tests run:|FAIL|ERROR\]' "$log" | grep -v -e '^\[INFO\] *$' || true
rm -f "$log"
echo "wall time: $(( $(date +%s) - start )) s, exit status $status"
exit "$status"
