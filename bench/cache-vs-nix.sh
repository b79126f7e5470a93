#!/usr/bin/env bash
# Compares writing a binary cache with Granary and with Nix (nix-bin) on the same store item.
#
# Usage: bench/cache-vs-nix.sh [DIR [WORK]]
#   DIR     a directory to add to the store as the item (default /usr/lib/python3.11)
#   WORK    a scratch directory, emptied first (default /tmp/granary-cache-bench)
#
# Build first, from the top of the repository: mvn -q -o -DskipTests package
#
# Nix adds DIR to a private store under WORK/root (logical store dir /gnu/store, never the machine's);
# `granary db import` registers the same item in a Granary database beside Nix's, on the same files.
# Then, for each compression, whole processes, one round each (page cache warmed by an untimed dump):
#
#   nix copy --to file://WORK/nix-C?compression=C PATH    against
#   granary cache push --root WORK/root --compression C WORK/granary-C PATH
#
# It prints seconds, peak resident memory (/usr/bin/time -f %M, KB), compressed sizes and the ratios
# Granary/Nix, and checks that both narinfos give the same NarHash and NarSize. Afterwards it has Nix copy
# the item back from each Granary cache into a fresh store (`nix copy --from`, Granary's key trusted).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
granary=$top/bin/granary
item=${1:-/usr/lib/python3.11}
work=${2:-/tmp/granary-cache-bench}
rm -rf "$work"
mkdir -p "$work/conf" "$work/root" "$work/home"

nixenv() {
    local home=$1
    export NIX_STORE_DIR=/gnu/store NIX_STATE_DIR=$home/state NIX_LOG_DIR=$home/log NIX_CONF_DIR=$home/conf \
        NIX_USER_CONF_FILES=$home/conf/nix.conf HOME=$work/home
    printf 'build-users-group =\nsandbox = false\nsubstituters =\nstore = local?store=/gnu/store&real=%s/root/gnu/store&state=%s/root/var/guix&log=%s/log\n' \
        "$home" "$home" "$home" > "$home/conf/nix.conf"
}

nixenv "$work"
path=$(nix-store --add "$item")
echo "item: $path ($(nix-store -q --size "$path") NAR bytes)"
"$granary" db import --root "$work/root" --sqlite "$work/root/var/guix/db/db.sqlite" >/dev/null
"$granary" cache keygen bench-1 "$work/key.sec" "$work/key.pub"
nix-store --dump "$work/root$path" > /dev/null

timed() { # LABEL COMMAND...: runs it, prints "LABEL SECONDS PEAK-KB"
    local label=$1; shift
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -f %M -o "$work/mem" "$@" > /dev/null 2> "$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
    end=$(date +%s.%N)
    echo "$label $(echo "$end - $start" | bc) $(cat "$work/mem")"
}

printf '%-6s %10s %10s %7s %10s %10s %7s %12s %12s\n' comp "nix s" "granary s" ratio "nix KB" "granary KB" ratio "nix bytes" "granary bytes"
for c in xz zstd; do
    read -r _ ns nm < <(timed nix nix --extra-experimental-features nix-command copy --to "file://$work/nix-$c?compression=$c" "$path")
    read -r _ gs gm < <(timed granary "$granary" cache push --root "$work/root" --key "$work/key.sec" \
        --compression "$c" "$work/granary-$c" "$path")
    hash=${path#/gnu/store/}; hash=${hash%%-*}
    for field in NarHash NarSize; do
        a=$(grep "^$field:" "$work/nix-$c/$hash.narinfo"); b=$(grep "^$field:" "$work/granary-$c/$hash.narinfo")
        [ "$a" = "$b" ] || { echo "narinfos differ: $a / $b" >&2; exit 1; }
    done
    nb=$(du -b "$work"/nix-$c/nar/* | cut -f1); gb=$(du -b "$work"/granary-$c/nar/* | cut -f1)
    printf '%-6s %10.2f %10.2f %7.2f %10d %10d %7.2f %12d %12d\n' "$c" "$ns" "$gs" "$(echo "$gs / $ns" | bc -l)" \
        "$nm" "$gm" "$(echo "$gm / $nm" | bc -l)" "$nb" "$gb"
done

# Nix reads what Granary wrote, each cache into a fresh store.
for c in xz zstd; do
    mkdir -p "$work/fresh-$c/conf"
    nixenv "$work/fresh-$c"
    nix --extra-experimental-features nix-command copy --from "file://$work/granary-$c" \
        --option trusted-public-keys "$(cat "$work/key.pub")" "$path" 2> "$work/stderr"
    nix-store --verify-path "$path"
    echo "nix copy --from the Granary $c cache into a fresh store: ok ($path verified)"
done
