#!/usr/bin/env bash
# Compares Granary's garbage collector with Nix's (nix-bin) on the same generated stores, in one run.
#
# Usage: bench/gc-vs-nix.sh [ITEMS [DEAD [LISTED [WORK]]]]
#   ITEMS   items of the store collected (default 10000)
#   DEAD    how many of them no root reaches (default 1000)
#   LISTED  items of the store listed with --list-dead / --print-dead (default 100000; a tenth dead)
#   WORK    a scratch directory, emptied first (default /tmp/granary-gc-bench)
#
# Build first, from the top of the repository: mvn -q -o -DskipTests package
#
# A store is a deterministic DAG of small text items (files on disk, registered from a `nix-store
# --dump-db` text: Granary with `register --hash-given`, Nix with `--load-db`): item i is on level i/100
# and refers to 7 or 8 items of the three levels below; the live part is rooted by links under gcroots/ to
# its top level, the last DEAD items are rooted by nothing. Nix runs on a private store (nix.conf under
# WORK, logical store dir /gnu/store), never the machine's. Timed, whole processes:
#
#   collect   granary gc                   against  nix-store --gc            (one round each, each on its
#             own copy of the store, on a fresh loop-mounted ext4 image when this runs as root)
#   list      granary gc --list-dead       against  nix-store --gc --print-dead  (one round each, right
#             after both databases and the store dir were written, so the page cache is warm; both sides
#             read the same files. Nix takes many minutes here, so there is no second round)
#
# GC_BENCH_STAGES="collect list" (the default) chooses the stages to run.
# It prints seconds, peak resident memory (/usr/bin/time -f %M, KB) and the ratios Granary/Nix, and fails
# if the two sides disagree on what is dead or on what survives.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
granary=$top/bin/granary
items=${1:-10000}
dead=${2:-1000}
listed=${3:-100000}
work=${4:-/tmp/granary-gc-bench}

cleanup() {
    for m in "$work"/mnt-*; do
        if mountpoint -q "$m" 2>/dev/null; then umount "$m"; fi
    done
}
trap cleanup EXIT
cleanup
rm -rf "$work"
mkdir -p "$work"

# generate N DEAD ROOT...: writes the store files under each ROOT/gnu/store, the gcroots links under each
# ROOT/var/guix/gcroots, and the dump-db text on stdout.
generate() {
    python3 - "$@" <<'PY'
import hashlib, os, random, struct, sys
n, dead = int(sys.argv[1]), int(sys.argv[2])
roots = sys.argv[3:]
alphabet = "0123456789abcdfghijklmnpqrsvwxyz"
def path(i):
    h = hashlib.sha256(b"granary-gc-bench-%d" % i).digest()
    return "/gnu/store/" + "".join(alphabet[b % 32] for b in h[:32]) + "-item-%d" % i
def nar_str(b):
    return struct.pack("<Q", len(b)) + b + b"\0" * ((8 - len(b) % 8) % 8)
paths = [path(i) for i in range(n)]
live = n - dead
for r in roots:
    os.makedirs(r + "/gnu/store", exist_ok=True)
    os.makedirs(r + "/var/guix/gcroots", exist_ok=True)
out = sys.stdout
for i in range(n):
    level = i // 100
    refs = []
    if level > 0:
        rng = random.Random(i)
        # The dead part refers downwards too, but the live part never refers to it.
        low = max(0, (level - 3) * 100)
        high = min(level * 100, live) if i < live else level * 100
        if high > low:
            refs = sorted(set(paths[j] for j in rng.sample(range(low, high), min(7 + i % 2, high - low))))
    contents = ("item %d\n" % i + "".join(r + "\n" for r in refs)).encode()
    nar = b"".join(nar_str(x) for x in (b"nix-archive-1", b"(", b"type", b"regular", b"contents")) \
        + nar_str(contents) + nar_str(b")")
    for r in roots:
        name = r + paths[i]
        with open(name, "wb") as f:
            f.write(contents)
        os.chmod(name, 0o444)
        os.utime(name, (1, 1))
    out.write("%s\n%s\n%d\n\n%d\n" % (paths[i], hashlib.sha256(nar).hexdigest(), len(nar), len(refs)))
    out.write("".join(r + "\n" for r in refs))
for r in roots:
    top = (live - 1) // 100 * 100
    for i in range(max(0, top - 100), live):
        os.symlink(paths[i], r + "/var/guix/gcroots/root-%d" % i)
PY
}

# fresh NAME: a fresh ext4 file system at WORK/mnt-NAME when we are root, else a plain directory.
fresh() {
    local dir=$work/mnt-$1
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ] && command -v mkfs.ext4 > /dev/null; then
        truncate -s 2G "$work/$1.img"
        mkfs.ext4 -q -F "$work/$1.img"
        mount -o loop "$work/$1.img" "$dir"
    fi
    echo "$dir"
}

# nixenv ROOT: the environment of a private Nix whose store and state are under ROOT.
nixenv() {
    local root=$1 conf=$1.nix
    mkdir -p "$conf/conf" "$conf/home"
    printf 'build-users-group =\nsandbox = false\nsubstituters =\nstore = local?store=/gnu/store&real=%s&state=%s&log=%s\n' \
        "$root/gnu/store" "$root/var/guix" "$conf/log" > "$conf/conf/nix.conf"
    echo env NIX_STORE_DIR=/gnu/store NIX_STATE_DIR="$conf/state" NIX_LOG_DIR="$conf/log" \
        NIX_CONF_DIR="$conf/conf" NIX_USER_CONF_FILES="$conf/conf/nix.conf" HOME="$conf/home" \
        XDG_CACHE_HOME="$conf/home/.cache" XDG_CONFIG_HOME="$conf/home/.config"
}

# timed NAME COMMAND...: runs COMMAND, records seconds and peak KB in WORK/NAME.time.
timed() {
    local name=$1
    shift
    /usr/bin/time -o "$work/$name.time" -f '%e %M' "$@"
}

entries() {
    ls -A "$1/gnu/store" | grep -v -e '^\.links$' -e '\.lock$' -e '^trash$' | sort
}

stages=${GC_BENCH_STAGES:-collect list}
table=$work/table
printf '%-44s %10s %10s %8s\n' what granary nix ratio > "$table"

# ---- collecting DEAD of ITEMS, each side on a fresh file system
if [[ $stages == *collect* ]]; then
g=$(fresh granary)
n=$(fresh nix)
generate "$items" "$dead" "$g" "$n" > "$work/collect.dump"
"$granary" register --root "$g" --hash-given < "$work/collect.dump" > /dev/null
$(nixenv "$n") nix-store --load-db < "$work/collect.dump"
sync
g_dead=$("$granary" gc --root "$g" --list-dead | wc -l)
n_dead=$($(nixenv "$n") nix-store --gc --print-dead 2> /dev/null | wc -l)
if [ "$g_dead" != "$n_dead" ]; then
    echo "the sides disagree before collecting: granary lists $g_dead dead, nix $n_dead" >&2
    exit 1
fi
sync
timed granary-collect "$granary" gc --root "$g" > "$work/granary-collect.out"
timed nix-collect $(nixenv "$n") nix-store --gc > "$work/nix-collect.out" 2> "$work/nix-collect.err"
if ! diff <(entries "$g") <(entries "$n") > /dev/null; then
    echo "the sides kept different items after collecting" >&2
    exit 1
fi
echo "collect: $items items, $g_dead dead, $(entries "$g" | wc -l) left on both sides; granary: $(cat "$work/granary-collect.out")"
cleanup
read -r gc_s gc_m < "$work/granary-collect.time"
read -r nc_s nc_m < "$work/nix-collect.time"
printf '%-44s %9ss %9ss %8.2f\n' "gc ($dead dead of $items) vs nix-store --gc" "$gc_s" "$nc_s" "$(echo "$gc_s / $nc_s" | bc -l)" >> "$table"
printf '%-44s %8sKB %8sKB %8.2f\n' "  peak memory" "$gc_m" "$nc_m" "$(echo "$gc_m / $nc_m" | bc -l)" >> "$table"
fi

# ---- listing the dead of LISTED items: one store, both databases
if [[ $stages == *list* ]]; then
l=$work/listed
generate "$listed" $((listed / 10)) "$l" > "$work/list.dump"
"$granary" register --root "$l" --hash-given < "$work/list.dump" > /dev/null
$(nixenv "$l") nix-store --load-db < "$work/list.dump"
sync
timed granary-list "$granary" gc --root "$l" --list-dead > "$work/granary-list"
timed nix-list $(nixenv "$l") nix-store --gc --print-dead > "$work/nix-list" 2> /dev/null
if ! diff <(sort "$work/granary-list") <(sort "$work/nix-list") > /dev/null; then
    echo "the sides list different dead items" >&2
    exit 1
fi
echo "list: $listed items, $(wc -l < "$work/granary-list") dead (both)"
read -r gl_s gl_m < "$work/granary-list.time"
read -r nl_s nl_m < "$work/nix-list.time"
printf '%-44s %9ss %9ss %8.2f\n' "gc --list-dead ($listed) vs --print-dead" "$gl_s" "$nl_s" "$(echo "$gl_s / $nl_s" | bc -l)" >> "$table"
printf '%-44s %8sKB %8sKB %8.2f\n' "  peak memory" "$gl_m" "$nl_m" "$(echo "$gl_m / $nl_m" | bc -l)" >> "$table"
fi
cat "$table"
