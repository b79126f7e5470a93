#!/usr/bin/env bash
# Compares `granary add` with `nix-store --add` (nix-bin) on a real directory, each writing into a
# fresh ext4 file system.
#
# Usage: bench/add-vs-nix.sh [DIR [WORK]]
#   DIR     the tree to add (default /usr/lib/jvm: about 560 MB on Debian 12; use at least 300 MB)
#   WORK    a scratch directory, emptied first (default /tmp/granary-add-bench); it holds the cached copy
#           of DIR and the two images
#
# Needs root (mount -o loop). Build first, from the top of the repository: mvn -q -o -DskipTests package
#
# DIR is copied once into WORK/src (cp -a, so both sides read the same bytes) and read once untimed, so
# that both read it from the page cache. Each side then gets its own ext4 image (truncate + mkfs.ext4,
# mounted with -o loop): creating files right after deleting many is slow on a long-used disk, and that
# would measure the kernel, not the program. Nix runs on a private store (nix.conf under WORK, logical
# store dir /gnu/store, files on its image), never the machine's. Timed, whole processes, one run each:
#
#   add           granary add --root IMAGE1/root SRC   against   nix-store --add SRC (store on IMAGE2)
#   add, durable  the same followed by sync -f on its file system (until the item is on disk)
#
# Granary copies the tree in one pass with canonical modes and mtimes: one thread reads each file once
# into a buffer and writes it to the copy, a second hashes the same buffer (the NAR's SHA-256), and a
# third has the disk write the copy meanwhile (sync_file_range on each large file, a syncfs after every
# 64 MiB); one syncfs before the rename and the registration makes the item durable, so it is on disk
# when granary returns. nix-store --add 2.8 does not fsync the item's files (they reach the disk later,
# by the kernel's writeback), hence the second line. The script prints seconds, peak resident memory
# (/usr/bin/time -f %M, KB) and the ratios Granary/Nix; its exit status is non-zero if a command fails or
# the two store paths differ.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
granary=$top/bin/granary
src_in=$(realpath "${1:-/usr/lib/jvm}")
work=${2:-/tmp/granary-add-bench}

die() { echo "$0: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root for mount -o loop"
[ -d "$src_in" ] || die "$src_in is not a directory"
[ -f "$top/cli-verify/target/granary.jar" ] \
  || die "cli-verify/target/granary.jar is missing; build it first: (cd $top && mvn -q -o -DskipTests package)"
for tool in nix-store mkfs.ext4 truncate mount umount; do
  command -v "$tool" >/dev/null || die "$tool not found on PATH"
done

cleanup() {
  for side in granary nix; do
    mountpoint -q "$work/$side" 2>/dev/null && umount "$work/$side"
  done
  rm -f "$work"/*.img
}
trap cleanup EXIT
cleanup
rm -rf "$work"
mkdir -p "$work/nix-conf" "$work/nix-home" "$work/granary" "$work/nix"

name=$(basename "$src_in")
src=$work/src/$name
mkdir -p "$work/src"
cp -a "$src_in" "$src"
bytes=$(du -sb "$src" | cut -f1)
files=$(find "$src" | wc -l)
# Untimed: the page cache holds the source for both sides.
tar -cf - -C "$work/src" "$name" > /dev/null
echo "source: $src ($((bytes / 1000000)) MB, $files entries)"

# Each side on a fresh ext4 image three times the source's size (sparse).
for side in granary nix; do
  truncate -s $((bytes * 3 + 256 * 1024 * 1024)) "$work/$side.img"
  mkfs.ext4 -q -F "$work/$side.img"
  mount -o loop "$work/$side.img" "$work/$side"
done

export NIX_STORE_DIR=/gnu/store NIX_STATE_DIR=$work/nix/root/var/guix NIX_LOG_DIR=$work/nix/log \
    NIX_CONF_DIR=$work/nix-conf NIX_USER_CONF_FILES=$work/nix-conf/nix.conf HOME=$work/nix-home \
    XDG_CACHE_HOME=$work/nix-home/.cache XDG_CONFIG_HOME=$work/nix-home/.config
printf 'build-users-group =\nsandbox = false\nsubstituters =\nstore = local?store=/gnu/store&real=%s&state=%s&log=%s\n' \
    "$work/nix/root/gnu/store" "$work/nix/root/var/guix" "$work/nix/log" > "$work/nix-conf/nix.conf"
# Both stores exist before the timed runs: the timed work is the addition, not the first opening.
"$granary" init --root "$work/granary/root"
nix-store --init
sync

# timed SIDE COMMAND...: runs COMMAND, then sync -f on SIDE's file system; records the command's seconds
# and peak KB, and the seconds until the sync returned.
timed() {
    local side=$1
    shift
    local start end
    start=$(date +%s%N)
    /usr/bin/time -o "$work/$side.time" -f '%e %M' "$@" > "$work/$side.out"
    sync -f "$work/$side"
    end=$(date +%s%N)
    echo "$(( (end - start) / 1000000 ))" > "$work/$side.durable"
}
timed granary "$granary" add --root "$work/granary/root" "$src"
timed nix nix-store --add "$src"

g_path=$(cat "$work/granary.out")
n_path=$(cat "$work/nix.out")
if [ "$g_path" != "$n_path" ]; then
  echo "store paths differ: granary $g_path, nix $n_path" >&2
  exit 1
fi
echo "store path (both): $g_path"

read -r gt gm < "$work/granary.time"
read -r nt nm < "$work/nix.time"
gd=$(echo "scale=2; $(cat "$work/granary.durable") / 1000" | bc -l)
nd=$(echo "scale=2; $(cat "$work/nix.durable") / 1000" | bc -l)
printf '%-40s %10s %10s %8s\n' what granary nix ratio
printf '%-40s %9ss %9ss %8.2f\n' "add vs nix-store --add" "$gt" "$nt" "$(echo "$gt / $nt" | bc -l)"
printf '%-40s %9ss %9ss %8.2f\n' "  until on disk (then sync -f)" "$gd" "$nd" "$(echo "$gd / $nd" | bc -l)"
printf '%-40s %8sKB %8sKB %8.2f\n' "  peak memory" "$gm" "$nm" "$(echo "$gm / $nm" | bc -l)"
