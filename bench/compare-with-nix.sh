#!/usr/bin/env bash
# Compares Granary's NAR engine with Nix (nix-bin) on the same real directory.
#
# Usage: bench/compare-with-nix.sh [DIR [ROUNDS]]
#   DIR           the tree to hash and dump (default /usr/lib/x86_64-linux-gnu: a 1 GB NAR on Debian 12)
#   ROUNDS        timed rounds (default 5)
#   BENCH_TREE_A, BENCH_TREE_B
#                 the two trees hashed in one call, of similar NAR sizes so that two cores can halve
#                 the time (default /usr/lib/jvm and /usr/share: about 0.59 and 0.57 GB on Debian 12)
#   BENCH_CACHE   where the NAR of DIR is kept for openssl (default /dev/shm/granary-bench, a tmpfs;
#                 /tmp/granary-bench without /dev/shm); reused while DIR's nix-hash is unchanged
#
# Build first, from the top of the repository: mvn -q -o -DskipTests package
#
# Before timing, the script checks that Granary and Nix agree: the same NAR hash of DIR, of A and B
# together, and the same NAR bytes of DIR (and openssl's hash of Nix's NAR). Then it runs
# every command once untimed (a warm page cache for all), then ROUNDS rounds in which every command runs
# once, in turn, timed by wall clock (date +%s%N), and prints the medians and these ratios:
#
#   hashing engine  granary hash path DIR, minus the JVM start-up (granary --version),
#                   against nix-hash --type sha256 --base32 DIR         target: at least as fast
#                   and against openssl dgst -sha256 on the cached NAR  target: within 1.15x
#   dump engine     granary nar dump DIR > /dev/null minus start-up,
#                   against nix-store --dump DIR > /dev/null            target: at least as fast
#   two trees       granary hash path A B (whole process),
#                   against nix-hash --type sha256 --base32 A B         target: 1.5x faster
#                   (Granary hashes the two trees on two cores, nix-hash one after the other)
#
# Subtracting the start-up of `granary --version` is an approximation: the hashing run also loads and
# compiles more classes. The exit status is 0 whether or not the targets are met; it is non-zero if the
# outputs disagree or a command fails.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
granary=$top/bin/granary
dir=$(realpath "${1:-/usr/lib/x86_64-linux-gnu}")
rounds=${2:-5}
tree_a=$(realpath "${BENCH_TREE_A:-/usr/lib/jvm}")
tree_b=$(realpath "${BENCH_TREE_B:-/usr/share}")
cache=${BENCH_CACHE:-/dev/shm/granary-bench}
[ -d /dev/shm ] || cache=${BENCH_CACHE:-/tmp/granary-bench}

die() { echo "$0: $*" >&2; exit 1; }

[ -f "$top/cli-verify/target/granary.jar" ] \
  || die "cli-verify/target/granary.jar is missing; build it first: (cd $top && mvn -q -o -DskipTests package)"
for tool in nix-hash nix-store openssl; do
  command -v "$tool" >/dev/null || die "$tool not found on PATH (nix-bin, openssl)"
done
for tree in "$dir" "$tree_a" "$tree_b"; do
  [ -d "$tree" ] || die "$tree is not a directory"
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, not $rounds"

# A private Nix configuration, so that no command can open (and create) the default store.
nixhome=$(mktemp -d)
trap 'rm -rf "$nixhome"' EXIT
mkdir "$nixhome/conf"
printf '%s\n' 'build-users-group =' 'sandbox = false' 'substituters =' \
  "store = local?store=/gnu/store&real=$nixhome/root/gnu/store&state=$nixhome/root/var/guix&log=$nixhome/log" \
  > "$nixhome/conf/nix.conf"
export NIX_STORE_DIR=/gnu/store NIX_STATE_DIR=$nixhome/state NIX_LOG_DIR=$nixhome/log
export NIX_CONF_DIR=$nixhome/conf NIX_USER_CONF_FILES=$nixhome/conf/nix.conf
unset NIX_REMOTE NIX_CONFIG

echo "Granary vs Nix: $("$granary" --version | head -n1) / $(nix-store --version | head -n1) / $(openssl version)"
echo "cores: $(nproc); rounds: $rounds"
for tree in "$dir" "$tree_a" "$tree_b"; do
  printf '  %-28s NAR of %d bytes\n' "$tree" "$(nix-store --dump "$tree" | wc -c)"
done

# --- Agreement, and the cached NAR --------------------------------------------------------------------
echo "checking that the outputs agree..."
nix_hash=$(nix-hash --type sha256 --base32 "$dir")
granary_hash=$("$granary" hash path "$dir")
[ "$nix_hash" = "$granary_hash" ] || die "NAR hash of $dir: nix-hash $nix_hash, granary $granary_hash"

nix_two=$(nix-hash --type sha256 --base32 "$tree_a" "$tree_b")
granary_two=$("$granary" hash path "$tree_a" "$tree_b")
[ "$nix_two" = "$granary_two" ] || die "NAR hashes of $tree_a $tree_b: nix-hash [$nix_two], granary [$granary_two]"

mkdir -p "$cache"
nar=$cache/$(printf '%s' "$dir" | tr -c 'A-Za-z0-9._-' '_').nar
if [ ! -f "$nar" ] || [ "$(cat "$nar.nix-hash" 2>/dev/null)" != "$nix_hash" ]; then
  echo "dumping $dir to $nar (cached for the next runs)..."
  nix-store --dump "$dir" > "$nar"
  echo "$nix_hash" > "$nar.nix-hash"
fi
nar_sha256=$(openssl dgst -sha256 -r "$nar" | cut -d' ' -f1)
[ "$nar_sha256" = "$(nix-hash --type sha256 "$dir")" ] || die "openssl's SHA-256 of $nar is not nix-hash's"
granary_dump_sha256=$("$granary" nar dump "$dir" | openssl dgst -sha256 -r | cut -d' ' -f1)
[ "$granary_dump_sha256" = "$nar_sha256" ] || die "granary nar dump $dir differs from nix-store --dump"
echo "agree: $nix_hash; NAR $(stat -c %s "$nar") bytes"

# --- Timing ---------------------------------------------------------------------------------------------
names=(startup granary-hash nix-hash openssl granary-dump nix-dump granary-two nix-two)
command_of() {
  case $1 in
    startup)      "$granary" --version ;;
    granary-hash) "$granary" hash path "$dir" ;;
    nix-hash)     nix-hash --type sha256 --base32 "$dir" ;;
    openssl)      openssl dgst -sha256 "$nar" ;;
    granary-dump) "$granary" nar dump "$dir" ;;
    nix-dump)     nix-store --dump "$dir" ;;
    granary-two)  "$granary" hash path "$tree_a" "$tree_b" ;;
    nix-two)      nix-hash --type sha256 --base32 "$tree_a" "$tree_b" ;;
  esac
}

declare -A samples
timed() {
  local start end
  start=$(date +%s%N)
  command_of "$1" > /dev/null
  end=$(date +%s%N)
  samples[$1]+="$((end - start)) "
}

# Other work on the machine skews the timings, the multi-threaded JVM's more than Nix's.
load() { cut -d' ' -f1 /proc/loadavg; }
echo "load average before timing: $(load)"
echo "warming up (one untimed run of each)..."
for name in "${names[@]}"; do command_of "$name" > /dev/null; done
for ((round = 1; round <= rounds; round++)); do
  echo "round $round/$rounds"
  for name in "${names[@]}"; do timed "$name"; done
done

# Median in seconds.
median() {
  tr ' ' '\n' <<< "${samples[$1]}" | grep . | sort -n \
    | awk '{ t[NR] = $1 }
           END { m = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2; printf "%.3f", m / 1e9 }'
}
declare -A med
echo
echo "median wall time (s):"
for name in "${names[@]}"; do
  med[$name]=$(median "$name")
  printf '  %-13s %8s   samples (ms): %s\n' "$name" "${med[$name]}" \
    "$(tr ' ' '\n' <<< "${samples[$name]}" | grep . | awk '{ printf "%d ", $1 / 1e6 }')"
done

# ratio LABEL GRANARY_SECONDS REFERENCE_SECONDS TARGET: granary/reference, met when <= TARGET.
ratio() {
  awk -v label="$1" -v g="$2" -v r="$3" -v target="$4" 'BEGIN {
    q = g / r
    printf "  %-47s granary %7.3f s  reference %7.3f s  granary/reference %5.2f  (target <= %.2f: %s)\n",
      label, g, r, q, target, q <= target ? "met" : "MISSED"
  }'
}
engine() { awk -v t="$1" -v s="${med[startup]}" 'BEGIN { printf "%.3f", t - s }'; }

echo "load average after timing: $(load)"
echo
echo "JVM start-up (granary --version): ${med[startup]} s"
ratio "hash engine vs nix-hash --type sha256" "$(engine "${med[granary-hash]}")" "${med[nix-hash]}" 1.00
ratio "hash engine vs openssl dgst -sha256 on the NAR" "$(engine "${med[granary-hash]}")" "${med[openssl]}" 1.15
ratio "dump engine vs nix-store --dump" "$(engine "${med[granary-dump]}")" "${med[nix-dump]}" 1.00
ratio "two trees (A B), whole processes, vs nix-hash" "${med[granary-two]}" "${med[nix-two]}" 0.67
