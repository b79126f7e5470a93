#!/usr/bin/env bash
# Regenerates the golden NAR vectors of the nar module's GoldenNarTest with real Nix.
#
# Builds a handful of small file trees with plain shell tools (padding sizes, executable bits, symlinks
# of several kinds, non-ASCII and odd names, an empty directory, nesting, and a regular file, an
# executable and a symlink at the top), archives each with `nix-store --dump` into
#   nar/src/test/resources/org/granary/nar/golden/NAME.nar
# and records in index.txt, per tree, the NAR size and `nix-hash --type sha256 --base32`, the base16
# SHA-256 and the base16 SHA-512. GoldenNarTest then checks Granary against these files without Nix.
#
# Usage: scripts/nar-golden-vectors.sh        (needs nix-store and nix-hash: apt-get install nix-bin)
# The output is deterministic: running it again must leave `git status` clean.
set -euo pipefail

for tool in nix-store nix-hash; do
  command -v "$tool" >/dev/null || { echo "$0: $tool not found on PATH; install nix-bin" >&2; exit 1; }
done

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/nar/src/test/resources/org/granary/nar/golden
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LC_ALL=C
umask 022

# A private Nix configuration: `nix-store --dump` and `nix-hash` do not open a store, but should any
# command do so, it must open this one and never create /gnu/store.
mkdir -p "$work/conf"
printf '%s\n' 'build-users-group =' 'sandbox = false' 'substituters =' \
  "store = local?store=/gnu/store&real=$work/root/gnu/store&state=$work/root/var/guix&log=$work/log" \
  > "$work/conf/nix.conf"
export NIX_STORE_DIR=/gnu/store NIX_STATE_DIR=$work/state NIX_LOG_DIR=$work/log NIX_CONF_DIR=$work/conf
export NIX_USER_CONF_FILES=$work/conf/nix.conf
unset NIX_REMOTE NIX_CONFIG

# content N: N bytes of a fixed text pattern.
content() {
  local text=''
  while (( ${#text} < $1 )); do text+=$'granary golden vector 0123456789\n'; done
  printf '%s' "${text:0:$1}"
}

# file PATH SIZE MODE
file() { content "$2" > "$1"; chmod "$3" "$1"; }

trees=$work/trees
mkdir "$trees"

make_padding() {
  mkdir "$1"
  local n
  for n in 0 1 7 8 9 15 16 17 63 64 65; do file "$1/size-$n" "$n" 644; done
  printf '\x00\x01\x02\xfe\xff\x00\n' > "$1/binary"
}

make_modes() {
  mkdir "$1"
  file "$1/plain" 5 644
  file "$1/exec" 6 755
  file "$1/owner-exec-only" 7 700
  file "$1/group-other-exec" 8 611   # not executable in a NAR: only the owner's bit counts
  file "$1/read-only" 9 444
  file "$1/read-exec" 10 500
  file "$1/setuid" 11 4755
  file "$1/sticky" 12 1644
  mkdir "$1/closed-dir"
  file "$1/closed-dir/inside" 3 644
  chmod 700 "$1/closed-dir"
}

make_symlinks() {
  mkdir "$1" "$1/dir"
  file "$1/file" 4 644
  file "$1/dir/inside" 2 755
  ln -s file "$1/relative"
  ln -s /etc/hostname "$1/absolute"
  ln -s does/not/exist "$1/dangling"
  ln -s dir "$1/to-dir"
  ln -s dir/ "$1/trailing-slash"
  ln -s dir//inside "$1/double-slash"
  ln -s self "$1/self"
  ln -s .. "$1/dotdot"
  ln -s ../file "$1/dir/up"
  ln -s $'\xc3\xbcn\xc3\xafc\xc3\xb6d\xc3\xa9/\xf0\x9f\x98\x80' "$1/non-ascii"
}

make_names() {
  mkdir "$1"
  local name i=0
  for name in B a b A 'with space' .hidden -dash $'new\nline' $'tab\there' 'back\slash' 'quote"' \
      $'\xc3\xa9' $'e\xcc\x81' $'\xef\xac\x81' $'\xf0\x9f\x98\x80' $'\xe4\xb8\xad\xe6\x96\x87' '~nix~case~hack~1'; do
    file "$1/$name" "$i" 644
    i=$((i + 1))
  done
  mkdir "$1/"$'dir \xc3\xbc'
  file "$1/"$'dir \xc3\xbc/x' 1 755
}

make_nested() {
  mkdir -p "$1/a/b/c/d" "$1/empty-dir" "$1/only-dirs/x/y"
  file "$1/empty-file" 0 644
  file "$1/empty-exec" 0 755
  file "$1/a/b/c/d/deep" 17 755
  file "$1/a/sibling" 3 644
}

make_padding "$trees/padding"
make_modes "$trees/modes"
make_symlinks "$trees/symlinks"
make_names "$trees/names"
make_nested "$trees/nested"
mkdir "$trees/empty-dir"
file "$trees/top-file" 13 644
file "$trees/top-exec" 8 755
file "$trees/top-empty-file" 0 644
ln -s target/of/link "$trees/top-symlink"

mkdir -p "$out"
rm -f "$out"/*.nar "$out/index.txt"
{
  echo "# Golden NARs written by scripts/nar-golden-vectors.sh with $(nix-store --version | head -n1)."
  echo "# name nar-size sha256-nix-base32 sha256-base16 sha512-base16"
  for tree in "$trees"/*; do
    name=$(basename "$tree")
    nix-store --dump "$tree" > "$out/$name.nar"
    echo "$name $(wc -c < "$out/$name.nar") $(nix-hash --type sha256 --base32 "$tree")" \
      "$(nix-hash --type sha256 "$tree") $(nix-hash --type sha512 "$tree")"
  done
} > "$out/index.txt"

echo "wrote $(ls "$out"/*.nar | wc -l) NARs ($(cat "$out"/*.nar | wc -c) bytes) and index.txt to $out"
