#!/usr/bin/env bash
# Compares Granary's reference database with Nix's (nix-bin) on a large generated graph.
#
# Usage: bench/db-vs-nix.sh [PATHS [WORK]]
#   PATHS   how many store paths (default 100000; about 7.5 references each)
#   WORK    a scratch directory, emptied first (default /tmp/granary-db-bench)
#
# Build first, from the top of the repository: mvn -q -o -DskipTests package
#
# The dump (the text `nix-store --dump-db` prints) is a deterministic DAG: path i is on level i/100 and
# refers to 7 or 8 paths of the three levels below it; TOP, the last path, reaches almost all of them.
# Each side gets a fresh root; Nix runs on a private store (nix.conf under WORK, logical store dir
# /gnu/store, files under WORK/nix/root), never the machine's. Timed, whole processes, one round each:
#
#   load      granary register --hash-given < DUMP   against   nix-store --load-db < DUMP
#   closure   granary query --requisites TOP | wc -l against   nix-store -qR TOP | wc -l
#
# It prints seconds, CPU seconds (user + system: on a machine shared with other work the wall clock also
# measures the others), peak resident memory (/usr/bin/time -f %M, KB) and the ratios Granary/Nix. The
# exit status is non-zero if a command fails or the two closures differ in size.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
granary=$top/bin/granary
n=${1:-100000}
work=${2:-/tmp/granary-db-bench}
rm -rf "$work"
mkdir -p "$work/nix/conf" "$work/nix/root" "$work/nix/home" "$work/granary"

python3 - "$n" > "$work/dump" 2> "$work/top" <<'PY'
import hashlib, random, sys
n = int(sys.argv[1])
alphabet = "0123456789abcdfghijklmnpqrsvwxyz"
def path(i):
    h = hashlib.sha256(b"granary-bench-%d" % i).digest()
    return "/gnu/store/" + "".join(alphabet[b % 32] for b in h) + "-p%d" % i
paths = [path(i) for i in range(n)]
out = []
refcount = 0
for i in range(n):
    level = i // 100
    refs = []
    if level > 0:
        rng = random.Random(i)
        low = max(0, (level - 3) * 100)
        refs = sorted(set(paths[j] for j in rng.sample(range(low, level * 100), 7 + i % 2)))
    out.append(paths[i])
    out.append(hashlib.sha256(b"contents-%d" % i).hexdigest())
    out.append(str(1000 + i % 5000))
    out.append("")
    out.append(str(len(refs)))
    out.extend(refs)
    refcount += len(refs)
sys.stdout.write("\n".join(out) + "\n")
print(paths[-1], file=sys.stderr)
print(refcount, file=sys.stderr)
PY
{ read -r toppath; read -r refs; } < "$work/top"
echo "dump: $n paths, $refs references, $(wc -l < "$work/dump") lines, $(du -h "$work/dump" | cut -f1); TOP = $toppath"

export NIX_STORE_DIR=/gnu/store NIX_STATE_DIR=$work/nix/state NIX_LOG_DIR=$work/nix/log \
    NIX_CONF_DIR=$work/nix/conf NIX_USER_CONF_FILES=$work/nix/conf/nix.conf HOME=$work/nix/home \
    XDG_CACHE_HOME=$work/nix/home/.cache XDG_CONFIG_HOME=$work/nix/home/.config
printf 'build-users-group =\nsandbox = false\nsubstituters =\nstore = local?store=/gnu/store&real=%s&state=%s&log=%s\n' \
    "$work/nix/root/gnu/store" "$work/nix/root/var/guix" "$work/nix/log" > "$work/nix/conf/nix.conf"

# timed NAME COMMAND...: runs COMMAND (stdin and stdout as given), records seconds and peak KB.
timed() {
    local name=$1
    shift
    /usr/bin/time -o "$work/$name.time" -f '%e %M %U %S' "$@"
}

timed granary-load "$granary" register --root "$work/granary" --hash-given < "$work/dump"
timed nix-load nix-store --load-db < "$work/dump"
timed granary-closure "$granary" query --root "$work/granary" --requisites "$toppath" > "$work/granary-closure"
timed nix-closure nix-store -qR "$toppath" > "$work/nix-closure"
g_count=$(wc -l < "$work/granary-closure")
n_count=$(wc -l < "$work/nix-closure")
if [ "$g_count" != "$n_count" ]; then
    echo "closures differ: granary $g_count paths, nix $n_count" >&2
    exit 1
fi
echo "closure of TOP: $g_count paths (both)"

read -r gl gm glu gls < "$work/granary-load.time"
read -r nl nm nlu nls < "$work/nix-load.time"
read -r gq gqm gqu gqs < "$work/granary-closure.time"
read -r nq nqm nqu nqs < "$work/nix-closure.time"
glc=$(echo "$glu + $gls" | bc -l); nlc=$(echo "$nlu + $nls" | bc -l)
gqc=$(echo "$gqu + $gqs" | bc -l); nqc=$(echo "$nqu + $nqs" | bc -l)
printf '%-40s %10s %10s %8s\n' what granary nix ratio
printf '%-40s %9ss %9ss %8.2f\n' "register --hash-given vs --load-db" "$gl" "$nl" "$(echo "$gl / $nl" | bc -l)"
printf '%-40s %9ss %9ss %8.2f\n' "  CPU (user + system)" "$glc" "$nlc" "$(echo "$glc / $nlc" | bc -l)"
printf '%-40s %8sKB %8sKB %8.2f\n' "  peak memory" "$gm" "$nm" "$(echo "$gm / $nm" | bc -l)"
printf '%-40s %9ss %9ss %8.2f\n' "query --requisites vs nix-store -qR" "$gq" "$nq" "$(echo "$gq / $nq" | bc -l)"
printf '%-40s %9ss %9ss %8.2f\n' "  CPU (user + system)" "$gqc" "$nqc" "$(echo "$gqc / $nqc" | bc -l)"
printf '%-40s %8sKB %8sKB %8.2f\n' "  peak memory" "$gqm" "$nqm" "$(echo "$gqm / $nqm" | bc -l)"
