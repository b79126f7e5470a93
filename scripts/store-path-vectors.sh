#!/usr/bin/env bash
# Regenerates the golden store paths that store-core's NixStorePathVectorsTest checks, by asking real Nix
# (nix-bin: nix-store, nix-hash, nix-instantiate) for the path of every kind of item Guix makes, with the
# logical store dir /gnu/store. Nothing is written outside a temporary directory: Nix's store lives under
# $T/root/gnu/store ("real=" in the store URI), its database and settings under $T.
#
# Usage: scripts/store-path-vectors.sh [OUTPUT]
#   OUTPUT defaults to store-core/src/test/resources/org/granary/store/nix-store-paths.tsv.
#
# One line per case, tab-separated:
#   kind       source (nix-store --add), fixed (nix-store --add-fixed), text (builtins.toFile, .drv files)
#              or output:ID (output ID of a derivation with no input derivations)
#   name       the item's name (for output:ID, the derivation's name)
#   algo       md5, sha1, sha256 or sha512
#   recursive  true: the hash is of the input's NAR; false: of its contents
#   input      a recipe for the input (below), so that the test rebuilds it exactly
#   refs       the references, space-separated, in no particular order; - for none
#   hash       the hash Nix computed of the input (nix-hash), <algo>:<base16>
#   path       the store path Nix gave
# For text and output:ID the input is the file's contents (for output:ID, the derivation's ATerm with its
# output paths blanked, whose SHA-256 is the derivation's hashDerivationModulo).
#
# Input recipes:
#   file:BYTES          a regular file holding BYTES
#   exec:BYTES          the same, executable
#   repeat:N:BYTES      a regular file holding BYTES N times
#   link:BYTES          a symlink whose target is BYTES
#   dir:                an empty directory
#   tree:E;E;...        a directory; each E is PATH=RECIPE (RECIPE not a tree), PATH '/'-separated and
#                       relative, its parent directories made as needed
#   BYTES: printable ASCII stands for itself, except '\', ';' and '=', which like every other byte are
#   written \xHH (two lower-case hex digits); \n and \t stand for LF and TAB, \\ for a backslash.
#
# Names beginning with '.' are left out on purpose: Nix accepts them, Guix does not.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/store-core/src/test/resources/org/granary/store/nix-store-paths.tsv}
for tool in nix-store nix-hash nix-instantiate od awk; do
    command -v "$tool" >/dev/null || { echo "$0: $tool not found (apt-get install nix-bin)" >&2; exit 1; }
done

T=$(mktemp -d)
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
export NIX_STORE_DIR=/gnu/store NIX_STATE_DIR=$T/state NIX_LOG_DIR=$T/log NIX_CONF_DIR=$T/conf
mkdir -p "$T/conf" "$T/in"
S="local?store=/gnu/store&real=$T/root/gnu/store&state=$T/root/var/guix&log=$T/log"
# The default store too points under $T: with NIX_STORE_DIR=/gnu/store, any command that opens the
# default store (even nix-store --version) would otherwise create /gnu/store/.links on this machine.
printf 'build-users-group =\nsandbox = false\nstore = %s\n' "$S" > "$T/conf/nix.conf"
lines=$T/lines

store() { nix-store --store "$S" "$@"; }
# Evaluates a Nix expression that yields a store path, writing what it makes, and prints the bare path.
eval_path() { nix-instantiate --store "$S" --read-write-mode --eval -E "$1" | tr -d '"'; }
# Where Nix really put a /gnu/store path.
real() { printf '%s' "$T/root$1"; }
# A fresh directory for one input, so that its base name can be the item's name.
fresh() { mktemp -d "$T/in/XXXXXX"; }

# Builds the input a recipe describes at $2.
materialise() {
    local recipe=$1 target=$2 entry path
    case $recipe in
        file:*) printf '%b' "${recipe#file:}" > "$target" ;;
        exec:*) printf '%b' "${recipe#exec:}" > "$target"; chmod 755 "$target" ;;
        repeat:*)
            local rest=${recipe#repeat:} i
            for ((i = 0; i < ${rest%%:*}; i++)); do printf '%b' "${rest#*:}"; done > "$target" ;;
        link:*) ln -s "$(printf '%b' "${recipe#link:}")" "$target" ;;
        dir:) mkdir "$target" ;;
        tree:*)
            mkdir "$target"
            local entries
            IFS=';' read -ra entries <<< "${recipe#tree:}"
            for entry in "${entries[@]}"; do
                path=$target/$(printf '%b' "${entry%%=*}")
                mkdir -p "$(dirname "$path")"
                materialise "${entry#*=}" "$path"
            done ;;
        *) echo "$0: bad recipe $recipe" >&2; exit 1 ;;
    esac
}

# Writes the bytes of file $1 as BYTES (see the header).
escape() {
    od -An -v -tx1 "$1" | awk '
        BEGIN { for (i = 32; i < 127; i++) printable[sprintf("%02x", i)] = sprintf("%c", i) }
        { for (f = 1; f <= NF; f++) {
              h = $f
              if (h == "0a") printf "\\n"
              else if (h == "09") printf "\\t"
              else if (h == "5c") printf "\\\\"
              else if (h == "3b" || h == "3d" || !(h in printable)) printf "\\x%s", h
              else printf "%s", printable[h]
        } }'
}

line() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$lines"; }
refs_of() {
    # Reverse order, so that the test, not the file, has to sort them.
    local refs; refs=$(store -q --references "$1" | sort -r | paste -sd' ')
    printf '%s' "${refs:--}"
}

# source NAME RECIPE: nix-store --add (recursive SHA-256).
source_case() {
    local name=$1 recipe=$2 input path hash
    input=$(fresh)/$name
    materialise "$recipe" "$input"
    path=$(store --add "$input")
    hash=$(nix-hash --type sha256 "$input")
    # Nix's own record of the NAR hash must agree with nix-hash's.
    [ "$(store -q --hash "$path")" = "sha256:$(nix-hash --to-base32 --type sha256 "$hash")" ] \
        || { echo "$0: nix-hash and nix-store disagree on $path" >&2; exit 1; }
    line source "$name" sha256 true "$recipe" - "sha256:$hash" "$path"
}

# fixed NAME ALGO true|false RECIPE: nix-store --add-fixed [--recursive] ALGO.
fixed_case() {
    local name=$1 algo=$2 recursive=$3 recipe=$4 input path hash
    input=$(fresh)/$name
    materialise "$recipe" "$input"
    if [ "$recursive" = true ]; then
        path=$(store --add-fixed --recursive "$algo" "$input")
        hash=$(nix-hash --type "$algo" "$input")
    else
        path=$(store --add-fixed "$algo" "$input")
        hash=$(nix-hash --type "$algo" --flat "$input")
    fi
    line fixed "$name" "$algo" "$recursive" "$recipe" - "$algo:$hash" "$path"
}

# text NAME NIX-STRING-EXPRESSION: builtins.toFile; the contents and references are read back from Nix.
text_case() {
    local name=$1 contents=$2 path
    path=$(eval_path "builtins.toFile \"$name\" ($contents)")
    line text "$name" sha256 false "file:$(escape "$(real "$path")")" "$(refs_of "$path")" \
        "sha256:$(nix-hash --type sha256 --flat "$(real "$path")")" "$path"
}

# text NAME RECIPE: as text_case, with contents from a recipe (a file: one).
text_recipe_case() {
    local file; file=$(fresh)/contents
    materialise "$2" "$file"
    text_case "$1" "builtins.readFile $file"
}

# derivation NIX-EXPRESSION: a derivation without input derivations. One line per output, whose input is
# the ATerm with every output path blanked (in the outputs and in the environment), and one text line for
# the .drv itself.
derivation_case() {
    local drv aterm masked name outputs id path dir quoted blank='""'
    drv=$(nix-instantiate --store "$S" -E "$1")
    drv=${drv%%!*}  # printed as DRV!OUTPUT when the first output is not out
    aterm=$(< "$(real "$drv")")
    outputs=${aterm#Derive([}
    outputs=${outputs%%],[*}
    masked=$aterm
    while IFS=, read -r id path; do
        # Quoted, so that a '?' in the name is no glob.
        quoted="\"$path\""
        masked=${masked//"$quoted"/$blank}
    done < <(grep -o '("[^"]*","[^"]*"' <<< "$outputs" | sed 's/^(//; s/"//g')
    dir=$(fresh)
    printf '%s' "$masked" > "$dir/masked"
    name=${drv#/gnu/store/????????????????????????????????-}
    name=${name%.drv}
    while IFS=, read -r id path; do
        line "output:$id" "$name" sha256 false "file:$(escape "$dir/masked")" - \
            "sha256:$(nix-hash --type sha256 --flat "$dir/masked")" "$path"
    done < <(grep -o '("[^"]*","[^"]*"' <<< "$outputs" | sed 's/^(//; s/"//g')
    line text "$name.drv" sha256 false "file:$(escape "$(real "$drv")")" "$(refs_of "$drv")" \
        "sha256:$(nix-hash --type sha256 --flat "$(real "$drv")")" "$drv"
}

# --- Inputs ---------------------------------------------------------------------------------------------

all_bytes=$(for ((i = 0; i < 256; i++)); do printf '\\x%02x' "$i"; done)
# Regular files: both flat and recursive.
files=(
    "hello.txt|file:hello\n"
    "empty|file:"
    "no-newline|file:no newline at the end"
    "bytes|file:$all_bytes"
    "big|repeat:5000:0123456789abcdefghijklmnopqrstuvwxyz\n"
    "run.sh|exec:#!/bin/sh\necho hi\n"
)
# Everything else: recursive only.
trees=(
    "link|link:hello.txt"
    "odd-link|link:../a b/caf\xc3\xa9\x3b"
    "empty-dir|dir:"
    "tree|tree:README=file:read me\n;bin/run=exec:#!/bin/sh\nexit 0\n;lib/empty=dir:;lib/up=link:../README;B=file:upper;a=file:lower;_=file:;.hidden=file:dot;a b=file:space\tand tab;caf\xc3\xa9=file:utf-8 name;x\x3dy=file:equals;\x3b=file:semicolon"
    "deep|tree:d1/d2/d3/d4/f=file:deep\n;d1/x=exec:;d1/d2/l=link:d3;d1/d2/d3/e=dir:"
)
# Names from every character class Guix allows (none starts with '.').
long_name=$(printf 'a%.0s' {1..100})$(printf 'Z9+-._?=%.0s' {1..13}) # 100 + 104 = 204 characters
names=(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ" "abcdefghijklmnopqrstuvwxyz" "0123456789" "+-._?=" "-leading-dash"
    "x" "trailing." "trailing-" "a=b?c+d_e" "_" "9lives" "hello-2.12.1" "$long_name"
)

: > "$lines"
for name in "${names[@]}"; do source_case "$name" "file:hello\n"; done
for spec in "${files[@]}" "${trees[@]}"; do source_case "${spec%%|*}" "${spec#*|}"; done
for algo in md5 sha1 sha256 sha512; do
    for spec in "${files[@]}"; do
        fixed_case "${spec%%|*}" "$algo" false "${spec#*|}"
        fixed_case "${spec%%|*}" "$algo" true "${spec#*|}"
    done
    for spec in "${trees[@]}"; do fixed_case "${spec%%|*}" "$algo" true "${spec#*|}"; done
done

hello_file=$(fresh)/hello.txt
printf 'hello\n' > "$hello_file"
text_recipe_case greeting "file:hello\n"
text_recipe_case empty "file:"
text_recipe_case utf-8 "file:caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\n"
text_recipe_case not-utf-8 "file:\xff\xfe\x80 bytes\n"
text_recipe_case "A-Z_09+x?=y.1" "file:names\n"
text_recipe_case "$long_name" "file:long\n"
text_case refs '"see ${builtins.toFile "greeting" "hello\n"}\n"'
text_case two-refs '"${builtins.toFile "b" "b"} then ${builtins.toFile "a" "a"}"'
text_case source-ref "\"src \${$hello_file} and \${builtins.toFile \"greeting\" \"hello\\n\"}\""

builder=$(fresh)/builder.sh
printf 'echo building\n' > "$builder"
derivation_case 'derivation { name = "foo"; builder = "/bin/sh"; system = "x86_64-linux"; args = [ "-c" "echo > $out" ]; }'
derivation_case 'derivation { name = "multi"; builder = "/bin/sh"; system = "x86_64-linux"; outputs = [ "out" "dev" "lib" ]; args = [ "-c" "echo \"q\" \\ x\ny\t> $out" ]; }'
derivation_case "derivation { name = \"with-src\"; builder = \"/bin/sh\"; system = \"x86_64-linux\"; outputs = [ \"bin\" \"out\" ]; args = [ \"-e\" $builder ]; extra = \"v=1?\"; }"
derivation_case 'derivation { name = "A-Z_09+x?=y.1"; builder = "/bin/sh"; system = "aarch64-linux"; outputs = [ "doc" "out" ]; }'

mkdir -p "$(dirname "$out")"
{
    echo "# Store paths computed by $(nix-store --version) for the store dir /gnu/store."
    echo "# Generated by scripts/store-path-vectors.sh (see its header for the columns and recipes); do not edit."
    printf '# kind\tname\talgo\trecursive\tinput\trefs\thash\tpath\n'
    cat "$lines"
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "$(wc -l < "$lines") cases written to $out"
