#!/usr/bin/env bash
# Compares `granary verify --contents` with `nix-store --verify --check-contents` (nix-bin) on one store
# of real files, and both with sha256sum over the same files spread over the cores.
#
# Usage: bench/verify-vs-nix.sh [WORK [ROUNDS [DIR...]]]
#   WORK    a scratch directory, emptied first (default /tmp/granary-verify-bench); needs about 2 GB
#   ROUNDS  timed rounds of each command, interleaved (default 3); the fastest round of each is reported
#   DIR     more directories whose entries become items too (a bigger store: Granary's fixed cost, about
#           0.3 s of JVM start-up and database opening, then weighs less; Nix's is a few milliseconds)
#
# Build first, from the top of the repository: mvn -q -o -DskipTests package
#
# The store is made by Nix on a private store (nix.conf under WORK, logical store dir /gnu/store, files
# under WORK/root), never the machine's: one item per entry of /usr/lib/x86_64-linux-gnu, /usr/share/doc,
# /usr/lib/python3.11, /usr/lib/llvm-14 and a JDK under /usr/lib/jvm (about 1.5 GB in about 3,000 items).
# `granary db import` copies Nix's database into Granary's, beside it under the same root. Every command
# then reads the same files: one untimed round of each warms the page cache, then ROUNDS timed rounds
# that alternate the three commands.
#
#   granary   granary verify --root ROOT --contents            (jobs: one per core)
#   nix       nix-store --verify --check-contents               (one thread)
#   sha256sum find ROOT/gnu/store -type f | xargs -P CORES sha256sum   (file bytes, not NAR bytes)
#
# It prints wall and CPU (user + system) seconds, items/s, MB/s (NAR bytes; file bytes for sha256sum),
# peak resident memory (/usr/bin/time -f %M, KB), the load average, and the ratios; targets: nix/granary
# >= 1.8, granary/sha256sum <= 1.2 (wall). CPU seconds say what each needs when the machine is shared.
# The exit status is non-zero if a command fails or a verifier finds the fresh store unsound.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
granary=$top/bin/granary
work=${1:-/tmp/granary-verify-bench}
rounds=${2:-3}
shift $(( $# < 2 ? $# : 2 ))
cores=$(nproc)
rm -rf "$work"
mkdir -p "$work/conf" "$work/root" "$work/home" "$work/log"

export NIX_STORE_DIR=/gnu/store NIX_STATE_DIR=$work/state NIX_LOG_DIR=$work/log \
    NIX_CONF_DIR=$work/conf NIX_USER_CONF_FILES=$work/conf/nix.conf HOME=$work/home \
    XDG_CACHE_HOME=$work/home/.cache XDG_CONFIG_HOME=$work/home/.config
printf 'build-users-group =\nsandbox = false\nsubstituters =\nstore = local?store=/gnu/store&real=%s&state=%s&log=%s\n' \
    "$work/root/gnu/store" "$work/root/var/guix" "$work/log" > "$work/conf/nix.conf"

jdk=$(ls -d /usr/lib/jvm/*/ 2>/dev/null | head -1)
sources=()
for dir in /usr/lib/x86_64-linux-gnu /usr/share/doc /usr/lib/python3.11 /usr/lib/llvm-14 "$jdk" "$@"; do
    [ -d "$dir" ] || continue
    for entry in "$dir"/*; do
        # Names Guix accepts (no leading dot, no odd characters), readable regular files, dirs and symlinks.
        name=$(basename "$entry")
        [[ $name =~ ^[A-Za-z0-9+_?=-][A-Za-z0-9+._?=-]*$ ]] || continue
        [ -r "$entry" ] || continue
        sources+=("$entry")
    done
done
echo "adding ${#sources[@]} entries to a private Nix store under $work/root ..."
printf '%s\0' "${sources[@]}" | xargs -0 -n 200 nix-store --add > "$work/items"
"$granary" db import --root "$work/root" --sqlite "$work/root/var/guix/db/db.sqlite"
items=$(sort -u "$work/items" | wc -l)
nar_bytes=$(nix-store --query --size $(sort -u "$work/items") | awk '{ s += $1 } END { printf "%.0f\n", s }')
file_bytes=$(find "$work/root/gnu/store" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }')
echo "store: $items items, $nar_bytes NAR bytes, $file_bytes file bytes, $cores cores"

load=$(cut -d' ' -f1 /proc/loadavg)
run_granary() { "$granary" verify --root "$work/root" --contents > "$work/granary.out"; }
run_nix() { nix-store --verify --check-contents 2> "$work/nix.err"; }
run_sha() { find "$work/root/gnu/store" -type f -print0 | xargs -0 -P "$cores" -n 64 sha256sum > /dev/null; }

# timed NAME: runs run_NAME under /usr/bin/time, appending "seconds peak-KB cpu-seconds" to NAME.times.
timed() {
    /usr/bin/time -o "$work/$1.time" -f '%e %M %U %S' bash -c "$(declare -f "run_$1"); work='$work'; granary='$granary'; cores=$cores; run_$1"
    awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }' "$work/$1.time" >> "$work/$1.times"
}

# One untimed round of each warms the page cache; then the timed rounds interleave the three commands,
# so that a burst of load on a shared machine hits all of them alike. The fastest round of each counts.
for name in granary nix sha; do
    "run_$name"
    : > "$work/$name.times"
done
for i in $(seq "$rounds"); do
    for name in granary nix sha; do
        timed "$name"
    done
done
for name in granary nix sha; do
    sort -n "$work/$name.times" | head -1 > "$work/$name.best"
done
if grep -q "was modified\|disappeared" "$work/nix.err"; then
    echo "nix-store finds the store unsound:" >&2
    cat "$work/nix.err" >&2
    exit 1
fi
tail -1 "$work/granary.out"

read -r gt gm gc < "$work/granary.best"
read -r nt nm nc < "$work/nix.best"
read -r st sm sc < "$work/sha.best"
rate() { echo "$1 / $2" | bc -l; }
echo "load average before the rounds: $load (on $cores cores); each figure is the best of $rounds rounds"
printf '%-36s %8s %8s %9s %8s %10s\n' what seconds cpu-s items/s MB/s peak-KB
printf '%-36s %8s %8s %9.0f %8.0f %10s\n' "granary verify --contents" "$gt" "$gc" "$(rate "$items" "$gt")" \
    "$(rate "$nar_bytes / 1000000" "$gt")" "$gm"
printf '%-36s %8s %8s %9.0f %8.0f %10s\n' "nix-store --verify --check-contents" "$nt" "$nc" "$(rate "$items" "$nt")" \
    "$(rate "$nar_bytes / 1000000" "$nt")" "$nm"
printf '%-36s %8s %8s %9s %8.0f %10s\n' "sha256sum, xargs -P $cores" "$st" "$sc" "-" \
    "$(rate "$file_bytes / 1000000" "$st")" "$sm"
printf 'nix / granary        %.2f wall, %.2f cpu  (target >= 1.8 wall)\n' "$(rate "$nt" "$gt")" "$(rate "$nc" "$gc")"
printf 'granary / sha256sum  %.2f wall, %.2f cpu  (target <= 1.2 wall)\n' "$(rate "$gt" "$st")" "$(rate "$gc" "$sc")"
